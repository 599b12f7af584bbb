package main

import (
	"bytes"
	"context"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/linkbff/linkbff/internal/testkit"
)

func TestVersionLine(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261124071420-f0f3dce30005+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "f0f3dce300055a6b51e5b1f0a7e2d3c4b5a69788"},
			{Key: "vcs.time", Value: "2026-11-24T07:14:20Z"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		ldflagsVersion string
		info           *debug.BuildInfo
		ok             bool
		want           string
	}{
		{"", stamped, true, "linkbff v0.0.0-20261124071420-f0f3dce30005+dirty (revision f0f3dce30005 with uncommitted changes, committed 2026-11-24T07:14:20Z; go1.26.8)"},
		{"", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true, "linkbff (devel) (no VCS information in this build; go1.26.8)"},
		{"v1.2.0-3-gf0f3dce30005", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true, "linkbff v1.2.0-3-gf0f3dce30005 (go1.26.8)"},
		{"", nil, false, "linkbff (no build information)"},
	}
	for _, tt := range tests {
		if got := versionLine(tt.ldflagsVersion, tt.info, tt.ok); got != tt.want {
			t.Errorf("versionLine = %q\n want %q", got, tt.want)
		}
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"server", "--version"}, func(string) string { return "" }, &stdout, &bytes.Buffer{}); err != nil || !strings.HasPrefix(stdout.String(), "linkbff ") {
		t.Fatalf("--version: %q, %v", stdout.String(), err)
	}
}

// The compose setup: production mode with an HS256 secret.
var composeEnv = map[string]string{
	"JUNCTION_API_KEY": "sk_us_0123456789abcdef", "PUBLIC_URL": "http://localhost:8080", "LISTEN_ADDR": "0.0.0.0:8080",
	"AUTH_HS256_SECRET": strings.Repeat("s", 40), "AUTH_ISSUER": "https://auth.example.com/", "AUTH_AUDIENCE": "linkbff",
	"JUNCTION_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "DATABASE_URL": "sqlite::memory:",
}

func tokenCommand(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"server", "token"}, args...), func(k string) string { return env[k] }, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestTokenCommandMintsWhatTheServerAccepts(t *testing.T) {
	out, _, err := tokenCommand(t, composeEnv, "--user", "alice", "--ttl", "30m")
	if err != nil {
		t.Fatal(err)
	}
	raw := strings.TrimSpace(out)
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return []byte(composeEnv["AUTH_HS256_SECRET"]), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer("https://auth.example.com/"), jwt.WithAudience("linkbff"))
	if err != nil {
		t.Fatalf("printed token does not verify: %v (%q)", err, out)
	}
	exp, _ := claims.GetExpirationTime()
	if claims["sub"] != "alice" || exp == nil || time.Until(exp.Time) > 31*time.Minute || time.Until(exp.Time) < 29*time.Minute {
		t.Fatalf("claims = %v", claims)
	}

	// AUTH_USER_CLAIM decides where the user goes.
	custom := map[string]string{"AUTH_USER_CLAIM": "uid"}
	for k, v := range composeEnv {
		custom[k] = v
	}
	out, _, err = tokenCommand(t, custom, "--user", "bob")
	if err != nil {
		t.Fatal(err)
	}
	claims = jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(strings.TrimSpace(out), claims); err != nil || claims["uid"] != "bob" {
		t.Fatalf("with AUTH_USER_CLAIM=uid: %v %v", claims, err)
	}
}

func TestTokenCommandRefuses(t *testing.T) {
	noSecret := map[string]string{}
	for k, v := range composeEnv {
		if !strings.HasPrefix(k, "AUTH_") && k != "JUNCTION_API_KEY" && k != "LISTEN_ADDR" {
			noSecret[k] = v
		}
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no HS256 secret (dev mode)", noSecret, []string{"--user", "alice"}, "AUTH_HS256_SECRET is not set"},
		{"no user", composeEnv, nil, "--user is required"},
		{"blank user", composeEnv, []string{"--user", "  "}, "--user is required"},
		{"too long", composeEnv, []string{"--user", "alice", "--ttl", "48h"}, "--ttl must be"},
		{"stray argument", composeEnv, []string{"--user", "alice", "extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := tokenCommand(t, tt.env, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || out != "" {
				t.Fatalf("got %q, err %v; want no token and an error about %q", out, err, tt.want)
			}
		})
	}
}

// The printed token opens the API of a server with the same settings (dev
// mode here, so the emulator stands in for Junction).
func TestTokenCommandTokenOpensTheAPI(t *testing.T) {
	env := map[string]string{"AUTH_HS256_SECRET": composeEnv["AUTH_HS256_SECRET"], "AUTH_ISSUER": composeEnv["AUTH_ISSUER"], "AUTH_AUDIENCE": "linkbff"}
	out, _, err := tokenCommand(t, env, "--user", "alice")
	if err != nil {
		t.Fatal(err)
	}
	s := testkit.Start(t, run, env)
	if r := s.Request("GET", "/v1/connections", strings.TrimSpace(out), nil); r.Status != 200 {
		t.Fatalf("GET /v1/connections with the printed token: %d %s", r.Status, r.Body)
	}
	if r := s.Request("GET", "/v1/connections", strings.TrimSpace(out)+"x", nil); r.Status != 401 {
		t.Fatalf("a tampered token: %d", r.Status)
	}
}
