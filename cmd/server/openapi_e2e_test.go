package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/testkit"
)

func TestOpenAPIDocumentIsServed(t *testing.T) {
	s := testkit.Start(t, run, nil)
	r := s.Request(http.MethodGet, "/openapi.json", "", nil)
	if r.Status != http.StatusOK || !bytes.Equal(r.Body, api.OpenAPI) {
		t.Fatalf("GET /openapi.json: %d, %d bytes", r.Status, len(r.Body))
	}
	etag := r.Header.Get("ETag")
	if again := s.Request(http.MethodGet, "/openapi.json", "", nil, "If-None-Match", etag); again.Status != http.StatusNotModified {
		t.Fatalf("revalidation: %d", again.Status)
	}
}

// reshape stands for a linkbff whose code drifted from the document: it
// rewrites the JSON answers of one route.
type reshape struct {
	base  http.RoundTripper
	route string
	edit  func(status int, body map[string]any) (int, map[string]any)
}

func (rs reshape) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rs.base.RoundTrip(req)
	if err != nil || req.URL.Path != rs.route {
		return resp, err
	}
	var body map[string]any
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, err
	}
	resp.StatusCode, body = rs.edit(resp.StatusCode, body)
	raw, _ = json.Marshal(body)
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	return resp, nil
}

// The checks the suite runs on every exchange catch a response whose shape
// is not the document's: a field added in code and not in the document, a
// field gone, an error code or status the route does not declare.
func TestContractCatchesAWrongResponseShape(t *testing.T) {
	s := testkit.Start(t, run, nil)
	token := s.DevToken("drift")
	contract, err := testkit.NewContract(api.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(int, map[string]any) (int, map[string]any)
		want string
	}{
		{"a field added", func(st int, b map[string]any) (int, map[string]any) { b["expires_in"] = 600; return st, b },
			"additional properties 'expires_in' not allowed"},
		{"a field gone", func(st int, b map[string]any) (int, map[string]any) { delete(b, "link_web_url"); return st, b },
			"missing property 'link_web_url'"},
		{"a field of another type", func(st int, b map[string]any) (int, map[string]any) { b["link_token"] = 42; return st, b },
			"link_token"},
		{"an undeclared status", func(_ int, b map[string]any) (int, map[string]any) { return http.StatusTeapot, b },
			"status is not supported"},
		{"an error code the status does not carry", func(int, map[string]any) (int, map[string]any) {
			return http.StatusTooManyRequests, map[string]any{"error": map[string]any{"code": "slow_down", "message": "wait"}}
		}, "slow_down"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var reported []string
			client := testkit.NewClient(t, s.URL)
			client.HTTP.Transport = contract.Transport(reshape{base: client.HTTP.Transport, route: "/v1/link/token", edit: tc.edit}, s.URL,
				func(err error) { mu.Lock(); reported = append(reported, err.Error()); mu.Unlock() })
			client.Request(http.MethodPost, "/v1/link/token", token, map[string]any{"provider": "oura"})
			mu.Lock()
			defer mu.Unlock()
			if len(reported) != 1 || !strings.Contains(reported[0], tc.want) {
				t.Fatalf("reported %q, want one report mentioning %q", reported, tc.want)
			}
		})
	}

	// The same client, the answer untouched: nothing to report.
	client := testkit.NewClient(t, s.URL)
	client.HTTP.Transport = contract.Transport(client.HTTP.Transport, s.URL, func(err error) { t.Errorf("false alarm: %v", err) })
	client.Request(http.MethodPost, "/v1/link/token", token, map[string]any{"provider": "oura"})
}
