package main

import (
	"net/http"
	"testing"

	"github.com/linkbff/linkbff/internal/testkit"
)

// routeCall is one app route and the Junction call it makes.
type routeCall struct {
	method, path string
	body         any
	// junction is the "METHOD /path" prefix of the Junction call to break.
	junction string
}

var routesThatReachJunction = []routeCall{
	{http.MethodPost, "/v1/link/token", nil, "POST /v2/link/token"},
	{http.MethodGet, "/v1/link/oauth/oura", nil, "GET /v2/link/provider/oauth/"},
	{http.MethodGet, "/v1/connections", nil, "GET /v2/user/providers/"},
	{http.MethodDelete, "/v1/connections/oura", nil, "DELETE /v2/user/"},
	{http.MethodGet, "/v1/providers", nil, "GET /v2/providers"},
	{http.MethodPost, "/v1/mobile/sign-in-token", nil, "POST /v2/user/"},
	{http.MethodDelete, "/v1/me", nil, "DELETE /v2/user/"},
}

// A Junction 4xx is linkbff's fault, never the app's: 502 upstream_error.
// The exception is the one Junction documents as the caller's: a provider
// that cannot be connected through OAuth.
func TestJunction400ReachesTheAppAs502(t *testing.T) {
	s := productionServer(t, nil)
	token := s.idp.Sign(t, testkit.Claims("four-hundred"))
	if r := s.Request(http.MethodPost, "/v1/link/token", token, nil); r.Status != http.StatusOK {
		t.Fatalf("setup: %d %s", r.Status, r.Body)
	}
	for _, rc := range routesThatReachJunction {
		s.breaks.Store(&junctionBreak{prefixes: []string{rc.junction}, status: http.StatusBadRequest})
		r := s.Request(rc.method, rc.path, token, rc.body)
		wantStatus, wantCode := http.StatusBadGateway, "upstream_error"
		if rc.path == "/v1/link/oauth/oura" {
			wantStatus, wantCode = http.StatusBadRequest, "invalid_request"
		}
		if r.Status != wantStatus || r.ErrorCode(t) != wantCode {
			t.Errorf("Junction 400 on %s during %s %s → %d %s, want %d %s", rc.junction, rc.method, rc.path, r.Status, r.Body, wantStatus, wantCode)
		}
	}
	// A first-time user whose creation Junction refuses.
	s.breaks.Store(&junctionBreak{prefixes: []string{"POST /v2/user"}, status: http.StatusBadRequest})
	r := s.Request(http.MethodPost, "/v1/link/token", s.idp.Sign(t, testkit.Claims("newcomer")), nil)
	if r.Status != http.StatusBadGateway || r.ErrorCode(t) != "upstream_error" {
		t.Errorf("Junction 400 on user creation → %d %s, want 502 upstream_error", r.Status, r.Body)
	}
	s.breaks.Store(nil)
	if r := s.Request(http.MethodPost, "/v1/link/token", token, nil); r.Status != http.StatusOK {
		t.Fatalf("after Junction recovered: %d %s", r.Status, r.Body)
	}
}

// A Junction 503 is worth retrying: 503 upstream_unavailable with Junction's
// Retry-After. The connection list instead falls back to what webhooks said.
func TestJunction503ReachesTheAppAs503WithRetryAfter(t *testing.T) {
	s := productionServer(t, nil)
	token := s.idp.Sign(t, testkit.Claims("five-oh-three"))
	if r := s.Request(http.MethodPost, "/v1/link/token", token, nil); r.Status != http.StatusOK {
		t.Fatalf("setup: %d %s", r.Status, r.Body)
	}
	for _, rc := range routesThatReachJunction {
		// Longer than the request deadline, so the client does not wait to retry.
		s.breaks.Store(&junctionBreak{prefixes: []string{rc.junction}, status: http.StatusServiceUnavailable, retryAfter: "45"})
		r := s.Request(rc.method, rc.path, token, rc.body)
		if rc.path == "/v1/connections" {
			var list struct{ Stale bool }
			if r.Status == http.StatusOK {
				r.JSON(t, &list)
			}
			if !list.Stale {
				t.Errorf("Junction 503 during GET /v1/connections → %d %s, want 200 marked stale", r.Status, r.Body)
			}
			continue
		}
		if r.Status != http.StatusServiceUnavailable || r.ErrorCode(t) != "upstream_unavailable" || r.Header.Get("Retry-After") != "45" {
			t.Errorf("Junction 503 on %s during %s %s → %d Retry-After %q %s, want 503 upstream_unavailable with Retry-After 45",
				rc.junction, rc.method, rc.path, r.Status, r.Header.Get("Retry-After"), r.Body)
		}
	}
}
