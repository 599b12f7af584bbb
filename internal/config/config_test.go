package config

import (
	"bytes"
	"maps"
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDevModeDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Dev.Enabled || !c.Dev.SignIn || c.ListenAddr != "127.0.0.1:8080" || c.DatabaseURL != "sqlite:linkbff.db" || !c.ServeDemo {
		t.Fatalf("dev defaults wrong: %+v", c)
	}
	if c.RateLimitUser.Requests != 20 {
		t.Fatalf("RATE_LIMIT_USER default = %+v", c.RateLimitUser)
	}
}

func TestDevModeStaysOnLoopback(t *testing.T) {
	for _, addr := range []string{":8080", "0.0.0.0:8080", "10.1.2.3:8080", "[::]:8080"} {
		_, err := Load(env(map[string]string{"LISTEN_ADDR": addr}))
		if err == nil || !strings.Contains(err.Error(), "ALLOW_NETWORK_DEV_MODE") {
			t.Errorf("dev mode on %s: %v", addr, err)
		}
		if _, err := Load(env(map[string]string{"LISTEN_ADDR": addr, "ALLOW_NETWORK_DEV_MODE": "true"})); err != nil {
			t.Errorf("dev mode on %s with the opt-in: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:8080", "[::1]:8080"} {
		if _, err := Load(env(map[string]string{"LISTEN_ADDR": addr})); err != nil {
			t.Errorf("dev mode on %s: %v", addr, err)
		}
	}
}

func TestDebugAddrOnLoopbackOnly(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.DebugAddr != "" {
		t.Fatalf("the profiler is on by default: %q, %v", c.DebugAddr, err)
	}
	for _, addr := range []string{"127.0.0.1:6060", "[::1]:0", "localhost:6060"} {
		if c, err := Load(env(map[string]string{"DEBUG_ADDR": addr})); err != nil || c.DebugAddr != addr {
			t.Errorf("DEBUG_ADDR=%s: %q, %v", addr, c.DebugAddr, err)
		}
	}
}

func TestProductionNamesEveryMissingVariable(t *testing.T) {
	_, err := Load(env(map[string]string{"JUNCTION_API_KEY": "sk_us_secretvalue"}))
	if err == nil {
		t.Fatal("production mode started without PUBLIC_URL and auth")
	}
	for _, name := range []string{"PUBLIC_URL", "AUTH_JWKS_URL or AUTH_HS256_SECRET"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	if strings.Contains(err.Error(), "sk_us_secretvalue") {
		t.Error("error leaks the API key")
	}
}

// productionVars is a valid production configuration, with changes.
func productionVars(changes map[string]string) map[string]string {
	vars := map[string]string{
		"JUNCTION_API_KEY": "sk_us_x", "PUBLIC_URL": "https://bff.example.com",
		"AUTH_HS256_SECRET": strings.Repeat("k", 32), "AUTH_ISSUER": "https://issuer", "AUTH_AUDIENCE": "linkbff",
	}
	for k, v := range changes {
		vars[k] = v
	}
	return vars
}

func TestInvalidValues(t *testing.T) {
	c, err := Load(env(productionVars(nil)))
	if err != nil {
		t.Fatalf("valid production config rejected: %v", err)
	}
	if c.Dev.Enabled || c.Junction.BaseURL != "https://api.sandbox.us.junction.com" || c.Auth.Audience != "linkbff" || c.Auth.Leeway != 30*time.Second ||
		c.Auth.MaxTokenAge != 24*time.Hour || c.ClientUserNamespace.String() != "7f0c1c2e-55b1-4d5e-9a3e-6c1b9d1e2f40" || c.Junction.RetryBackoff != time.Second {
		t.Fatalf("production config: %+v", c)
	}
	tests := []struct{ key, value, want string }{
		{"AUTH_HS256_SECRET", "short", "at least 32 bytes"},
		{"AUTH_LEEWAY", "2m", "AUTH_LEEWAY"},
		{"AUTH_LEEWAY", "soon", "AUTH_LEEWAY"},
		{"AUTH_MAX_TOKEN_AGE", "forever", "AUTH_MAX_TOKEN_AGE"},
		{"AUTH_MAX_TOKEN_AGE", "-1h", "AUTH_MAX_TOKEN_AGE"},
		{"JUNCTION_CLIENT_USER_ID_NAMESPACE", "deployment-b", "JUNCTION_CLIENT_USER_ID_NAMESPACE"},
		{"JUNCTION_RETRY_BACKOFF", "soon", "JUNCTION_RETRY_BACKOFF"},
		{"JUNCTION_RETRY_BACKOFF", "1m", "between 1ms and 10s"},
		{"JUNCTION_ENV", "staging", "JUNCTION_ENV"},
		{"JUNCTION_REGION", "ap", "JUNCTION_REGION"},
		{"JUNCTION_BASE_URL", "ftp://x", "JUNCTION_BASE_URL"},
		{"JUNCTION_WEBHOOK_SECRET", "nope", "whsec_"},
		{"CORS_ALLOWED_ORIGINS", "*", "not *"},
		{"CORS_ALLOWED_ORIGINS", "https://a.com/path", "origin"},
		{"DATABASE_URL", "mysql://x", "DATABASE_URL"},
		{"LOG_LEVEL", "loud", "LOG_LEVEL"},
		{"LOG_FORMAT", "xml", "LOG_FORMAT"},
		{"LISTEN_ADDR", "8080", "LISTEN_ADDR"},
		{"PUBLIC_URL", "bff.example.com", "PUBLIC_URL"},
		{"RATE_LIMIT_USER", "lots", "RATE_LIMIT_USER"},
		{"REDIS_URL", "http://x", "REDIS_URL"},
		{"SERVE_DEMO", "maybe", "SERVE_DEMO"},
		{"DEBUG_ADDR", "6060", "DEBUG_ADDR \"6060\" is not host:port"},
		{"DEBUG_ADDR", ":6060", "DEBUG_ADDR \":6060\" is not a loopback address"},
		{"DEBUG_ADDR", "0.0.0.0:6060", "is not a loopback address"},
		{"DEBUG_ADDR", "10.1.2.3:6060", "is not a loopback address"},
		{"JUNCTION_REGION", "eu", "sandbox/us key"},
		{"JUNCTION_ENV", "production", "sandbox/us key"},
		{"JUNCTION_API_KEY", "pk_eu_x", "production/eu key"},
		{"JUNCTION_API_KEY", "sk_us_x\n", "whitespace"},
		{"AUTH_ISSUER", "", "AUTH_ISSUER is required"},
		{"AUTH_AUDIENCE", "", "AUTH_AUDIENCE is required"},
		{"AUTH_ALGORITHMS", "none", "AUTH_ALGORITHMS \"none\" is never allowed"},
		{"AUTH_JWKS_URL", "https://idp.example.com/jwks", "AUTH_HS256_SECRET must not be set together with a JWKS URL"},
		{"ALLOWED_RETURN_URLS", "javascript:alert(1)", "ALLOWED_RETURN_URLS"},
		{"PROVIDERS_ALLOWLIST", "Fitbit", "PROVIDERS_ALLOWLIST"},
		{"ALLOW_NETWORK_DEV_MODE", "perhaps", "ALLOW_NETWORK_DEV_MODE"},
		{"TRUSTED_PROXY_HEADER", "X-Real IP", "TRUSTED_PROXY_HEADER"},
		{"METRICS_ADDR", "9090", "METRICS_ADDR"},
		{"METRICS_ADDR", "127.0.0.1:8080", "LISTEN_ADDR's port"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{"OTEL_EXPORTER_OTLP_HEADERS", "api-key", "OTEL_EXPORTER_OTLP_HEADERS entry 1"},
		{"APP_WEBHOOK_URL", "ftp://app.example.com/hooks", "APP_WEBHOOK_URL"},
		{"APP_WEBHOOK_URL", "https://user:pw@app.example.com/hooks", "APP_WEBHOOK_URL must not contain credentials"},
		{"APP_WEBHOOK_URL", "https://app.example.com/hooks", "APP_WEBHOOK_SECRET is required with APP_WEBHOOK_URL"},
		{"APP_WEBHOOK_SECRET", "whsec_c2VjcmV0", "APP_WEBHOOK_SECRET must be whsec_"},
		{"APP_WEBHOOK_SECRET", testkitSecret, "APP_WEBHOOK_URL is not"},
		{"APP_WEBHOOK_EVENTS", "Provider.Connection.Created", "APP_WEBHOOK_EVENTS"},
		{"APP_WEBHOOK_RETRY_SCHEDULE", "5s,soon", "APP_WEBHOOK_RETRY_SCHEDULE"},
		{"APP_WEBHOOK_TIMEOUT", "2m", "APP_WEBHOOK_TIMEOUT"},
		{"ADMIN_API_KEY", "short", "ADMIN_API_KEY must be at least 32 bytes"},
		{"ADMIN_API_KEY", strings.Repeat("k", 32) + " ", "ADMIN_API_KEY contains whitespace"},
		{"EVENT_STREAMS_PER_USER", "0", "EVENT_STREAMS_PER_USER"},
		{"EVENT_STREAMS_MAX", "lots", "EVENT_STREAMS_MAX"},
		{"EVENT_STREAM_HEARTBEAT", "10ms", "EVENT_STREAM_HEARTBEAT"},
		{"EVENT_STREAM_IDLE_TIMEOUT", "forever", "EVENT_STREAM_IDLE_TIMEOUT"},
		{"EVENT_RETENTION", "1m", "EVENT_RETENTION"},
	}
	for _, tc := range tests {
		_, err := Load(env(productionVars(map[string]string{tc.key: tc.value})))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: error %v, want it to mention %q", tc.key, tc.value, err, tc.want)
		}
	}
}

const testkitSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"

func TestEventSettings(t *testing.T) {
	c, err := Load(env(productionVars(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Forwarding.Events != nil || c.AdminAPIKey != "" || c.Streams != (Streams{PerUser: 5, Total: 10000, Heartbeat: 15 * time.Second, IdleTimeout: 30 * time.Minute}) ||
		c.EventRetention != 7*24*time.Hour {
		t.Fatalf("defaults: %+v %+v %s", c.Forwarding, c.Streams, c.EventRetention)
	}
	c, err = Load(env(productionVars(map[string]string{"APP_WEBHOOK_URL": "https://app.example.com/hooks?k=v", "APP_WEBHOOK_SECRET": testkitSecret})))
	if err != nil {
		t.Fatal(err)
	}
	f := c.Forwarding
	if f.URL != "https://app.example.com/hooks?k=v" || f.Timeout != 10*time.Second || len(f.Schedule) != 11 || f.Schedule[0] != 5*time.Second ||
		!f.Events.Allows("provider.connection.created") || !f.Events.Allows("connection.disconnected") || f.Events.Allows("link.completed") {
		t.Fatalf("forwarding: %+v", f)
	}
	c, err = Load(env(productionVars(map[string]string{"APP_WEBHOOK_URL": "https://app.example.com/hooks", "APP_WEBHOOK_SECRET": testkitSecret,
		"APP_WEBHOOK_EVENTS": "daily.data.*, link.completed", "APP_WEBHOOK_RETRY_SCHEDULE": "100ms,100ms", "APP_WEBHOOK_TIMEOUT": "1s"})))
	if err != nil {
		t.Fatal(err)
	}
	if f := c.Forwarding; !f.Events.Allows("daily.data.sleep.created") || f.Events.Allows("provider.connection.created") || len(f.Schedule) != 2 || f.Timeout != time.Second {
		t.Fatalf("forwarding: %+v", f)
	}
}

func TestMaskURL(t *testing.T) {
	tests := map[string]string{
		"postgres://u:dbpass@db/x":                       "postgres://u:%2A%2A%2A@db/x",
		"postgres://127.0.0.1:1/db?password=supersecret": "postgres://127.0.0.1:1/db?password=%2A%2A%2A",
		"postgres://bob:s3cr%t@db/x":                     "<unparseable URL>",
		"https://idp.example.com/jwks.json?sig=abc":      "https://idp.example.com/jwks.json?sig=%2A%2A%2A",
		"sqlite:linkbff.db":                              "sqlite:linkbff.db",
	}
	for in, want := range tests {
		if got := MaskURL(in); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStringMasksSecrets(t *testing.T) {
	c, err := Load(env(map[string]string{
		"JUNCTION_API_KEY": "sk_us_topsecret", "PUBLIC_URL": "https://bff.example.com",
		"AUTH_HS256_SECRET": "hs256-secret-that-is-32-bytes-long!!", "AUTH_ISSUER": "https://issuer", "AUTH_AUDIENCE": "none",
		"JUNCTION_WEBHOOK_SECRET": "whsec_c2VjcmV0", "DATABASE_URL": "postgres://u:dbpass@db/x",
		"REDIS_URL": "redis://:redispass@r:6379/0", "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=otelsecret",
		"APP_WEBHOOK_URL": "https://app.example.com/hooks", "APP_WEBHOOK_SECRET": testkitSecret, "ADMIN_API_KEY": "admin-key-of-at-least-32-bytes-length",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "AUTH_AUDIENCE=none") {
		t.Errorf("AUTH_AUDIENCE=none gave warnings %q", c.Warnings)
	}
	s := c.String()
	for _, name := range Names() {
		if !strings.Contains(s, name+"=") {
			t.Errorf("String() does not show %s: %s", name, s)
		}
	}
	for _, secret := range []string{"topsecret", "hs256-secret", "c2VjcmV0", "dbpass", "redispass", "otelsecret", "C2FVsBQIhrsc", "admin-key"} {
		if strings.Contains(s, secret) {
			t.Errorf("String() leaks %q: %s", secret, s)
		}
	}
}

// The README's configuration table must list every variable.
func TestReadmeListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var usage bytes.Buffer
	PrintUsage(&usage)
	for _, name := range Names() {
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README.md does not document %s", name)
		}
		if !strings.Contains(usage.String(), name) {
			t.Errorf("-h does not list %s", name)
		}
	}
}

// An unset CORS_ALLOWED_ORIGINS allows no origin in production; dev mode
// allows linkbff's own origin and the loopback dev servers, nothing more.
func TestCORSOriginsFor(t *testing.T) {
	c, err := Load(env(productionVars(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.CORSOriginsFor("https://bff.example.com"); len(got) != 0 {
		t.Errorf("production without CORS_ALLOWED_ORIGINS allows %q", got)
	}
	dev, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://127.0.0.1:8080", "http://localhost:5173", "http://127.0.0.1:5173"}
	if got := dev.CORSOriginsFor("http://127.0.0.1:8080"); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("dev mode allows %q, want %q", got, want)
	}
	if got := dev.CORSOriginsFor("http://localhost:5173"); len(got) != 2 {
		t.Errorf("dev mode on the dev server's own origin lists it twice: %q", got)
	}
	set := map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com"}
	for _, vars := range []map[string]string{productionVars(set), set} {
		c, err := Load(env(vars))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.CORSOriginsFor("http://127.0.0.1:8080"); len(got) != 1 || got[0] != "https://app.example.com" {
			t.Errorf("CORS_ALLOWED_ORIGINS set (dev=%v): allows %q", c.Dev.Enabled, got)
		}
	}
	for _, wildcard := range []string{"https://*.example.com", "*"} {
		if _, err := Load(env(map[string]string{"CORS_ALLOWED_ORIGINS": wildcard})); err == nil || !strings.Contains(err.Error(), "exact origins") {
			t.Errorf("CORS_ALLOWED_ORIGINS=%s: %v", wildcard, err)
		}
	}
}

func TestObservabilitySettings(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != "" || c.Tracing.Endpoint != "" || c.Tracing.ServiceName != "linkbff" {
		t.Fatalf("metrics and tracing must be off by default: %q %+v", c.MetricsAddr, c.Tracing)
	}
	c, err = Load(env(map[string]string{
		"METRICS_ADDR": "127.0.0.1:9464", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
		"OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=a%2Cb, tenant = blue", "OTEL_SERVICE_NAME": "bff",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"x-api-key": "a,b", "tenant": "blue"}
	if c.MetricsAddr != "127.0.0.1:9464" || c.Tracing.Endpoint != "http://collector:4318" || c.Tracing.ServiceName != "bff" || !maps.Equal(c.Tracing.Headers, want) {
		t.Fatalf("got %q %+v", c.MetricsAddr, c.Tracing)
	}
}
