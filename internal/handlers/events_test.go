package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/events"
	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/testkit"
)

// tokenVerifier accepts any token as the user it names; "expiring:<ms>:u"
// is user u whose token expires in ms.
type tokenVerifier struct{}

func (tokenVerifier) Verify(_ context.Context, token string) (auth.Principal, error) {
	p := auth.Principal{UserID: token, ExpiresAt: time.Now().Add(time.Hour)}
	var ms int
	var user string
	if n, _ := fmt.Sscanf(strings.ReplaceAll(token, ":", " "), "expiring %d %s", &ms, &user); n == 2 {
		p = auth.Principal{UserID: user, ExpiresAt: time.Now().Add(time.Duration(ms) * time.Millisecond)}
	}
	return p, nil
}

// streamServer serves the API with the server timeouts cut short, as the
// real server's are for ordinary requests, and returns a client, the hub
// and the service.
func streamServer(t *testing.T, limits events.Limits, settings StreamSettings, mutate ...func(*Deps)) (*testkit.Client, *events.Hub) {
	t.Helper()
	svc, err := linking.New(linking.Config{Junction: struct{ linking.Junction }{}, Store: struct{ linking.Store }{}, PublicURL: "http://linkbff.test"})
	if err != nil {
		t.Fatal(err)
	}
	hub := events.NewHub(limits, nil)
	d := Deps{Log: zerolog.Nop(), Linking: svc, Verifier: tokenVerifier{}, Streams: hub, StreamSettings: settings}
	for _, m := range mutate {
		m(&d)
	}
	srv := httptest.NewUnstartedServer(New(d))
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(hub.Close) // streams first, so the server can close
	return testkit.NewClient(t, srv.URL), hub
}

func openStream(t *testing.T, c *testkit.Client, token, lastEventID string) *testkit.EventStream {
	t.Helper()
	s, r := c.OpenEventStream(token, lastEventID)
	if s == nil {
		t.Fatalf("GET /v1/events: %d %s", r.Status, r.Body)
	}
	if ct := s.Header.Get("Content-Type"); ct != "text/event-stream" || s.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: %v", s.Header)
	}
	return s
}

// The server's read and write timeouts (here 300 ms) bound ordinary
// requests; a stream outlives them, sending heartbeats and events.
func TestStreamOutlivesTheServerTimeouts(t *testing.T) {
	c, hub := streamServer(t, events.Limits{PerUser: 2, Total: 10}, StreamSettings{Heartbeat: 100 * time.Millisecond, IdleTimeout: time.Minute})
	s := openStream(t, c, "alice", "")
	if b, ok := s.Next(time.Second, func(b testkit.SSE) bool { return b.ID != "" }); !ok || b.ID != "0" {
		t.Fatalf("first cursor %+v, want id 0 (no event yet)", b)
	}
	if s.Retry() != reconnectDefault {
		t.Errorf("retry %d, want %d", s.Retry(), reconnectDefault)
	}
	pings := 0
	deadline := time.Now().Add(1200 * time.Millisecond) // four times the timeouts
	for time.Now().Before(deadline) {
		if _, ok := s.Next(time.Second, func(b testkit.SSE) bool { return len(b.Comments) > 0 && b.Comments[0] == "ping" }); !ok {
			t.Fatalf("the stream died after %d pings: %s", pings, s)
		}
		pings++
	}
	hub.Deliver(linking.Event{ID: "evt_1", Seq: 12, Type: linking.EventConnectionCreated, AppUserID: "alice", Provider: "oura", Status: "connected", Stream: true,
		CreatedAt: time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)})
	hub.Deliver(linking.Event{ID: "evt_2", Seq: 13, Type: linking.EventConnectionCreated, AppUserID: "bob", Stream: true})
	e, ok := s.NextEvent(time.Second)
	if !ok {
		t.Fatalf("no event after %d pings: %s", pings, s)
	}
	want := `{"id":"evt_1","type":"connection.created","provider":"oura","status":"connected","error_type":null,"created_at":"2025-05-01T12:00:00Z"}`
	if e.ID != "12" || e.Event != "connection.created" || e.Data != want {
		t.Errorf("event %+v, want id 12 and %s", e, want)
	}
	if e, ok := s.NextEvent(300 * time.Millisecond); ok {
		t.Errorf("alice's stream got %+v, someone else's event", e)
	}
}

// A stream ends, each time with a reconnection hint: when idle, when its
// token expires, when linkbff shuts down (spread over 0.5-2.5 s).
func TestStreamEnds(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		c, _ := streamServer(t, events.Limits{PerUser: 2, Total: 10}, StreamSettings{Heartbeat: time.Minute, IdleTimeout: 200 * time.Millisecond})
		s := openStream(t, c, "alice", "")
		if !s.Ended(5*time.Second) || s.Retry() != reconnectSoon {
			t.Errorf("idle stream: %s", s)
		}
	})
	t.Run("token expired", func(t *testing.T) {
		c, _ := streamServer(t, events.Limits{PerUser: 2, Total: 10}, StreamSettings{Heartbeat: time.Minute, IdleTimeout: time.Minute})
		s := openStream(t, c, "expiring:300:alice", "")
		if !s.Ended(5 * time.Second) {
			t.Errorf("stream of an expired token: %s", s)
		}
	})
	t.Run("shutdown", func(t *testing.T) {
		c, hub := streamServer(t, events.Limits{PerUser: 2, Total: 10}, StreamSettings{Heartbeat: time.Minute, IdleTimeout: time.Minute})
		s := openStream(t, c, "alice", "")
		s.Next(time.Second, func(b testkit.SSE) bool { return b.ID != "" })
		hub.Close()
		if !s.Ended(5*time.Second) || s.Retry() < 500 || s.Retry() > 2500 {
			t.Errorf("stream at shutdown: %s", s)
		}
		if _, r := c.OpenEventStream("alice", ""); r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("a stream during shutdown: %d %s", r.Status, r.Body)
		}
	})
	t.Run("fell behind", func(t *testing.T) {
		c, hub := streamServer(t, events.Limits{PerUser: 2, Total: 10}, StreamSettings{Heartbeat: time.Minute, IdleTimeout: time.Minute})
		s := openStream(t, c, "alice", "")
		for i := range 10_000 { // far more than a stream buffers; the client does not read meanwhile
			hub.Deliver(linking.Event{ID: fmt.Sprint("evt_", i), Seq: int64(i + 1), Type: linking.EventLinkCompleted, AppUserID: "alice", Stream: true})
		}
		if !s.Ended(10 * time.Second) {
			t.Errorf("a stream far behind was not ended: %s", s)
		}
	})
}

func TestStreamRefusals(t *testing.T) {
	c, _ := streamServer(t, events.Limits{PerUser: 1, Total: 2}, StreamSettings{Heartbeat: time.Minute, IdleTimeout: time.Minute})
	openStream(t, c, "alice", "")
	if _, r := c.OpenEventStream("alice", ""); r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || r.ErrorCode(t) != "rate_limited" {
		t.Errorf("a second stream for alice: %d %s", r.Status, r.Body)
	}
	openStream(t, c, "bob", "")
	if _, r := c.OpenEventStream("carol", ""); r.Status != http.StatusServiceUnavailable || r.ErrorCode(t) != "unavailable" {
		t.Errorf("a stream past the total: %d %s", r.Status, r.Body)
	}
	for _, bad := range []string{"abc", "-1", "1.5"} {
		if _, r := c.OpenEventStream("dave", bad); r.Status != http.StatusBadRequest || r.ErrorCode(t) != "invalid_request" {
			t.Errorf("Last-Event-ID %q: %d %s", bad, r.Status, r.Body)
		}
	}
	if _, r := c.OpenEventStream("", ""); r.Status != http.StatusUnauthorized {
		t.Errorf("no token: %d", r.Status)
	}
}

// A browser on an allowed origin may send Last-Event-ID with its fetch.
func TestStreamPreflightAllowsLastEventID(t *testing.T) {
	c, _ := streamServer(t, events.Limits{PerUser: 1, Total: 1}, StreamSettings{Heartbeat: time.Minute, IdleTimeout: time.Minute},
		func(d *Deps) { d.CORSAllowedOrigins = []string{"https://app.example.com"} })
	r := c.Do(http.MethodOptions, EventStreamPath, nil, "Origin", "https://app.example.com",
		"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization,last-event-id")
	if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || !strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")), "last-event-id") {
		t.Errorf("preflight: %d %v", r.Status, r.Header)
	}
}

func TestRecentSeqs(t *testing.T) {
	r := newRecentSeqs(3)
	for i, tc := range []struct {
		seq  int64
		want bool
	}{{1, true}, {1, false}, {2, true}, {3, true}, {4, true}, {2, false}, {1, true}} {
		if got := r.add(tc.seq); got != tc.want {
			t.Errorf("step %d: add(%d) = %v, want %v", i, tc.seq, got, tc.want)
		}
	}
}

// The admin API refuses browsers before it looks at the key, and compares
// the key whole.
func TestAdminRefusesBrowsersAndWrongKeys(t *testing.T) {
	const key = "admin-key-0123456789-0123456789-0123456789"
	var mu sync.Mutex
	c, _ := streamServer(t, events.Limits{PerUser: 1, Total: 1}, StreamSettings{Heartbeat: time.Minute, IdleTimeout: time.Minute},
		func(d *Deps) { d.AdminAPIKey = key; d.CORSAllowedOrigins = []string{"https://app.example.com"} })
	mu.Lock()
	defer mu.Unlock()
	tests := []struct {
		name    string
		headers []string
		status  int
		code    string
	}{
		{"the key", []string{"Authorization", "Bearer " + key}, http.StatusOK, ""},
		{"no key", nil, http.StatusUnauthorized, "unauthenticated"},
		{"a wrong key", []string{"Authorization", "Bearer " + key[:len(key)-1] + "x"}, http.StatusUnauthorized, "unauthenticated"},
		{"a prefix of the key", []string{"Authorization", "Bearer " + key[:20]}, http.StatusUnauthorized, "unauthenticated"},
		{"a user's JWT", []string{"Authorization", "Bearer alice"}, http.StatusUnauthorized, "unauthenticated"},
		{"the key from a page", []string{"Authorization", "Bearer " + key, "Origin", "https://app.example.com"}, http.StatusForbidden, "forbidden"},
		{"the key from a navigation", []string{"Authorization", "Bearer " + key, "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Site", "none"}, http.StatusForbidden, "forbidden"},
	}
	for _, tc := range tests {
		r := c.Do(http.MethodGet, "/admin/v1/events?status=failed", nil, tc.headers...)
		if r.Status != tc.status || (tc.code != "" && r.ErrorCode(t) != tc.code) {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: a CORS header on the admin API", tc.name)
		}
	}
	pre := c.Do(http.MethodOptions, "/admin/v1/events", nil, "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET",
		"Access-Control-Request-Headers", "authorization")
	if pre.Status < 400 || pre.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a preflight to the admin API: %d %v", pre.Status, pre.Header)
	}
}

// fakeOutbox is the store's event history for one user: events with Seq
// 1..n. Only what streams read is implemented.
type fakeOutbox struct {
	linking.Outbox
	n int64
}

func (f fakeOutbox) StreamEvents(_ context.Context, user string, after int64, limit int) ([]linking.Event, error) {
	var out []linking.Event
	for seq := after + 1; seq <= f.n && len(out) < limit; seq++ {
		out = append(out, linking.Event{ID: fmt.Sprintf("evt_%032d", seq), Seq: seq, Type: linking.EventConnectionCreated, AppUserID: user, Stream: true})
	}
	return out, nil
}

func (f fakeOutbox) LatestStreamSeq(context.Context, string) (int64, error) { return 5, nil }

// A resume sends every missed event, page after page, in order; a resync
// (the bus was away) sends what the store has after the last event sent,
// and an event that then also arrives live is not sent twice.
func TestStreamCatchesUpFromTheStore(t *testing.T) {
	outbox := fakeOutbox{n: 450}
	svc, err := linking.New(linking.Config{Junction: struct{ linking.Junction }{}, Store: struct{ linking.Store }{}, PublicURL: "http://linkbff.test", Outbox: outbox})
	if err != nil {
		t.Fatal(err)
	}
	c, hub := streamServer(t, events.Limits{PerUser: 2, Total: 10}, StreamSettings{Heartbeat: time.Minute, IdleTimeout: time.Minute},
		func(d *Deps) { d.Linking = svc })

	resumed := openStream(t, c, "alice", "3")
	for want := int64(4); want <= outbox.n; want++ {
		e, ok := resumed.NextEvent(5 * time.Second)
		if !ok || e.ID != fmt.Sprint(want) {
			t.Fatalf("resume: got %+v (%v), want event %d", e, ok, want)
		}
	}
	resumed.Close()

	fresh := openStream(t, c, "bob", "")
	if b, _ := fresh.Next(time.Second, func(b testkit.SSE) bool { return b.ID != "" }); b.ID != "5" {
		t.Fatalf("a new stream starts at %q, want the user's latest, 5", b.ID)
	}
	hub.Resync()
	for want := int64(6); want <= 8; want++ {
		if e, ok := fresh.NextEvent(5 * time.Second); !ok || e.ID != fmt.Sprint(want) {
			t.Fatalf("resync: got %+v (%v), want event %d", e, ok, want)
		}
	}
	hub.Deliver(linking.Event{ID: "evt_dup", Seq: 7, Type: linking.EventConnectionCreated, AppUserID: "bob", Stream: true})
	hub.Deliver(linking.Event{ID: "evt_new", Seq: 451, Type: linking.EventConnectionError, AppUserID: "bob", Stream: true})
	for {
		e, ok := fresh.NextEvent(5 * time.Second)
		if !ok {
			t.Fatal("the live event after the resync never came")
		}
		if e.ID == "7" && strings.Contains(e.Data, "evt_dup") {
			t.Fatal("an event sent in the catch-up was sent again live")
		}
		if e.ID == "451" {
			break
		}
	}
}
