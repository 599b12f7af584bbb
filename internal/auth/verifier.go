package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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

// maxUserIDBytes bounds the user id that is stored, sent to Junction and
// turned into Junction's client_user_id.
const maxUserIDBytes = 255

var (
	errUnusableUserClaim = errors.New("unusable user claim")
	errTokenLivesTooLong = errors.New("token lifetime (exp - iat) exceeds the maximum")
	errEmptyToken        = errors.New("empty token")
	errTokenTooLong      = fmt.Errorf("token longer than %d bytes", maxTokenBytes)
	errHMACInJWKSMode    = errors.New("HMAC-signed token refused in JWKS mode")
	errNotHMAC           = errors.New("token is not HMAC-signed")
)

// Verifier checks bearer JWTs against the app's identity provider (JWKS
// mode) or a shared secret (HS256 mode). It is safe for concurrent use.
type Verifier struct {
	userClaim   string
	maxTokenAge time.Duration // negative: no cap
	leeway      time.Duration
	parser      *jwt.Parser
	keyfunc     func(ctx context.Context) jwt.Keyfunc
	jwks        *jwksKeys // nil in HS256 mode
	verified    *verifiedTokens
	now         func() time.Time // the parser's clock too; tests set it
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
	return newVerifier(ctx, cfg)
}

// newVerifier builds a Verifier from a cfg that withDefaults returned; tests
// call it to shorten intervals below what Config allows.
func newVerifier(ctx context.Context, cfg Config) (v *Verifier, err error) {
	v = &Verifier{
		userClaim:   cfg.UserClaim,
		maxTokenAge: cfg.MaxTokenAge,
		leeway:      cfg.Leeway,
		verified:    newVerifiedTokens(),
		now:         time.Now,
	}
	parserOptions := []jwt.ParserOption{
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
		jwt.WithValidMethods(cfg.Algorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
	}
	if cfg.Audience != "" {
		parserOptions = append(parserOptions, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(parserOptions...)

	if cfg.HS256Secret != "" {
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

	v.jwks, err = newJWKSKeys(ctx, cfg)
	if err != nil {
		return nil, err
	}
	lookup, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: v.jwks.client})
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
	return v, nil
}

// Verify checks token and returns the principal it names. Every failure is
// an *linking.Error with code Unauthenticated and the same generic message;
// the wrapped cause explains why and never contains the token. A token that
// passed is remembered (see verifiedTokens) and not verified again until
// it expires or maxVerifiedAge has passed.
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	switch {
	case token == "":
		return Principal{}, rejected(errEmptyToken)
	case len(token) > maxTokenBytes:
		return Principal{}, rejected(errTokenTooLong)
	}
	now := v.now()
	if p, ok := v.verified.get(token, now); ok {
		return p, nil
	}
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, claims, v.keyfunc(ctx)); err != nil {
		return Principal{}, rejected(err)
	}
	if err := v.checkLifetime(claims); err != nil {
		return Principal{}, rejected(err)
	}
	userID, err := v.userID(claims)
	if err != nil {
		return Principal{}, rejected(err)
	}
	p := Principal{UserID: userID}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil { // the parser requires exp
		p.ExpiresAt = exp.Time
		v.verified.add(token, p, exp.Add(v.leeway), now)
	}
	return p, nil
}

// checkLifetime refuses a token that lives longer than maxTokenAge, or
// whose lifetime cannot be told because it has no iat. The parser has
// already required exp and checked both claims' types.
func (v *Verifier) checkLifetime(claims jwt.MapClaims) error {
	if v.maxTokenAge < 0 {
		return nil
	}
	issuedAt, err := claims.GetIssuedAt()
	if err != nil {
		return err
	}
	if issuedAt == nil {
		return fmt.Errorf("%w: iat, needed to bound the token's lifetime", jwt.ErrTokenRequiredClaimMissing)
	}
	expiresAt, err := claims.GetExpirationTime()
	if err != nil || expiresAt == nil {
		return fmt.Errorf("%w: exp", jwt.ErrTokenRequiredClaimMissing)
	}
	// Sub saturates, so an exp centuries ahead still compares as too long.
	if lifetime := expiresAt.Sub(issuedAt.Time); lifetime > v.maxTokenAge {
		return fmt.Errorf("%w: %s > %s", errTokenLivesTooLong, lifetime, v.maxTokenAge)
	}
	return nil
}

// userID returns the user claim if it can serve as an id: it is stored (a
// NUL or an invalid byte fails in PostgreSQL), logged and sent to Junction.
// The reason for a refusal never quotes the value.
func (v *Verifier) userID(claims jwt.MapClaims) (string, error) {
	id, ok := claims[v.userClaim].(string)
	if !ok {
		return "", fmt.Errorf("%w: %q is missing or not a string", errUnusableUserClaim, v.userClaim)
	}
	var problem string
	switch {
	case len(id) > maxUserIDBytes:
		problem = fmt.Sprintf("is longer than %d bytes", maxUserIDBytes)
	case strings.TrimSpace(id) == "":
		problem = "is empty or blank"
	// encoding/json turns invalid UTF-8 and lone surrogates into U+FFFD, so
	// that rune is how a claim that was not valid UTF-8 shows after decoding.
	case !utf8.ValidString(id) || strings.ContainsRune(id, utf8.RuneError):
		problem = "is not valid UTF-8"
	case strings.ContainsFunc(id, unicode.IsControl):
		problem = "contains control characters"
	default:
		return id, nil
	}
	return "", fmt.Errorf("%w: %q %s", errUnusableUserClaim, v.userClaim, problem)
}

func rejected(reason error) *linking.Error {
	return linking.WrapError(linking.EUnauthenticated, reason, invalidTokenMessage)
}

// Ready reports whether tokens can be verified: always in HS256 mode, in JWKS
// mode once at least one key has been loaded.
func (v *Verifier) Ready(context.Context) error {
	if v.jwks == nil {
		return nil
	}
	if err := v.jwks.ready(); err != nil {
		return linking.WrapError(linking.EUpstreamUnavailable, err, "JWKS has no usable keys yet")
	}
	return nil
}
