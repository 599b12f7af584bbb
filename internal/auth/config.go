package auth

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Config selects how tokens are verified: against a JWKS (JWKSURL) or with a
// shared secret (HS256Secret). Exactly one of the two must be set.
type Config struct {
	// JWKSURL selects JWKS mode: asymmetric algorithms, keys fetched from the
	// identity provider. Must be https (http only for loopback hosts).
	JWKSURL string
	// HS256Secret selects HS256 mode; at least 32 bytes.
	HS256Secret string
	// Issuer is required; a token's iss must equal it.
	Issuer string
	// Audience, when set, must be among a token's aud values, so tokens minted
	// for another API are refused. Empty skips the check; whether that is
	// allowed is the deployment config's decision, not this package's.
	Audience string
	// Algorithms is the allowlist of token algs. Default: RS256, ES256 and
	// EdDSA in JWKS mode, HS256 in HS256 mode. "none" is never allowed, and HS*
	// is refused in JWKS mode (algorithm confusion).
	Algorithms []string
	// UserClaim names the claim holding the app user id; default "sub". Its
	// value must be a string of 1 to 255 bytes of valid UTF-8, not blank and
	// without control characters.
	UserClaim string
	// Leeway tolerates clock skew on exp, nbf and iat; zero means 30s, max 60s.
	Leeway time.Duration
	// MaxTokenAge caps a token's lifetime, exp minus iat, so a stolen token
	// or one minted for years cannot be replayed for long. While it applies,
	// a token without iat is refused: its lifetime cannot be told. Zero means
	// 24h; NoMaxTokenAge (any negative value) turns the cap off, and then iat
	// is optional.
	MaxTokenAge time.Duration
	// HTTPClient fetches the JWKS; default has a 10s timeout. Its timeout
	// (10s if unset) also bounds how long a token with an unknown kid may
	// wait for a refresh, within the request's own deadline.
	HTTPClient *http.Client
	// JWKSRefreshInterval is how often the JWKS is refetched; default 1h, min 1m.
	JWKSRefreshInterval time.Duration
	// JWKSUnknownKIDRateLimit is the minimum interval between JWKS fetches
	// triggered by tokens whose kid is unknown (key rotation); default 30s.
	JWKSUnknownKIDRateLimit time.Duration
}

// NoMaxTokenAge, as Config.MaxTokenAge, accepts tokens of any lifetime.
const NoMaxTokenAge time.Duration = -1

const (
	defaultMaxTokenAge             = 24 * time.Hour
	minHS256SecretBytes            = 32
	defaultLeeway                  = 30 * time.Second
	maxLeeway                      = 60 * time.Second
	defaultUserClaim               = "sub"
	defaultJWKSFetchTimeout        = 10 * time.Second
	defaultJWKSRefreshInterval     = time.Hour
	minJWKSRefreshInterval         = time.Minute
	defaultJWKSUnknownKIDRateLimit = 30 * time.Second
	minJWKSUnknownKIDRateLimit     = time.Second
)

// Only asymmetric algorithms can be verified against a public JWKS; an HMAC
// alg there would let a caller sign with the public key as the secret.
var (
	jwksAlgorithms        = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	hmacAlgorithms        = []string{"HS256", "HS384", "HS512"}
	defaultJWKSAlgorithms = []string{"RS256", "ES256", "EdDSA"}
	defaultHMACAlgorithms = []string{"HS256"}
)

// ConfigError says which Config field is wrong and why.
type ConfigError struct {
	Field   string // the Config field's name, e.g. "HS256Secret"
	Problem string // what is wrong, in words that follow the field's name
}

func (e *ConfigError) Error() string { return "auth config: " + e.Field + " " + e.Problem }

func configErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Validate reports the first problem of cfg as a *ConfigError.
func (cfg Config) Validate() error {
	_, err := cfg.withDefaults()
	return err
}

// withDefaults validates cfg and returns it with defaults filled in. Error
// messages name the setting at fault, never its secret value or the URL.
func (cfg Config) withDefaults() (Config, error) {
	hasJWKS, hasSecret := cfg.JWKSURL != "", cfg.HS256Secret != ""
	switch {
	case hasJWKS && hasSecret:
		return cfg, configErr("HS256Secret", "must not be set together with a JWKS URL: set one of the two, not both")
	case !hasJWKS && !hasSecret:
		return cfg, configErr("JWKSURL", "(or an HS256 secret) is required")
	}
	if strings.TrimSpace(cfg.Issuer) == "" {
		return cfg, configErr("Issuer", "is required (the iss claim your identity provider puts in tokens)")
	}
	if hasSecret && len(cfg.HS256Secret) < minHS256SecretBytes {
		return cfg, configErr("HS256Secret", "must be at least %d bytes", minHS256SecretBytes)
	}
	if hasJWKS {
		if err := validateJWKSURL(cfg.JWKSURL); err != nil {
			return cfg, err
		}
	}

	algorithms, err := allowedAlgorithms(cfg.Algorithms, hasJWKS)
	if err != nil {
		return cfg, err
	}
	cfg.Algorithms = algorithms

	if cfg.UserClaim == "" {
		cfg.UserClaim = defaultUserClaim
	}
	switch {
	case cfg.Leeway < 0:
		return cfg, configErr("Leeway", "must not be negative")
	case cfg.Leeway == 0:
		cfg.Leeway = defaultLeeway
	case cfg.Leeway > maxLeeway:
		return cfg, configErr("Leeway", "%s exceeds the maximum of %s", cfg.Leeway, maxLeeway)
	}
	switch {
	case cfg.MaxTokenAge == 0:
		cfg.MaxTokenAge = defaultMaxTokenAge
	case cfg.MaxTokenAge < 0:
		cfg.MaxTokenAge = NoMaxTokenAge
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultJWKSFetchTimeout}
	}
	switch {
	case cfg.JWKSRefreshInterval == 0:
		cfg.JWKSRefreshInterval = defaultJWKSRefreshInterval
	case cfg.JWKSRefreshInterval < minJWKSRefreshInterval:
		return cfg, configErr("JWKSRefreshInterval", "must be at least %s", minJWKSRefreshInterval)
	}
	switch {
	case cfg.JWKSUnknownKIDRateLimit == 0:
		cfg.JWKSUnknownKIDRateLimit = defaultJWKSUnknownKIDRateLimit
	case cfg.JWKSUnknownKIDRateLimit < minJWKSUnknownKIDRateLimit:
		return cfg, configErr("JWKSUnknownKIDRateLimit", "must be at least %s", minJWKSUnknownKIDRateLimit)
	}
	return cfg, nil
}

func allowedAlgorithms(requested []string, jwksMode bool) ([]string, error) {
	if len(requested) == 0 {
		if jwksMode {
			return slices.Clone(defaultJWKSAlgorithms), nil
		}
		return slices.Clone(defaultHMACAlgorithms), nil
	}
	supported, mode := hmacAlgorithms, "HS256"
	if jwksMode {
		supported, mode = jwksAlgorithms, "JWKS"
	}
	for _, alg := range requested {
		switch {
		case strings.EqualFold(alg, "none"):
			return nil, configErr("Algorithms", `"none" is never allowed`)
		case jwksMode && slices.Contains(hmacAlgorithms, strings.ToUpper(alg)):
			return nil, configErr("Algorithms", "%q is not allowed in JWKS mode (HMAC with a public key set enables algorithm confusion)", alg)
		case !slices.Contains(supported, alg):
			return nil, configErr("Algorithms", "%q is not supported in %s mode (supported: %s)", alg, mode, strings.Join(supported, ", "))
		}
	}
	return slices.Clone(requested), nil
}

// validateJWKSURL insists on https so keys cannot be swapped in transit;
// plain http is tolerated for loopback (local IdPs, tests).
func validateJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return configErr("JWKSURL", "must be an absolute http(s) URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopbackHost(u.Hostname()) {
			return nil
		}
		return configErr("JWKSURL", "must use https (http is allowed only for loopback hosts)")
	default:
		return configErr("JWKSURL", "must be an absolute http(s) URL")
	}
}

// IsLoopbackHost reports whether host (a name or an IP, without port) is
// this machine only: where plain http and dev mode are safe.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
