package auth

import (
	"crypto/rand"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/linkbff/linkbff/internal/linking"
)

// devAudience is the aud of dev tokens, so they cannot pass for a real IdP's.
const devAudience = "linkbff-dev"

const (
	devKeyBytes     = 32
	maxDevTokenTTL  = 24 * time.Hour
	maxDevUserIDLen = 128
)

// DevIssuer signs HS256 tokens for any user id, for local development only:
// cmd/server constructs it in dev mode alone. Its key is random per process,
// so tokens die with the process.
type DevIssuer struct {
	issuer string
	ttl    time.Duration
	key    []byte
}

// NewDevIssuer returns an issuer whose tokens carry iss=issuer and live ttl.
func NewDevIssuer(issuer string, ttl time.Duration) (*DevIssuer, error) {
	if issuer == "" {
		return nil, errors.New("dev issuer: issuer is required")
	}
	if ttl <= 0 || ttl > maxDevTokenTTL {
		return nil, errors.New("dev issuer: token lifetime must be positive and at most 24h")
	}
	key := make([]byte, devKeyBytes)
	if _, err := rand.Read(key); err != nil {
		return nil, errors.New("dev issuer: no randomness for the signing key")
	}
	return &DevIssuer{issuer: issuer, ttl: ttl, key: key}, nil
}

// Issue signs a token for userID, which must be 1–128 characters of
// [A-Za-z0-9._@-]. expiresAt equals the token's exp claim.
func (d *DevIssuer) Issue(userID string) (token string, expiresAt time.Time, err error) {
	if !validDevUserID(userID) {
		return "", time.Time{}, linking.FieldErrorf("user", "user must be 1 to %d characters of A-Z, a-z, 0-9, '.', '_', '@' or '-'", maxDevUserIDLen)
	}
	// exp has second precision; truncating keeps expiresAt equal to it.
	now := time.Now().Truncate(time.Second)
	expiresAt = now.Add(d.ttl)
	claims := jwt.RegisteredClaims{
		Issuer:    d.issuer,
		Subject:   userID,
		Audience:  jwt.ClaimStrings{devAudience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(expiresAt),
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(d.key)
	if err != nil {
		return "", time.Time{}, linking.WrapError(linking.EInternal, err, "could not sign dev token")
	}
	return token, expiresAt, nil
}

// Config returns the HS256 Config that verifies this issuer's tokens.
func (d *DevIssuer) Config() Config {
	return Config{
		HS256Secret: string(d.key),
		Issuer:      d.issuer,
		Audience:    devAudience,
	}
}

func validDevUserID(userID string) bool {
	if len(userID) == 0 || len(userID) > maxDevUserIDLen {
		return false
	}
	for _, c := range []byte(userID) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == '@', c == '-':
		default:
			return false
		}
	}
	return true
}
