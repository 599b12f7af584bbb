package config

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDevModeDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeDev || c.ListenAddr != "127.0.0.1:8080" || c.DatabaseURL != "sqlite:linkbff.db" || !c.ServeDemo {
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

func TestProductionNamesEveryMissingVariable(t *testing.T) {
	_, err := Load(env(map[string]string{"JUNCTION_API_KEY": "sk_us_secretvalue"}))
	if err == nil {
		t.Fatal("production mode started without PUBLIC_URL and auth")
	}
	for _, name := range []string{"PUBLIC_URL", "AUTH_JWKS_URL or AUTH_HS256_SECRET", "AUTH_ISSUER"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	if strings.Contains(err.Error(), "sk_us_secretvalue") {
		t.Error("error leaks the API key")
	}
}

func TestInvalidValues(t *testing.T) {
	base := map[string]string{
		"JUNCTION_API_KEY": "sk_us_x", "PUBLIC_URL": "https://bff.example.com",
		"AUTH_HS256_SECRET": strings.Repeat("k", 32), "AUTH_ISSUER": "https://issuer",
	}
	if _, err := Load(env(base)); err != nil {
		t.Fatalf("valid production config rejected: %v", err)
	}
	tests := []struct{ key, value, want string }{
		{"AUTH_HS256_SECRET", "short", "at least 32 bytes"},
		{"AUTH_LEEWAY", "2m", "AUTH_LEEWAY"},
		{"AUTH_LEEWAY", "soon", "AUTH_LEEWAY"},
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
		{"JUNCTION_REGION", "eu", "sandbox/us key"},
		{"JUNCTION_ENV", "production", "sandbox/us key"},
		{"JUNCTION_API_KEY", "pk_eu_x", "production/eu key"},
	}
	for _, tc := range tests {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		m[tc.key] = tc.value
		_, err := Load(env(m))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: error %v, want it to mention %q", tc.key, tc.value, err, tc.want)
		}
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
		"AUTH_HS256_SECRET": "hs256-secret-that-is-32-bytes-long!!", "AUTH_ISSUER": "https://issuer",
		"JUNCTION_WEBHOOK_SECRET": "whsec_c2VjcmV0", "DATABASE_URL": "postgres://u:dbpass@db/x",
		"REDIS_URL": "redis://:redispass@r:6379/0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	for _, secret := range []string{"topsecret", "hs256-secret", "c2VjcmV0", "dbpass", "redispass"} {
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
	for _, v := range Vars {
		if !strings.Contains(string(readme), "`"+v.Name+"`") {
			t.Errorf("README.md does not document %s", v.Name)
		}
		if !strings.Contains(usage.String(), v.Name) {
			t.Errorf("-h does not list %s", v.Name)
		}
	}
}
