package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/testkit"
)

// allowOrigin is what linkbff's preflight for GET /v1/providers answers
// origin: the Access-Control-Allow-Origin it grants, if any.
func allowOrigin(t *testing.T, s *testkit.Server, origin string) string {
	t.Helper()
	r := s.Do(http.MethodOptions, "/v1/providers", nil, "Origin", origin, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization")
	if r.Status >= 500 {
		t.Fatalf("preflight from %s: %d %s", origin, r.Status, r.Body)
	}
	return r.Header.Get("Access-Control-Allow-Origin")
}

func TestCORSDefaultAllowsNoOriginInProduction(t *testing.T) {
	s := productionServer(t, nil)
	for _, origin := range []string{"https://app.example.com", s.URL, "http://localhost:5173", "null"} {
		if got := allowOrigin(t, s.Server, origin); got != "" {
			t.Errorf("production without CORS_ALLOWED_ORIGINS allows %s: Access-Control-Allow-Origin %q", origin, got)
		}
	}
	token := s.idp.Sign(t, testkit.Claims("cors"))
	if r := s.Request(http.MethodGet, "/v1/providers", token, nil, "Origin", "https://evil.example.com"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET from another origin allowed: %q", r.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestCORSDevModeAllowsItsOwnOriginAndLoopbackDevServers(t *testing.T) {
	s := testkit.Start(t, run, nil)
	for _, origin := range []string{s.URL, "http://localhost:5173", "http://127.0.0.1:5173"} {
		if got := allowOrigin(t, s, origin); got != origin {
			t.Errorf("dev mode: preflight from %s answered Access-Control-Allow-Origin %q", origin, got)
		}
	}
	for _, origin := range []string{"https://evil.example.com", "http://localhost:3000", "http://192.168.1.5:5173", "null"} {
		if got := allowOrigin(t, s, origin); got != "" {
			t.Errorf("dev mode allows %s: %q", origin, got)
		}
	}
	want := "browsers may call /v1 from " + s.URL + ", http://localhost:5173, http://127.0.0.1:5173"
	if !strings.Contains(s.Logs.String(), want) {
		t.Errorf("the dev banner does not say %q:\n%s", want, s.Logs)
	}
}

func TestCORSAllowsExactlyTheConfiguredOrigins(t *testing.T) {
	s := testkit.Start(t, run, map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com"})
	if got := allowOrigin(t, s, "https://app.example.com"); got != "https://app.example.com" {
		t.Errorf("configured origin: %q", got)
	}
	for _, origin := range []string{"http://localhost:5173", "https://app.example.com.evil.com", "http://app.example.com"} {
		if got := allowOrigin(t, s, origin); got != "" {
			t.Errorf("%s allowed with CORS_ALLOWED_ORIGINS set: %q", origin, got)
		}
	}
}
