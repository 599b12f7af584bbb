// Package config reads linkbff's configuration from environment variables:
// one struct, defaults, validation at startup and a String() that masks
// secrets so the whole config can be logged.
package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/linkbff/linkbff/internal/ratelimit"
)

// Mode says whether linkbff talks to the real Junction or runs on its
// embedded default (emulator, dev sign-in, SQLite).
type Mode string

const (
	ModeDev        Mode = "dev"
	ModeProduction Mode = "production"
)

// Config is everything linkbff can be told. Secrets are tagged in Vars and
// never printed.
type Config struct {
	Mode Mode

	ListenAddr  string
	PublicURL   string // no trailing slash
	DatabaseURL string
	ServeDemo   bool

	JunctionAPIKey        string
	JunctionEnv           string
	JunctionRegion        string
	JunctionBaseURL       string
	JunctionWebhookSecret string

	AuthJWKSURL     string
	AuthHS256Secret string
	AuthIssuer      string
	AuthAudience    string
	AuthAlgorithms  []string
	AuthUserClaim   string
	AuthLeeway      time.Duration

	CORSAllowedOrigins []string
	AllowedReturnURLs  []string
	ProvidersAllowlist []string

	RedisURL           string
	TrustedProxyHeader string
	RateLimitUser      ratelimit.Limit
	RateLimitIP        ratelimit.Limit

	LogLevel  string
	LogFormat string
}

// Var documents one environment variable.
type Var struct {
	Name    string
	Default string
	Secret  bool
	Help    string
}

// Vars lists every variable linkbff reads, in the order `server -h` prints
// them. The README's table mirrors it (a test checks).
var Vars = []Var{
	{Name: "LISTEN_ADDR", Default: "127.0.0.1:8080 in dev mode, :8080 otherwise", Help: "host:port to listen on"},
	{Name: "ALLOW_NETWORK_DEV_MODE", Default: "false", Help: "allow dev mode (no JUNCTION_API_KEY) on a non-loopback LISTEN_ADDR, e.g. in a local container"},
	{Name: "PUBLIC_URL", Default: "http://<LISTEN_ADDR> in dev mode; required otherwise", Help: "external base URL of linkbff; Junction redirects browsers to {PUBLIC_URL}/link/callback/…"},
	{Name: "DATABASE_URL", Default: "sqlite:linkbff.db", Help: "sqlite:<file> or postgres://… (PostgreSQL when several replicas run)"},
	{Name: "SERVE_DEMO", Default: "true in dev mode, false otherwise", Help: "serve the demo page at /"},
	{Name: "JUNCTION_API_KEY", Secret: true, Help: "Junction team API key; unset = dev mode with the built-in emulator"},
	{Name: "JUNCTION_ENV", Default: "sandbox", Help: "sandbox | production"},
	{Name: "JUNCTION_REGION", Default: "us", Help: "us | eu"},
	{Name: "JUNCTION_BASE_URL", Help: "overrides JUNCTION_ENV/JUNCTION_REGION, e.g. a local emulator"},
	{Name: "JUNCTION_WEBHOOK_SECRET", Secret: true, Help: "Svix signing secret (whsec_…); enables POST /webhooks/junction (generated in dev mode)"},
	{Name: "AUTH_JWKS_URL", Help: "JWKS of your identity provider (Auth0, Clerk, Supabase, Cognito…)"},
	{Name: "AUTH_HS256_SECRET", Secret: true, Help: "shared HS256 secret, at least 32 bytes (instead of AUTH_JWKS_URL)"},
	{Name: "AUTH_ISSUER", Help: "required iss claim (required in production mode)"},
	{Name: "AUTH_AUDIENCE", Help: "required aud claim, checked when set"},
	{Name: "AUTH_ALGORITHMS", Default: "RS256,ES256,EdDSA (JWKS) or HS256", Help: "comma-separated allowlist of JWT algorithms"},
	{Name: "AUTH_USER_CLAIM", Default: "sub", Help: "claim holding your app's user id"},
	{Name: "AUTH_LEEWAY", Default: "30s", Help: "clock skew allowed on exp/nbf/iat, at most 60s"},
	{Name: "CORS_ALLOWED_ORIGINS", Help: "comma-separated exact origins allowed to call /v1 from a browser"},
	{Name: "ALLOWED_RETURN_URLS", Default: "PUBLIC_URL's origin in dev mode", Help: "comma-separated return_to allowlist: https://origin (exact origin) or myapp://prefix (deep links)"},
	{Name: "PROVIDERS_ALLOWLIST", Help: "comma-separated provider slugs your app offers; empty = all"},
	{Name: "REDIS_URL", Secret: true, Help: "redis://… to share rate limits across replicas; empty = in memory"},
	{Name: "TRUSTED_PROXY_HEADER", Help: "header your load balancer sets to the client IP (e.g. X-Real-IP); empty = the connection's address"},
	{Name: "RATE_LIMIT_USER", Default: "20/min", Help: "per-user limit on token, OAuth and sign-in token requests (off to disable)"},
	{Name: "RATE_LIMIT_IP", Default: "120/min", Help: "per-IP limit on the callback and webhook routes (off to disable)"},
	{Name: "LOG_LEVEL", Default: "info", Help: "debug | info | warn | error"},
	{Name: "LOG_FORMAT", Default: "json", Help: "json | console"},
}

// PrintUsage writes the variable table for `server -h`.
func PrintUsage(w io.Writer) {
	fmt.Fprintln(w, "linkbff: backend-for-frontend for Junction Link.")
	fmt.Fprintln(w, "\nUsage: server [-h]\n\nConfiguration comes from environment variables:")
	for _, v := range Vars {
		def := v.Default
		if def == "" {
			def = "(unset)"
		}
		secret := ""
		if v.Secret {
			secret = " [secret]"
		}
		fmt.Fprintf(w, "  %-24s %s%s\n  %-24s default: %s\n", v.Name, v.Help, secret, "", def)
	}
	fmt.Fprintln(w, "\nWith JUNCTION_API_KEY unset linkbff runs in dev mode: a built-in Junction emulator,")
	fmt.Fprintln(w, "a dev sign-in at POST /_dev/token and a SQLite file, listening on 127.0.0.1 only.")
}

// Load reads and validates the configuration. Every problem is reported at
// once, each naming its variable.
func Load(getenv func(string) string) (Config, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }

	c := Config{
		JunctionAPIKey:        get("JUNCTION_API_KEY"),
		JunctionEnv:           orDefault(get("JUNCTION_ENV"), "sandbox"),
		JunctionRegion:        orDefault(get("JUNCTION_REGION"), "us"),
		JunctionBaseURL:       strings.TrimRight(get("JUNCTION_BASE_URL"), "/"),
		JunctionWebhookSecret: get("JUNCTION_WEBHOOK_SECRET"),
		AuthJWKSURL:           get("AUTH_JWKS_URL"),
		AuthHS256Secret:       getenv("AUTH_HS256_SECRET"), // secrets are taken byte for byte
		AuthIssuer:            get("AUTH_ISSUER"),
		AuthAudience:          get("AUTH_AUDIENCE"),
		AuthAlgorithms:        splitList(get("AUTH_ALGORITHMS")),
		AuthUserClaim:         orDefault(get("AUTH_USER_CLAIM"), "sub"),
		CORSAllowedOrigins:    splitList(get("CORS_ALLOWED_ORIGINS")),
		AllowedReturnURLs:     splitList(get("ALLOWED_RETURN_URLS")),
		ProvidersAllowlist:    splitList(get("PROVIDERS_ALLOWLIST")),
		RedisURL:              get("REDIS_URL"),
		TrustedProxyHeader:    get("TRUSTED_PROXY_HEADER"),
		LogLevel:              orDefault(strings.ToLower(get("LOG_LEVEL")), "info"),
		LogFormat:             orDefault(strings.ToLower(get("LOG_FORMAT")), "json"),
		DatabaseURL:           orDefault(get("DATABASE_URL"), "sqlite:linkbff.db"),
	}
	c.Mode = ModeProduction
	if c.JunctionAPIKey == "" {
		c.Mode = ModeDev
	}

	c.ListenAddr = get("LISTEN_ADDR")
	if c.ListenAddr == "" {
		c.ListenAddr = ":8080"
		if c.Mode == ModeDev {
			c.ListenAddr = "127.0.0.1:8080"
		}
	}
	if host, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		bad("LISTEN_ADDR %q is not host:port", c.ListenAddr)
	} else if c.Mode == ModeDev && !isLoopback(host) && !isTrue(get("ALLOW_NETWORK_DEV_MODE")) {
		// An empty JUNCTION_API_KEY (say, a missing Kubernetes secret) must
		// not turn a deployment into an emulator with an open dev sign-in.
		bad("JUNCTION_API_KEY is not set, so linkbff would run in dev mode (emulator, dev sign-in for anyone) on the non-loopback LISTEN_ADDR %s: set JUNCTION_API_KEY, or ALLOW_NETWORK_DEV_MODE=true if that is what you want (e.g. in a local container)", c.ListenAddr)
	}

	c.PublicURL = strings.TrimRight(get("PUBLIC_URL"), "/")
	if c.PublicURL != "" {
		if err := checkBaseURL(c.PublicURL); err != nil {
			bad("PUBLIC_URL %v", err)
		}
	} else if c.Mode == ModeProduction {
		bad("PUBLIC_URL is required when JUNCTION_API_KEY is set (the external URL Junction redirects users back to)")
	}

	serveDemo := get("SERVE_DEMO")
	switch strings.ToLower(serveDemo) {
	case "":
		c.ServeDemo = c.Mode == ModeDev
	case "true", "1", "yes":
		c.ServeDemo = true
	case "false", "0", "no":
	default:
		bad("SERVE_DEMO %q must be true or false", serveDemo)
	}

	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("DATABASE_URL must start with sqlite: or postgres:// (got scheme %q)", schemeOf(c.DatabaseURL))
	}

	if c.JunctionEnv != "sandbox" && c.JunctionEnv != "production" {
		bad("JUNCTION_ENV %q must be sandbox or production", c.JunctionEnv)
	}
	if c.JunctionRegion != "us" && c.JunctionRegion != "eu" {
		bad("JUNCTION_REGION %q must be us or eu", c.JunctionRegion)
	}
	if c.JunctionBaseURL != "" {
		if c.Mode == ModeDev {
			bad("JUNCTION_BASE_URL is set but JUNCTION_API_KEY is not: set the key of that Junction (or emulator) too")
		} else if err := checkBaseURL(c.JunctionBaseURL); err != nil {
			bad("JUNCTION_BASE_URL %v", err)
		}
	}
	if want := keyEnvironment(c.JunctionAPIKey); want != "" && c.JunctionBaseURL == "" {
		// A sandbox key against production (or us against eu) fails with a
		// bare 401 at the first request; say so at startup instead.
		if got := c.JunctionEnv + "/" + c.JunctionRegion; got != want {
			bad("JUNCTION_API_KEY is a %s key but JUNCTION_ENV/JUNCTION_REGION say %s", want, got)
		}
	}
	if c.JunctionWebhookSecret != "" && !strings.HasPrefix(c.JunctionWebhookSecret, "whsec_") {
		bad("JUNCTION_WEBHOOK_SECRET must start with whsec_ (copy it from Junction's webhook settings)")
	}

	leeway := orDefault(get("AUTH_LEEWAY"), "30s")
	if d, err := time.ParseDuration(leeway); err != nil {
		bad("AUTH_LEEWAY %q is not a duration such as 30s", leeway)
	} else if d < 0 || d > 60*time.Second {
		bad("AUTH_LEEWAY %s must be between 0s and 60s", d)
	} else {
		c.AuthLeeway = d
	}
	c.checkAuth(bad)

	for _, o := range c.CORSAllowedOrigins {
		if o == "*" {
			bad("CORS_ALLOWED_ORIGINS must list exact origins, not *")
		} else if err := checkOrigin(o); err != nil {
			bad("CORS_ALLOWED_ORIGINS entry %q %v", o, err)
		}
	}

	var err error
	if c.RateLimitUser, err = ratelimit.ParseLimit(orDefault(get("RATE_LIMIT_USER"), "20/min")); err != nil {
		bad("RATE_LIMIT_USER: %v", err)
	}
	if c.RateLimitIP, err = ratelimit.ParseLimit(orDefault(get("RATE_LIMIT_IP"), "120/min")); err != nil {
		bad("RATE_LIMIT_IP: %v", err)
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		bad("REDIS_URL must start with redis:// or rediss://")
	}
	if h := c.TrustedProxyHeader; h != "" && strings.ContainsAny(h, " :\t") {
		bad("TRUSTED_PROXY_HEADER %q is not a header name", h)
	}

	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("LOG_LEVEL %q must be debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "json" && c.LogFormat != "console" {
		bad("LOG_FORMAT %q must be json or console", c.LogFormat)
	}

	if len(problems) > 0 {
		return Config{}, errors.New("invalid configuration:\n  - " + strings.Join(problems, "\n  - "))
	}
	return c, nil
}

func (c *Config) checkAuth(bad func(string, ...any)) {
	if c.Mode == ModeDev {
		// Dev mode signs its own tokens; an identity provider may still be
		// configured to try it against the emulator.
		if c.AuthJWKSURL == "" && c.AuthHS256Secret == "" {
			return
		}
	}
	switch {
	case c.AuthJWKSURL == "" && c.AuthHS256Secret == "":
		bad("AUTH_JWKS_URL or AUTH_HS256_SECRET is required when JUNCTION_API_KEY is set (how linkbff verifies your users' JWTs)")
	case c.AuthJWKSURL != "" && c.AuthHS256Secret != "":
		bad("set only one of AUTH_JWKS_URL and AUTH_HS256_SECRET")
	case c.AuthHS256Secret != "" && len(c.AuthHS256Secret) < 32:
		bad("AUTH_HS256_SECRET must be at least 32 bytes (it has %d)", len(c.AuthHS256Secret))
	case c.AuthJWKSURL != "":
		if err := checkBaseURL(c.AuthJWKSURL); err != nil {
			bad("AUTH_JWKS_URL %v", err)
		}
	}
	if c.AuthIssuer == "" {
		bad("AUTH_ISSUER is required with AUTH_JWKS_URL or AUTH_HS256_SECRET (the iss claim your identity provider puts in tokens)")
	}
}

// keyEnvironment tells "sandbox/us" etc. from Junction's key prefixes
// (sk_ sandbox, pk_ production), or "" for a key of another shape.
func keyEnvironment(key string) string {
	kind, rest, _ := strings.Cut(key, "_")
	region, _, _ := strings.Cut(rest, "_")
	if region != "us" && region != "eu" {
		return ""
	}
	switch kind {
	case "sk":
		return "sandbox/" + region
	case "pk":
		return "production/" + region
	}
	return ""
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "true", "1", "yes":
		return true
	}
	return false
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func schemeOf(raw string) string {
	if i := strings.Index(raw, ":"); i > 0 {
		return raw[:i]
	}
	return ""
}

func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an absolute http(s) URL")
	}
	if u.User != nil {
		return errors.New("must not contain credentials")
	}
	return nil
}

func checkOrigin(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return errors.New("must be an origin like https://app.example.com")
	}
	return nil
}

// String renders the config for the startup log with secrets masked.
func (c Config) String() string {
	fields := map[string]string{
		"mode":                    string(c.Mode),
		"LISTEN_ADDR":             c.ListenAddr,
		"PUBLIC_URL":              c.PublicURL,
		"DATABASE_URL":            MaskURL(c.DatabaseURL),
		"JUNCTION_API_KEY":        mask(c.JunctionAPIKey),
		"JUNCTION_ENV":            c.JunctionEnv,
		"JUNCTION_REGION":         c.JunctionRegion,
		"JUNCTION_BASE_URL":       MaskURL(c.JunctionBaseURL),
		"JUNCTION_WEBHOOK_SECRET": mask(c.JunctionWebhookSecret),
		"AUTH_JWKS_URL":           MaskURL(c.AuthJWKSURL),
		"AUTH_HS256_SECRET":       mask(c.AuthHS256Secret),
		"AUTH_ISSUER":             c.AuthIssuer,
		"AUTH_AUDIENCE":           c.AuthAudience,
		"AUTH_USER_CLAIM":         c.AuthUserClaim,
		"CORS_ALLOWED_ORIGINS":    strings.Join(c.CORSAllowedOrigins, ","),
		"ALLOWED_RETURN_URLS":     strings.Join(c.AllowedReturnURLs, ","),
		"PROVIDERS_ALLOWLIST":     strings.Join(c.ProvidersAllowlist, ","),
		"REDIS_URL":               mask(c.RedisURL),
		"TRUSTED_PROXY_HEADER":    c.TrustedProxyHeader,
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s ", k, fields[k])
	}
	return strings.TrimSpace(b.String())
}

func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return "***"
}

// MaskURL hides the credentials of a connection URL: the password in the
// userinfo and password-like query parameters. A URL it cannot parse is not
// shown at all, since it might be nothing but a secret.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL>"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "***")
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for key := range q {
			switch strings.ToLower(key) {
			case "password", "sslpassword", "sslkey", "sig", "signature", "token", "key", "secret":
				q.Set(key, "***")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}
