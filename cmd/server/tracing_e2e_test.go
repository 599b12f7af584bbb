package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/testkit"
)

// With OTEL_EXPORTER_OTLP_ENDPOINT set, one token request is one trace: a
// server span carrying the request id, with a child span per store and
// Junction call; the access log line names the same trace, and no span
// holds the JWT or the link token.
func TestTracingShowsOneTokenRequest(t *testing.T) {
	collector := testkit.NewOTLPCollector(t)
	s := testkit.Start(t, run, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL, "OTEL_SERVICE_NAME": "linkbff-e2e"})
	jwt := s.DevToken("tracy")
	r := s.Request(http.MethodPost, "/v1/link/token", jwt, map[string]any{"provider": "oura"}, "X-Request-Id", "trace-me-1")
	var lt testkit.LinkToken
	r.DecodeOK(t, "link token", &lt)
	s.Stop() // flushes the exporter

	spans := collector.Spans()
	var root testkit.Span
	for _, sp := range spans {
		if sp.Attributes["linkbff.request_id"] == "trace-me-1" {
			root = sp
		}
		for k, v := range sp.Attributes {
			if strings.Contains(v, jwt) || strings.Contains(v, lt.LinkToken) || strings.Contains(v, "Bearer") {
				t.Errorf("span %s attribute %s holds a secret", sp.Name, k)
			}
		}
	}
	if root.Name != "POST /v1/link/token" || root.ParentID != "" || root.Attributes["resource.service.name"] != "linkbff-e2e" {
		t.Fatalf("no server span for the request: %+v\nall: %v", root, spanNames(spans))
	}
	var children []string
	for _, sp := range spans {
		if sp.TraceID == root.TraceID && sp.SpanID != root.SpanID {
			if sp.ParentID != root.SpanID {
				t.Errorf("%s is not a child of the request span", sp.Name)
			}
			children = append(children, sp.Name)
		}
	}
	t.Logf("%s\n  %s", root.Name, strings.Join(children, "\n  "))
	for _, want := range []string{"store UserMappingByAppUser", "junction create_user", "store SaveUserMapping", "store CreateLinkSession", "junction link_token"} {
		if !slices.Contains(children, want) {
			t.Errorf("the trace has no %q span: %q", want, children)
		}
	}

	for _, line := range s.Logs.Lines() {
		var entry struct {
			Message   string
			RequestID string `json:"request_id"`
			TraceID   string `json:"trace_id"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Message == "request" && entry.RequestID == "trace-me-1" {
			if entry.TraceID != root.TraceID {
				t.Errorf("the access log names trace %q, the span is in %q", entry.TraceID, root.TraceID)
			}
			return
		}
	}
	t.Error("no access log line for the request")
}

func spanNames(spans []testkit.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}
