package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/testkit"
)

// One whole Link flow (token → emulator Link page → callback → webhook)
// moves each funnel counter by exactly one, and no label carries a user
// id, a token or a session id.
func TestMetricsFollowOneLinkFlow(t *testing.T) {
	s := testkit.Start(t, run, map[string]string{"METRICS_ADDR": "127.0.0.1:0"})
	metricsURL := s.MetricsURL()
	if r := s.Request(http.MethodGet, "/metrics", "", nil); strings.Contains(string(r.Body), "linkbff_http_requests_total") {
		t.Fatal("the public listener serves metrics")
	}
	token := s.DevToken("metrics-alice")
	userID := s.JunctionUserID(token)
	before := s.Scrape(metricsURL)

	lt := s.NewLinkToken(token, map[string]any{"provider": "oura", "return_to": s.URL + "/done"})
	callback := s.FinishLink(lt, "oura", testkit.Act("approve"))
	s.Request(http.MethodGet, callback, "", nil, "Accept", "application/json")
	s.Request(http.MethodGet, callback, "", nil) // a reload (303 to return_to) records nothing new
	testkit.Eventually(t, "the connection webhook", func() bool {
		return strings.Contains(s.Logs.String(), `"result":"applied"`)
	})
	after := s.Scrape(metricsURL)

	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"linkbff_link_tokens_total", map[string]string{"provider": "oura"}},
		{"linkbff_link_callbacks_total", map[string]string{"status": "connected", "error_type": "none"}},
		{"linkbff_webhooks_total", map[string]string{"event_type": "provider.connection.created", "outcome": "applied"}},
		{"linkbff_connections_confirmed_total", map[string]string{"provider": "oura", "via": "link"}},
		{"linkbff_link_to_connection_seconds", nil},
		{"linkbff_junction_calls_total", map[string]string{"operation": "link_token", "outcome": "2xx"}},
		{"linkbff_rate_limit_decisions_total", map[string]string{"route": "/v1/link/token", "backend": "memory", "decision": "allowed"}},
		{"linkbff_http_requests_total", map[string]string{"route": "/v1/link/token", "method": "POST", "status": "200"}},
		{"linkbff_http_requests_total", map[string]string{"route": "/link/callback/{session_id}", "method": "GET", "status": "200"}},
		{"linkbff_http_requests_total", map[string]string{"route": "/link/callback/{session_id}", "method": "GET", "status": "303"}},
	} {
		if d := after.Value(c.name, c.labels) - before.Value(c.name, c.labels); d != 1 {
			t.Errorf("%s%v moved by %v, want 1", c.name, c.labels, d)
		}
	}
	if n := after.Value("linkbff_dependency_up", map[string]string{"dependency": "database"}); n != 1 {
		t.Errorf("database up = %v", n)
	}

	sessionID := regexp.MustCompile(`/link/callback/([0-9a-f]{32})`).FindStringSubmatch(callback)[1]
	secrets := []string{"metrics-alice", userID, lt.LinkToken, url.QueryEscape(lt.LinkToken), sessionID, token}
	for _, label := range after.Labels() {
		for _, secret := range secrets {
			if strings.Contains(label, secret) {
				t.Errorf("label %s carries %q", label, secret)
			}
		}
		if name, value, _ := strings.Cut(label, "="); name == "route" && !strings.HasPrefix(value, "/") && value != "unmatched" {
			t.Errorf("route label %q is not a pattern", value)
		}
	}
}
