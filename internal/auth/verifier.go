package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/linkbff/linkbff/internal/linking"
)

// maxTokenBytes caps what we parse: real JWTs are well under 2 KiB, and the
// cap keeps oversized headers from costing base64 and JSON work.
const maxTokenBytes = 8 << 10

// invalidTokenMessage is the only thing a caller learns about a rejected
// token; the reason goes to the wrapped error, for logs.
const invalidTokenMessage = "invalid or expired token"

var (
	errEmptyToken     = errors.New("empty token")
	errTokenTooLong   = fmt.Errorf("token longer than %d bytes", maxTokenBytes)
	errHMACInJWKSMode = errors.New("HMAC-signed token refused in JWKS mode")
	errNotHMAC        = errors.New("token is not HMAC-signed")
)

// Verifier checks bearer JWTs against the app's identity provider (JWKS
// mode) or a shared secret (HS256 mode). It is safe for concurrent use.
type Verifier struct {
	mode      string
	userClaim string
	parser    *jwt.Parser
	keyfunc   func(ctx context.Context) jwt.Keyfunc
	keys      *remoteKeySet // nil in HS256 mode
}

// NewVerifier validates cfg and builds a Verifier. In JWKS mode it fetches
// the key set once (bounded by the HTTP timeout) and keeps it fresh in the
// background until ctx ends; an unreachable JWKS does not fail construction
// but is reported by Ready.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	parserOptions := []jwt.ParserOption{
		jwt.WithValidMethods(cfg.Algorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
	}
	if cfg.Audience != "" {
		parserOptions = append(parserOptions, jwt.WithAudience(cfg.Audience))
	}
	v := &Verifier{
		userClaim: cfg.UserClaim,
		parser:    jwt.NewParser(parserOptions...),
	}

	if cfg.HS256Secret != "" {
		v.mode = modeHS256
		secret := []byte(cfg.HS256Secret)
		v.keyfunc = func(context.Context) jwt.Keyfunc {
			return func(token *jwt.Token) (any, error) {
				if _, ok := token.Method.(*jwt.SigningMethodHMAC); !ok {
					return nil, errNotHMAC
				}
				return secret, nil
			}
		}
		return v, nil
	}

	v.mode = modeJWKS
	v.keys = newRemoteKeySet(ctx, cfg)
	lookup, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: v.keys})
	if err != nil {
		return nil, fmt.Errorf("auth: build JWKS key lookup: %w", err)
	}
	v.keyfunc = func(ctx context.Context) jwt.Keyfunc {
		lookupCtx := lookup.KeyfuncCtx(ctx)
		return func(token *jwt.Token) (any, error) {
			// Already excluded by the allowlist; refused again here because
			// a public key used as an HMAC secret is the classic forgery.
			if _, isHMAC := token.Method.(*jwt.SigningMethodHMAC); isHMAC {
				return nil, errHMACInJWKSMode
			}
			return lookupCtx(token)
		}
	}
	_, initialErr := v.keys.refresh(ctx, false)
	go v.keys.keepFresh(cfg.JWKSRefreshInterval, initialErr != nil)
	return v, nil
}

// Verify checks token and returns the principal it names. Every failure is
// an *linking.Error with code Unauthenticated and the same generic message;
// the wrapped cause explains why and never contains the token.
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	switch {
	case token == "":
		return Principal{}, rejected(errEmptyToken)
	case len(token) > maxTokenBytes:
		return Principal{}, rejected(errTokenTooLong)
	}
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, claims, v.keyfunc(ctx)); err != nil {
		return Principal{}, rejected(err)
	}
	userID, ok := claims[v.userClaim].(string)
	if !ok || userID == "" {
		return Principal{}, rejected(fmt.Errorf("claim %q is missing, empty or not a string", v.userClaim))
	}
	issuer, _ := claims.GetIssuer()
	return Principal{UserID: userID, Issuer: issuer}, nil
}

func rejected(reason error) *linking.Error {
	return linking.WrapError(linking.EUnauthenticated, reason, invalidTokenMessage)
}

// Ready reports whether tokens can be verified: always in HS256 mode, in JWKS
// mode once at least one key has been loaded.
func (v *Verifier) Ready(ctx context.Context) error {
	if v.keys == nil {
		return nil
	}
	loaded, lastErr := v.keys.hasKeys(ctx)
	if loaded {
		return nil
	}
	return linking.WrapError(linking.EUpstreamUnavailable, lastErr, "JWKS has no usable keys yet")
}

// Mode is "jwks" or "hs256", for the startup log.
func (v *Verifier) Mode() string { return v.mode }
