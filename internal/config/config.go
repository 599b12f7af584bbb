// Package config reads linkbff's configuration from environment variables.
// One table (settings) names each variable once, with its default, its help
// text, whether it is secret, and its parser; Load, `server -h` and the
// masked startup log all read that table. Load returns fully checked, typed
// values, or every problem at once.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/forward"
	"github.com/linkbff/linkbff/internal/junction"
	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/ratelimit"
)

// Config is everything linkbff can be told, checked.
type Config struct {
	ListenAddr string
	// PublicURL is linkbff's external base URL without a trailing slash; ""
	// in dev mode means "derive it from the listener" (see PublicURLFor).
	PublicURL   string
	DatabaseURL string
	ServeDemo   bool
	Dev         Dev

	Junction Junction
	// Auth verifies the app's JWTs; unused when Dev.SignIn is set.
	Auth auth.Config

	// ClientUserNamespace scopes the client_user_ids of new Junction users.
	ClientUserNamespace uuid.UUID

	CORSAllowedOrigins []string
	ReturnURLs         *linking.ReturnPolicy
	Providers          linking.ProviderAllowlist

	RedisURL           string
	TrustedProxyHeader string
	RateLimitUser      ratelimit.Limit
	RateLimitIP        ratelimit.Limit

	LogLevel  string
	LogFormat string
	// DebugAddr, when set, is a loopback host:port serving net/http/pprof.
	DebugAddr string

	// MetricsAddr is the separate listener Prometheus scrapes; "" = off.
	MetricsAddr string
	Tracing     Tracing

	// Forwarding sends events to the app's backend; off when its URL is "".
	Forwarding Forwarding
	// Streams bound the live event streams (GET /v1/events).
	Streams Streams
	// EventRetention is how long events are kept for streams to resume
	// from and for the admin API (those pending delivery stay longer).
	EventRetention time.Duration
	// AdminAPIKey opens /admin/v1 to the app's backend; "" leaves it off.
	AdminAPIKey string

	// Warnings are settings that work but deserve the operator's eye; run
	// logs them at startup.
	Warnings []string

	shown       []shownSetting // for String: each variable, masked
	anyAudience bool           // AUTH_AUDIENCE=none
}

// Dev is the embedded default, on when JUNCTION_API_KEY is unset: Junction
// is the built-in emulator, and (with no AUTH_* set) a dev sign-in mints
// tokens for anyone, so dev mode stays on loopback unless AllowNetwork.
type Dev struct {
	Enabled      bool
	SignIn       bool
	AllowNetwork bool
}

// Junction is how linkbff reaches Junction.
type Junction struct {
	APIKey string
	Env    string // sandbox | production
	Region string // us | eu
	// BaseURL is JUNCTION_BASE_URL, or the one JUNCTION_ENV/REGION name;
	// "" in dev mode (the emulator's URL follows the listener).
	BaseURL       string
	WebhookSecret string
	// RetryBackoff is the first delay before retrying Junction's 429, 5xx
	// and timeouts; it doubles per retry.
	RetryBackoff time.Duration
}

// Forwarding is how events reach the app's backend.
type Forwarding struct {
	URL    string // "" = off
	Secret string // whsec_…, signs every delivery
	// Events are the forwarded event types; nil when forwarding is off.
	Events   *linking.EventFilter
	Schedule []time.Duration // the wait after each failed attempt
	Timeout  time.Duration   // for the backend's 2xx
}

// Streams bound the live event streams.
type Streams struct {
	PerUser, Total int
	Heartbeat      time.Duration // a comment line this often keeps proxies from closing an idle stream
	IdleTimeout    time.Duration // a stream with no event this long is closed; its client reconnects
}

// Tracing is where OpenTelemetry traces go; off when Endpoint is "".
type Tracing struct {
	// Endpoint is the collector's OTLP/HTTP base URL; traces go to
	// {Endpoint}/v1/traces.
	Endpoint    string
	Headers     map[string]string
	ServiceName string
}

// setting is one environment variable.
type setting struct {
	name string
	// def is the value used when the variable is unset or blank; note
	// describes a default that depends on other settings instead.
	def, note string
	help      string
	secret    bool // never printed
	url       bool // printed with its credentials masked
	// parse sets the variable's value v (trimmed, default applied) on c.
	// Secrets are taken byte for byte.
	parse func(c *Config, v string) error
}

// settings lists every variable linkbff reads, in the order `server -h`
// prints them. JUNCTION_API_KEY comes first: it decides dev mode, which
// other defaults follow.
var settings = []setting{
	{name: "JUNCTION_API_KEY", secret: true, help: "Junction team API key; unset = dev mode with the built-in emulator",
		parse: func(c *Config, v string) error {
			c.Junction.APIKey, c.Dev.Enabled = v, v == ""
			if strings.ContainsFunc(v, isSpaceOrControl) {
				return errors.New("contains whitespace or control characters")
			}
			return nil
		}},
	{name: "JUNCTION_ENV", def: "sandbox", help: "sandbox | production",
		parse: func(c *Config, v string) error { c.Junction.Env = v; return oneOf(v, "sandbox", "production") }},
	{name: "JUNCTION_REGION", def: "us", help: "us | eu",
		parse: func(c *Config, v string) error { c.Junction.Region = v; return oneOf(v, "us", "eu") }},
	{name: "JUNCTION_BASE_URL", url: true, help: "overrides JUNCTION_ENV/JUNCTION_REGION, e.g. a local emulator",
		parse: func(c *Config, v string) error {
			c.Junction.BaseURL = strings.TrimRight(v, "/")
			if v == "" {
				return nil
			}
			if c.Dev.Enabled {
				return errors.New("is set but JUNCTION_API_KEY is not: set the key of that Junction (or emulator) too")
			}
			return checkBaseURL(v)
		}},
	{name: "JUNCTION_RETRY_BACKOFF", def: "1s", help: "first delay before retrying Junction's 429, 5xx and timeouts (doubled per retry, at most 3 retries, never past the request's deadline); Junction's Retry-After wins",
		parse: func(c *Config, v string) (err error) {
			c.Junction.RetryBackoff, err = parseDuration(v, time.Millisecond, 10*time.Second)
			return err
		}},
	{name: "JUNCTION_WEBHOOK_SECRET", secret: true, help: "Svix signing secret (whsec_…); enables POST /webhooks/junction (generated in dev mode)",
		parse: func(c *Config, v string) error {
			c.Junction.WebhookSecret = v
			if v != "" && !strings.HasPrefix(v, "whsec_") {
				return errors.New("must start with whsec_ (copy it from Junction's webhook settings)")
			}
			return nil
		}},
	{name: "JUNCTION_CLIENT_USER_ID_NAMESPACE", def: linking.LegacyClientUserNamespace.String(),
		help: "UUID scoping the client_user_id of each new Junction user: UUIDv5(namespace, AUTH_ISSUER + \"\\n\" + user id); give each deployment sharing a Junction team its own",
		parse: func(c *Config, v string) (err error) {
			if c.ClientUserNamespace, err = uuid.Parse(v); err != nil {
				return fmt.Errorf("%q is not a UUID", v)
			}
			return nil
		}},
	{name: "LISTEN_ADDR", note: "127.0.0.1:8080 in dev mode, :8080 otherwise", help: "host:port to listen on",
		parse: func(c *Config, v string) error {
			switch {
			case v != "":
				c.ListenAddr = v
			case c.Dev.Enabled:
				c.ListenAddr = "127.0.0.1:8080"
			default:
				c.ListenAddr = ":8080"
			}
			if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
				return fmt.Errorf("%q is not host:port", c.ListenAddr)
			}
			return nil
		}},
	{name: "ALLOW_NETWORK_DEV_MODE", def: "false", help: "allow dev mode (no JUNCTION_API_KEY) on a non-loopback LISTEN_ADDR, e.g. in a local container",
		parse: func(c *Config, v string) (err error) { c.Dev.AllowNetwork, err = parseBool(v); return err }},
	{name: "PUBLIC_URL", note: "http://<LISTEN_ADDR> in dev mode; required otherwise", help: "external base URL of linkbff; Junction redirects browsers to {PUBLIC_URL}/link/callback/…",
		parse: func(c *Config, v string) error {
			c.PublicURL = strings.TrimRight(v, "/")
			switch {
			case v != "":
				return checkBaseURL(v)
			case !c.Dev.Enabled:
				return errors.New("is required when JUNCTION_API_KEY is set (the external URL Junction redirects users back to)")
			}
			return nil
		}},
	{name: "DATABASE_URL", def: "sqlite:linkbff.db", url: true, help: "sqlite:<file> or postgres://… (PostgreSQL when several replicas run; 16 connections each unless pool_max_conns=N)",
		parse: func(c *Config, v string) error {
			c.DatabaseURL = v
			if !strings.HasPrefix(v, "sqlite:") && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
				return fmt.Errorf("must start with sqlite: or postgres:// (got scheme %q)", schemeOf(v))
			}
			return nil
		}},
	{name: "SERVE_DEMO", note: "true in dev mode, false otherwise", help: "serve the demo page at /",
		parse: func(c *Config, v string) (err error) {
			if v == "" {
				c.ServeDemo = c.Dev.Enabled
				return nil
			}
			c.ServeDemo, err = parseBool(v)
			return err
		}},
	{name: "AUTH_JWKS_URL", url: true, help: "JWKS of your identity provider (Auth0, Clerk, Supabase, Cognito…)",
		parse: func(c *Config, v string) error { c.Auth.JWKSURL = v; return nil }},
	{name: "AUTH_HS256_SECRET", secret: true, help: "shared HS256 secret, at least 32 bytes (instead of AUTH_JWKS_URL)",
		parse: func(c *Config, v string) error { c.Auth.HS256Secret = v; return nil }},
	{name: "AUTH_ISSUER", help: "required iss claim (required with AUTH_JWKS_URL or AUTH_HS256_SECRET)",
		parse: func(c *Config, v string) error { c.Auth.Issuer = v; return nil }},
	{name: "AUTH_AUDIENCE", help: "required aud claim (required in production; none = accept tokens for any audience)",
		parse: func(c *Config, v string) error {
			if c.anyAudience = v == "none"; !c.anyAudience {
				c.Auth.Audience = v
			}
			return nil
		}},
	{name: "AUTH_ALGORITHMS", note: "RS256,ES256,EdDSA (JWKS) or HS256", help: "comma-separated allowlist of JWT algorithms",
		parse: func(c *Config, v string) error { c.Auth.Algorithms = splitList(v); return nil }},
	{name: "AUTH_USER_CLAIM", def: "sub", help: "claim holding your app's user id",
		parse: func(c *Config, v string) error { c.Auth.UserClaim = v; return nil }},
	{name: "AUTH_LEEWAY", def: "30s", help: "clock skew allowed on exp/nbf/iat, at most 60s",
		parse: func(c *Config, v string) (err error) {
			c.Auth.Leeway, err = parseDuration(v, 0, 60*time.Second)
			return err
		}},
	{name: "AUTH_MAX_TOKEN_AGE", def: "24h", help: "longest lifetime (exp - iat) of a token linkbff accepts; off accepts any (iat then optional)",
		parse: func(c *Config, v string) (err error) {
			if v == "off" {
				c.Auth.MaxTokenAge = auth.NoMaxTokenAge
				return nil
			}
			c.Auth.MaxTokenAge, err = parseDuration(v, time.Minute, 30*24*time.Hour)
			return err
		}},
	{name: "CORS_ALLOWED_ORIGINS", note: "none; in dev mode linkbff's own origin and http://localhost:5173, http://127.0.0.1:5173", help: "comma-separated exact origins allowed to call /v1 from a browser (never *)",
		parse: func(c *Config, v string) error {
			c.CORSAllowedOrigins = splitList(v)
			for _, o := range c.CORSAllowedOrigins {
				if strings.Contains(o, "*") {
					// go-chi/cors reads * as "any origin" and *.example.com
					// as a wildcard; only exact origins are meant.
					return errors.New("must list exact origins, not *")
				}
				if err := checkOrigin(o); err != nil {
					return fmt.Errorf("entry %q %v", o, err)
				}
			}
			return nil
		}},
	{name: "ALLOWED_RETURN_URLS", note: "PUBLIC_URL's origin only", help: "comma-separated return_to allowlist: https://origin (exact origin) or myapp://prefix (deep links); PUBLIC_URL's origin is always allowed",
		parse: func(c *Config, v string) (err error) {
			c.ReturnURLs, err = linking.ParseReturnPolicy(splitList(v))
			return err
		}},
	{name: "PROVIDERS_ALLOWLIST", note: "every provider", help: "comma-separated provider slugs your app offers",
		parse: func(c *Config, v string) (err error) {
			c.Providers, err = linking.ParseProviderAllowlist(splitList(v))
			return err
		}},
	{name: "REDIS_URL", secret: true, help: "redis://… to share rate limits across replicas; empty = in memory",
		parse: func(c *Config, v string) error {
			c.RedisURL = v
			if v != "" && !strings.HasPrefix(v, "redis://") && !strings.HasPrefix(v, "rediss://") {
				return errors.New("must start with redis:// or rediss://")
			}
			return nil
		}},
	{name: "TRUSTED_PROXY_HEADER", help: "header your load balancer sets to the client IP (e.g. X-Real-IP); empty = the connection's address",
		parse: func(c *Config, v string) error {
			c.TrustedProxyHeader = v
			if strings.ContainsAny(v, " :\t") {
				return fmt.Errorf("%q is not a header name", v)
			}
			return nil
		}},
	{name: "RATE_LIMIT_USER", def: "20/min", help: "per-user limit on the /v1 requests that call Junction: token, OAuth, sign-in token, disconnect, delete user (off to disable)",
		parse: func(c *Config, v string) (err error) { c.RateLimitUser, err = ratelimit.ParseLimit(v); return err }},
	{name: "RATE_LIMIT_IP", def: "120/min", help: "per-IP limit on the callback route and on webhook deliveries that fail verification (off to disable)",
		parse: func(c *Config, v string) (err error) { c.RateLimitIP, err = ratelimit.ParseLimit(v); return err }},
	{name: "APP_WEBHOOK_URL", url: true, help: "your backend's URL for linkbff's events (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature); empty = not forwarded",
		parse: func(c *Config, v string) error {
			c.Forwarding.URL = v
			if v == "" {
				return nil
			}
			return checkBaseURL(v)
		}},
	{name: "APP_WEBHOOK_SECRET", secret: true, help: "whsec_… secret signing the events sent to APP_WEBHOOK_URL (required with it); e.g. whsec_$(openssl rand -base64 24)",
		parse: func(c *Config, v string) error {
			c.Forwarding.Secret = v
			if v == "" {
				return nil
			}
			key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(v, "whsec_"))
			if !strings.HasPrefix(v, "whsec_") || err != nil || len(key) < 16 {
				return errors.New("must be whsec_ followed by at least 16 bytes in base64")
			}
			return nil
		}},
	{name: "APP_WEBHOOK_EVENTS", def: strings.Join(linking.DefaultForwardedEvents, ","),
		help: "comma-separated event types forwarded to APP_WEBHOOK_URL: Junction's (e.g. daily.data.sleep.created), families (daily.data.*), link.completed, connection.disconnected, or *",
		parse: func(c *Config, v string) (err error) {
			c.Forwarding.Events, err = linking.ParseEventFilter(splitList(v))
			return err
		}},
	{name: "APP_WEBHOOK_RETRY_SCHEDULE", def: forward.DefaultSchedule, help: "waits between attempts to deliver one event to APP_WEBHOOK_URL; after the last the event is marked failed",
		parse: func(c *Config, v string) (err error) {
			c.Forwarding.Schedule, err = forward.ParseSchedule(v)
			return err
		}},
	{name: "APP_WEBHOOK_TIMEOUT", def: "10s", help: "how long APP_WEBHOOK_URL has to answer 2xx before an attempt counts as failed",
		parse: func(c *Config, v string) (err error) {
			c.Forwarding.Timeout, err = parseDuration(v, time.Second, time.Minute)
			return err
		}},
	{name: "ADMIN_API_KEY", secret: true, help: "at least 32 bytes; enables /admin/v1 for your backend (Authorization: Bearer <key>), never for browsers; empty = off",
		parse: func(c *Config, v string) error {
			c.AdminAPIKey = v
			switch {
			case v == "":
				return nil
			case len(v) < 32:
				return errors.New("must be at least 32 bytes (e.g. openssl rand -hex 32)")
			case strings.ContainsFunc(v, isSpaceOrControl):
				return errors.New("contains whitespace or control characters")
			}
			return nil
		}},
	{name: "EVENT_STREAMS_PER_USER", def: "5", help: "live event streams (GET /v1/events) one user may hold open on one replica",
		parse: func(c *Config, v string) (err error) { c.Streams.PerUser, err = parseInt(v, 1, 100); return err }},
	{name: "EVENT_STREAMS_MAX", def: "10000", help: "live event streams one replica holds open in total",
		parse: func(c *Config, v string) (err error) { c.Streams.Total, err = parseInt(v, 1, 1_000_000); return err }},
	{name: "EVENT_STREAM_HEARTBEAT", def: "15s", help: "how often an idle event stream sends a comment line, so proxies keep it open",
		parse: func(c *Config, v string) (err error) {
			c.Streams.Heartbeat, err = parseDuration(v, 100*time.Millisecond, 5*time.Minute)
			return err
		}},
	{name: "EVENT_STREAM_IDLE_TIMEOUT", def: "30m", help: "an event stream with no event for this long is closed with a retry hint (its client reconnects); streams also end when their token expires",
		parse: func(c *Config, v string) (err error) {
			c.Streams.IdleTimeout, err = parseDuration(v, time.Second, 24*time.Hour)
			return err
		}},
	{name: "EVENT_RETENTION", def: "168h", help: "how long events are kept for streams to resume from (Last-Event-ID) and for the admin API; events still being delivered are kept until they are",
		parse: func(c *Config, v string) (err error) {
			c.EventRetention, err = parseDuration(v, time.Hour, 90*24*time.Hour)
			return err
		}},
	{name: "LOG_LEVEL", def: "info", help: "debug | info | warn | error",
		parse: func(c *Config, v string) error {
			c.LogLevel = strings.ToLower(v)
			return oneOf(c.LogLevel, "debug", "info", "warn", "error")
		}},
	{name: "LOG_FORMAT", def: "json", help: "json | console",
		parse: func(c *Config, v string) error {
			c.LogFormat = strings.ToLower(v)
			return oneOf(c.LogFormat, "json", "console")
		}},
	{name: "METRICS_ADDR", help: "host:port of a separate listener serving Prometheus metrics at /metrics, e.g. 127.0.0.1:9464, or :9464 for the platform's scraper; never LISTEN_ADDR's port; empty = off",
		parse: func(c *Config, v string) error {
			c.MetricsAddr = v
			if v == "" {
				return nil
			}
			_, port, err := net.SplitHostPort(v)
			if err != nil {
				return fmt.Errorf("%q is not host:port", v)
			}
			if _, public, _ := net.SplitHostPort(c.ListenAddr); port == public && port != "0" {
				return fmt.Errorf("uses LISTEN_ADDR's port %s: metrics stay off the public port", port)
			}
			return nil
		}},
	{name: "OTEL_EXPORTER_OTLP_ENDPOINT", url: true, help: "OTLP/HTTP endpoint of your OpenTelemetry collector, e.g. http://otel-collector:4318 (traces go to …/v1/traces); empty = tracing off",
		parse: func(c *Config, v string) error {
			c.Tracing.Endpoint = strings.TrimRight(v, "/")
			if v == "" {
				return nil
			}
			return checkBaseURL(v)
		}},
	{name: "OTEL_EXPORTER_OTLP_HEADERS", secret: true, help: "headers sent with traces, key=value,… (e.g. your tracing vendor's API key)",
		parse: func(c *Config, v string) (err error) { c.Tracing.Headers, err = parseHeaders(v); return err }},
	{name: "OTEL_SERVICE_NAME", def: "linkbff", help: "service.name of linkbff's traces",
		parse: func(c *Config, v string) error { c.Tracing.ServiceName = v; return nil }},
	{name: "DEBUG_ADDR", note: "off", help: "loopback host:port serving Go's profiler (net/http/pprof), e.g. 127.0.0.1:6060",
		parse: func(c *Config, v string) error {
			c.DebugAddr = v
			if v == "" {
				return nil
			}
			host, _, err := net.SplitHostPort(v)
			if err != nil {
				return fmt.Errorf("%q is not host:port", v)
			}
			if !auth.IsLoopbackHost(host) {
				// Profiles show the process's memory: secrets and tokens.
				return fmt.Errorf("%q is not a loopback address: the profiler exposes the process's memory, so it listens only on 127.0.0.1, ::1 or localhost", v)
			}
			return nil
		}},
}

// Load reads and checks the configuration. Every problem is reported at
// once, each naming its variable, never a secret's value.
func Load(getenv func(string) string) (Config, error) {
	var c Config
	var problems []string
	for _, s := range settings {
		v := getenv(s.name)
		if !s.secret {
			v = strings.TrimSpace(v)
		}
		if v == "" {
			v = s.def
		}
		if err := s.parse(&c, v); err != nil {
			problems = append(problems, s.name+" "+err.Error())
		}
		c.shown = append(c.shown, shownSetting{s.name, s.display(v)})
	}
	problems = append(problems, c.check()...)
	if len(problems) > 0 {
		return Config{}, errors.New("invalid configuration:\n  - " + strings.Join(problems, "\n  - "))
	}
	return c, nil
}

// check enforces the rules that span settings.
func (c *Config) check() []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	hasAuth := c.Auth.JWKSURL != "" || c.Auth.HS256Secret != ""
	if c.Dev.Enabled {
		// An empty JUNCTION_API_KEY (say, a missing Kubernetes secret) must
		// not turn a deployment into an emulator with an open dev sign-in.
		if host, _, err := net.SplitHostPort(c.ListenAddr); err == nil && !auth.IsLoopbackHost(host) && !c.Dev.AllowNetwork {
			bad("JUNCTION_API_KEY is not set, so linkbff would run in dev mode (emulator, dev sign-in for anyone) on the non-loopback LISTEN_ADDR %s: set JUNCTION_API_KEY, or ALLOW_NETWORK_DEV_MODE=true if that is what you want (e.g. in a local container)", c.ListenAddr)
		}
		// Dev mode signs its own tokens unless an identity provider is set
		// to try it against the emulator.
		c.Dev.SignIn = !hasAuth
	} else {
		if !hasAuth {
			bad("AUTH_JWKS_URL or AUTH_HS256_SECRET is required when JUNCTION_API_KEY is set, with AUTH_ISSUER and AUTH_AUDIENCE (how linkbff verifies your users' JWTs)")
		}
		if c.Junction.BaseURL == "" {
			c.Junction.BaseURL, _ = junction.BaseURLFor(c.Junction.Env, c.Junction.Region) // both checked above
			if want := keyEnvironment(c.Junction.APIKey); want != "" && want != c.Junction.Env+"/"+c.Junction.Region {
				// A sandbox key against production (or us against eu) fails
				// with a bare 401 at the first request; say so now.
				bad("JUNCTION_API_KEY is a %s key but JUNCTION_ENV/JUNCTION_REGION say %s/%s", want, c.Junction.Env, c.Junction.Region)
			}
		}
	}
	switch {
	case c.Forwarding.URL != "" && c.Forwarding.Secret == "":
		bad("APP_WEBHOOK_SECRET is required with APP_WEBHOOK_URL: your backend checks every event's signature with it")
	case c.Forwarding.URL == "" && c.Forwarding.Secret != "":
		bad("APP_WEBHOOK_SECRET is set but APP_WEBHOOK_URL is not: set where to send the events")
	case c.Forwarding.URL == "":
		c.Forwarding.Events = nil // nothing is forwarded
	}
	if hasAuth {
		var authErr *auth.ConfigError
		if err := c.Auth.Validate(); errors.As(err, &authErr) {
			bad("%s %s", authSettings[authErr.Field], authErr.Problem)
		} else if err != nil {
			bad("AUTH_*: %v", err)
		}
		// Without an audience, a token your identity provider minted for
		// another API would be accepted.
		switch {
		case c.anyAudience:
			c.Warnings = append(c.Warnings, "AUTH_AUDIENCE=none: tokens your identity provider minted for any of your APIs are accepted")
		case c.Auth.Audience == "" && !c.Dev.Enabled:
			bad("AUTH_AUDIENCE is required when JUNCTION_API_KEY is set (the aud claim of tokens minted for linkbff; AUTH_AUDIENCE=none accepts any audience)")
		}
	}
	return problems
}

// authSettings names the variables behind auth.Config's fields, for the
// problems auth finds (auth owns the rules; this names them for operators).
var authSettings = map[string]string{
	"JWKSURL": "AUTH_JWKS_URL", "HS256Secret": "AUTH_HS256_SECRET", "Issuer": "AUTH_ISSUER",
	"Audience": "AUTH_AUDIENCE", "Algorithms": "AUTH_ALGORITHMS", "UserClaim": "AUTH_USER_CLAIM", "Leeway": "AUTH_LEEWAY",
	"MaxTokenAge": "AUTH_MAX_TOKEN_AGE",
}

// PublicURLFor is PUBLIC_URL, or in dev mode the address linkbff listens
// on, reachable from this machine.
func (c Config) PublicURLFor(addr net.Addr) string {
	if c.PublicURL != "" {
		return c.PublicURL
	}
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// devCORSOrigins are the loopback dev servers (Vite's default port) that
// may call /v1 in dev mode, so an app under development works out of the box.
var devCORSOrigins = []string{"http://localhost:5173", "http://127.0.0.1:5173"}

// CORSOriginsFor is the effective CORS allowlist: CORS_ALLOWED_ORIGINS when
// set; else in dev mode linkbff's own origin (of publicURL) and the loopback
// dev servers; else none: no browser on another origin may call /v1.
func (c Config) CORSOriginsFor(publicURL string) []string {
	if len(c.CORSAllowedOrigins) > 0 || !c.Dev.Enabled {
		return c.CORSAllowedOrigins
	}
	origins := slices.Clone(devCORSOrigins)
	if u, err := url.Parse(publicURL); err == nil && u.Host != "" {
		own := u.Scheme + "://" + u.Host
		if !slices.Contains(origins, own) {
			origins = append([]string{own}, origins...)
		}
	}
	return origins
}

// PrintUsage writes the variable table for `server -h`.
func PrintUsage(w io.Writer) {
	fmt.Fprintln(w, "linkbff: backend-for-frontend for Junction Link.")
	fmt.Fprintln(w, "\nUsage: server [-h]\n\nConfiguration comes from environment variables:")
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = s.note
		}
		if def == "" {
			def = "(unset)"
		}
		secret := ""
		if s.secret {
			secret = " [secret]"
		}
		fmt.Fprintf(w, "  %-24s %s%s\n  %-24s default: %s\n", s.name, s.help, secret, "", def)
	}
	fmt.Fprintln(w, "\nWith JUNCTION_API_KEY unset linkbff runs in dev mode: a built-in Junction emulator,")
	fmt.Fprintln(w, "a dev sign-in at POST /_dev/token and a SQLite file, listening on 127.0.0.1 only.")
}

// Names lists every variable, in the order of `server -h`.
func Names() []string {
	out := make([]string, len(settings))
	for i, s := range settings {
		out[i] = s.name
	}
	return out
}

type shownSetting struct{ name, value string }

// display is how a value appears in the startup log.
func (s setting) display(v string) string {
	switch {
	case s.secret && v != "":
		return "***"
	case s.url:
		return MaskURL(v)
	}
	return v
}

// String renders the configuration for the startup log, secrets masked.
func (c Config) String() string {
	parts := make([]string, 0, len(c.shown)+1)
	mode := "production"
	if c.Dev.Enabled {
		mode = "dev"
	}
	parts = append(parts, "mode="+mode)
	for _, s := range c.shown {
		parts = append(parts, s.name+"="+s.value)
	}
	return strings.Join(parts, " ")
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

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q must be true or false", v)
}

// parseDuration reads a duration such as 30s between lo and hi.
func parseDuration(v string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a duration such as 30s or 200ms", v)
	case d < lo || d > hi:
		return 0, fmt.Errorf("%s must be between %s and %s", d, lo, hi)
	}
	return d, nil
}

// parseInt reads a whole number between lo and hi.
func parseInt(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q must be a whole number between %d and %d", v, lo, hi)
	}
	return n, nil
}

func oneOf(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%q must be %s", v, strings.Join(allowed, " or "))
}

// parseHeaders reads OpenTelemetry's key=value,… list (values URL-encoded).
// Its errors never echo a value: they may be credentials.
func parseHeaders(v string) (map[string]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for i, pair := range strings.Split(v, ",") {
		key, value, ok := strings.Cut(pair, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.ContainsAny(key, " \t:") {
			return nil, fmt.Errorf("entry %d is not key=value", i+1)
		}
		decoded, err := url.QueryUnescape(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("entry %d (%s) has a badly encoded value", i+1, key)
		}
		out[key] = decoded
	}
	return out, nil
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
