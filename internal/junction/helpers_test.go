package junction

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

const testAPIKey = "sk_us_TESTSECRETKEY0123456789"

// recordedRequest is what the fake Junction saw.
type recordedRequest struct {
	Method, Path, RawPath, Query string
	Header                       http.Header
	Body                         string
}

// fakeJunction is an httptest server that records requests and answers
// with the handler under test.
type fakeJunction struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recordedRequest
}

func newFakeJunction(t *testing.T, handler http.HandlerFunc) *fakeJunction {
	t.Helper()
	f := &fakeJunction{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, recordedRequest{
			Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), Query: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: string(body),
		})
		f.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeJunction) recorded() []recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recordedRequest(nil), f.requests...)
}

// sleepRecorder replaces Client.sleep so tests see the delays chosen
// without waiting for them.
type sleepRecorder struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

// newTestClient returns a client for f whose sleeps are recorded, not slept.
func newTestClient(t *testing.T, f *fakeJunction, mutate ...func(*Config)) (*Client, *sleepRecorder) {
	t.Helper()
	cfg := Config{BaseURL: f.URL, APIKey: testAPIKey, HTTPClient: f.Client(), BaseBackoff: time.Millisecond}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rec := &sleepRecorder{}
	c.sleep = rec.sleep
	return c, rec
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// roundTripFunc lets a test fail transport attempts on purpose.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
