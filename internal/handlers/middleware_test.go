package handlers

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// corsAnswer sends a preflight and a plain GET from origin through corsFor
// and returns both Access-Control-Allow-Origin headers.
func corsAnswer(origins []string, origin string) (preflight, plain string) {
	h := corsFor(origins)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	pre := httptest.NewRequest(http.MethodOptions, "/v1/providers", nil)
	pre.Header.Set("Origin", origin)
	pre.Header.Set("Access-Control-Request-Method", http.MethodGet)
	pre.Header.Set("Access-Control-Request-Headers", "authorization")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, pre)
	get := httptest.NewRequest(http.MethodGet, "/v1/providers", nil)
	get.Header.Set("Origin", origin)
	w2 := httptest.NewRecorder()
	h.ServeHTTP(w2, get)
	return w.Header().Get("Access-Control-Allow-Origin"), w2.Header().Get("Access-Control-Allow-Origin")
}

func TestCORSWithNoOriginsAllowsNone(t *testing.T) {
	for _, origins := range [][]string{nil, {}} {
		if pre, plain := corsAnswer(origins, "https://evil.example.com"); pre != "" || plain != "" {
			t.Errorf("no origins configured: preflight allows %q, GET allows %q", pre, plain)
		}
	}
	allowed := []string{"https://app.example.com"}
	if pre, plain := corsAnswer(allowed, "https://app.example.com"); pre != "https://app.example.com" || plain != "https://app.example.com" {
		t.Errorf("configured origin: preflight %q, GET %q", pre, plain)
	}
	if pre, plain := corsAnswer(allowed, "https://app.example.com.evil.com"); pre != "" || plain != "" {
		t.Errorf("another origin: preflight %q, GET %q", pre, plain)
	}
}
