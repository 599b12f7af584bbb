package forward_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/linkbff/linkbff/internal/forward"
	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/store"
	"github.com/linkbff/linkbff/internal/store/sqlite"
	"github.com/linkbff/linkbff/internal/testkit"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "linkbff.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var idCounter struct {
	sync.Mutex
	n int
}

// storeEvent puts a pending event in the outbox, as the domain does.
func storeEvent(t *testing.T, s *store.Store, e linking.Event) linking.Event {
	t.Helper()
	idCounter.Lock()
	idCounter.n++
	e.ID = fmt.Sprintf("evt_%032x", idCounter.n)
	idCounter.Unlock()
	now := time.Now().UTC()
	e.CreatedAt = now
	e.Delivery = linking.Delivery{State: linking.DeliveryPending, NextAttemptAt: &now}
	if ok, err := s.RecordWebhookEvent(t.Context(), "msg-"+e.ID, &e); err != nil || !ok {
		t.Fatalf("store event: %v", err)
	}
	return e
}

func junctionEvent(appUser string) linking.Event {
	return linking.Event{
		Type: linking.EventConnectionCreated, AppUserID: appUser, JunctionUserID: "jn-1", Provider: "oura",
		Junction: []byte(`{"event_type":"provider.connection.created","user_id":"jn-1","client_user_id":"c-1","team_id":"t","data":{"provider":{"slug":"oura"}}}`),
	}
}

type outcomes struct {
	mu  sync.Mutex
	got []string
}

func (o *outcomes) DeliveryAttempted(outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, outcome)
}

func (o *outcomes) list() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.got...)
}

// startWorker runs a worker on s until the test ends.
func startWorker(t *testing.T, s linking.Outbox, url string, mutate ...func(*forward.Config)) (*forward.Worker, *outcomes) {
	t.Helper()
	obs := &outcomes{}
	cfg := forward.Config{
		Outbox: s, URL: url, Secret: testkit.AppWebhookSecret,
		Schedule: []time.Duration{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond},
		Timeout:  2 * time.Second, PollInterval: 50 * time.Millisecond, Observer: obs, Logger: zerolog.Nop(),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	w, err := forward.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return w, obs
}

func forwarded(t *testing.T, s *store.Store, state linking.DeliveryState) []linking.Event {
	t.Helper()
	events, err := s.ForwardedEvents(t.Context(), linking.EventQuery{State: state, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// A Junction event reaches the backend as Junction sent it plus
// app_user_id, signed per Standard Webhooks (checked from the spec and with
// Svix's library), and is marked delivered.
func TestDeliversSignedEventWithAppUserID(t *testing.T) {
	s := openStore(t)
	rcv := testkit.NewWebhookReceiver(t, nil)
	e := storeEvent(t, s, junctionEvent("alice@example.com"))
	startWorker(t, s, rcv.URL)

	d := rcv.Await(t, "one delivery", func(r []testkit.ReceivedWebhook) bool { return len(r) == 1 })[0]
	if err := testkit.VerifyStandardWebhook(testkit.AppWebhookSecret, d.Header, d.Body); err != nil {
		t.Fatalf("Standard Webhooks verification: %v", err)
	}
	wh, _ := svix.NewWebhook(testkit.AppWebhookSecret)
	if err := wh.Verify(d.Body, d.Header); err != nil {
		t.Fatalf("svix verification: %v", err)
	}
	if d.ID != e.ID || d.Header.Get("Content-Type") != "application/json" {
		t.Errorf("webhook-id %q (want %q), content type %q", d.ID, e.ID, d.Header.Get("Content-Type"))
	}
	var body map[string]any
	if err := json.Unmarshal(d.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["app_user_id"] != "alice@example.com" || body["user_id"] != "jn-1" || body["client_user_id"] != "c-1" || body["event_type"] != linking.EventConnectionCreated {
		t.Errorf("body %s", d.Body)
	}
	testkit.Eventually(t, "delivered state", func() bool { return len(forwarded(t, s, linking.DeliveryDelivered)) == 1 })
	if got := forwarded(t, s, linking.DeliveryDelivered)[0]; got.Delivery.LastStatus != http.StatusNoContent || got.Delivery.Attempts != 1 {
		t.Errorf("delivery %+v", got.Delivery)
	}
}

// The backend answering 500 three times then 200 gets the same webhook-id
// four times, and nothing after.
func TestRetriesWithTheSameWebhookID(t *testing.T) {
	s := openStore(t)
	rcv := testkit.NewWebhookReceiver(t, func(nth int, _ testkit.ReceivedWebhook) int {
		if nth <= 3 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	e := storeEvent(t, s, junctionEvent("bob"))
	_, obs := startWorker(t, s, rcv.URL)

	rcv.Await(t, "four deliveries", func(r []testkit.ReceivedWebhook) bool { return len(r) == 4 })
	testkit.Eventually(t, "delivered state", func() bool { return len(forwarded(t, s, linking.DeliveryDelivered)) == 1 })
	time.Sleep(200 * time.Millisecond) // several poll intervals: nothing more may come
	got := rcv.Received()
	if len(got) != 4 {
		t.Fatalf("%d deliveries, want 4", len(got))
	}
	for i, d := range got {
		if d.ID != e.ID {
			t.Errorf("delivery %d has webhook-id %q, want %q", i+1, d.ID, e.ID)
		}
		if err := testkit.VerifyStandardWebhook(testkit.AppWebhookSecret, d.Header, d.Body); err != nil {
			t.Errorf("delivery %d: %v", i+1, err)
		}
	}
	if want := "retrying retrying retrying delivered"; strings.Join(obs.list(), " ") != want {
		t.Errorf("outcomes %v, want %s", obs.list(), want)
	}
}

// After the last scheduled attempt the event is failed, with the reason.
func TestGivesUpAfterTheSchedule(t *testing.T) {
	s := openStore(t)
	rcv := testkit.NewWebhookReceiver(t, func(int, testkit.ReceivedWebhook) int { return http.StatusBadGateway })
	storeEvent(t, s, junctionEvent("carol"))
	_, obs := startWorker(t, s, rcv.URL)
	testkit.Eventually(t, "failed state", func() bool { return len(forwarded(t, s, linking.DeliveryFailed)) == 1 })
	time.Sleep(200 * time.Millisecond)
	if n := len(rcv.Received()); n != 4 {
		t.Errorf("%d attempts, want 4 (one plus a schedule of three)", n)
	}
	got := forwarded(t, s, linking.DeliveryFailed)[0].Delivery
	if got.LastStatus != http.StatusBadGateway || got.LastError != "answered 502" || got.Attempts != 4 || got.NextAttemptAt != nil {
		t.Errorf("failed delivery %+v", got)
	}
	if o := obs.list(); len(o) != 4 || o[3] != forward.OutcomeFailed {
		t.Errorf("outcomes %v", o)
	}
}

// A redirect is an unsuccessful answer: the signed event never goes to the
// address it points at.
func TestRedirectsAreNotFollowed(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect was followed to %s", r.URL)
	}))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	s := openStore(t)
	storeEvent(t, s, junctionEvent("dave"))
	startWorker(t, s, redirector.URL, func(c *forward.Config) { c.Schedule = c.Schedule[:1] })
	testkit.Eventually(t, "failed state", func() bool { return len(forwarded(t, s, linking.DeliveryFailed)) == 1 })
	if got := forwarded(t, s, linking.DeliveryFailed)[0].Delivery; got.LastStatus != http.StatusTemporaryRedirect || !strings.Contains(got.LastError, "redirects are not followed") {
		t.Errorf("delivery %+v", got)
	}
}

// A backend that does not answer in time is a failed attempt that says so.
func TestSlowBackendTimesOut(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	s := openStore(t)
	storeEvent(t, s, junctionEvent("erin"))
	startWorker(t, s, slow.URL, func(c *forward.Config) { c.Timeout, c.Schedule = 100*time.Millisecond, c.Schedule[:1] })
	testkit.Eventually(t, "failed state", func() bool { return len(forwarded(t, s, linking.DeliveryFailed)) == 1 })
	if got := forwarded(t, s, linking.DeliveryFailed)[0].Delivery; got.LastError != "no answer within 100ms" || got.LastStatus != 0 {
		t.Errorf("delivery %+v", got)
	}
}

// An event a dead worker held (claimed, never finished) is delivered by
// another once the lease ends; two live workers never send one event twice.
func TestLeasesShareTheOutbox(t *testing.T) {
	s := openStore(t)
	rcv := testkit.NewWebhookReceiver(t, nil)
	rcv.SetDelay(20 * time.Millisecond)
	orphan := storeEvent(t, s, junctionEvent("frank"))
	if got, err := s.ClaimDeliveries(t.Context(), "a-worker-that-died", time.Now(), 300*time.Millisecond, 1); err != nil || len(got) != 1 {
		t.Fatalf("claim for the dead worker: %v %v", got, err)
	}
	const n = 30
	for range n {
		storeEvent(t, s, junctionEvent("frank"))
	}
	for range 2 {
		startWorker(t, s, rcv.URL, func(c *forward.Config) { c.Lease = 300 * time.Millisecond })
	}
	rcv.Await(t, "every event", func(r []testkit.ReceivedWebhook) bool { return len(r) >= n+1 })
	time.Sleep(400 * time.Millisecond)
	seen := map[string]int{}
	for _, d := range rcv.Received() {
		seen[d.ID]++
	}
	if len(seen) != n+1 || seen[orphan.ID] != 1 {
		t.Fatalf("%d distinct events of %d (the orphan %d times)", len(seen), n+1, seen[orphan.ID])
	}
	for id, c := range seen {
		if c > 1 {
			t.Errorf("%s delivered %d times by live workers", id, c)
		}
	}
}

// linkbff's own events have Junction's envelope, say who reported a Link
// outcome, and carry app_user_id.
func TestOwnEventBodies(t *testing.T) {
	at := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		event linking.Event
		want  string
	}{
		{linking.Event{Type: linking.EventLinkCompleted, AppUserID: "u", JunctionUserID: "jn", Status: "error", ErrorType: "provider_credential_error", Provider: "oura", CreatedAt: at},
			`{"event_type":"link.completed","user_id":"jn","app_user_id":"u","created_at":"2025-05-01T12:00:00Z","data":{"provider":"oura","status":"error","error_type":"provider_credential_error","reported_by":"browser"}}`},
		{linking.Event{Type: linking.EventLinkCompleted, AppUserID: "u", JunctionUserID: "jn", Status: "connected", CreatedAt: at},
			`{"event_type":"link.completed","user_id":"jn","app_user_id":"u","created_at":"2025-05-01T12:00:00Z","data":{"provider":null,"status":"connected","error_type":null,"reported_by":"browser"}}`},
		{linking.Event{Type: linking.EventConnectionDisconnected, AppUserID: "u", JunctionUserID: "jn", Provider: "fitbit", Reason: linking.ReasonUserDeleted, CreatedAt: at},
			`{"event_type":"connection.disconnected","user_id":"jn","app_user_id":"u","created_at":"2025-05-01T12:00:00Z","data":{"provider":"fitbit","reason":"user_deleted"}}`},
		{linking.Event{Type: "daily.data.sleep.created", Junction: []byte(`{"event_type":"daily.data.sleep.created","user_id":"jn-x"}`)},
			`{"app_user_id":null,"event_type":"daily.data.sleep.created","user_id":"jn-x"}`},
	}
	for _, tc := range tests {
		got, err := forward.Body(tc.event)
		if err != nil || string(got) != tc.want {
			t.Errorf("%s:\n got %s (%v)\nwant %s", tc.event.Type, got, err, tc.want)
		}
	}
	if _, err := forward.Body(linking.Event{Type: "x", Junction: []byte(`[1]`)}); err == nil {
		t.Error("a Junction body that is not an object rendered")
	}
}

func TestParseSchedule(t *testing.T) {
	got, err := forward.ParseSchedule(forward.DefaultSchedule)
	if err != nil {
		t.Fatal(err)
	}
	var total time.Duration
	for _, d := range got {
		total += d
	}
	// Svix-like: seconds, then minutes, then hours; failed after about 3 days.
	if got[0] != 5*time.Second || got[1] != 5*time.Minute || total < 60*time.Hour || total > 80*time.Hour {
		t.Errorf("default schedule %v adds up to %s", got, total)
	}
	for _, bad := range []string{"", "5s,,5m", "-1s", "0s", "soon", "200h"} {
		if _, err := forward.ParseSchedule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	s := openStore(t)
	base := forward.Config{Outbox: s, URL: "https://app.example.com/hooks", Secret: testkit.AppWebhookSecret, Schedule: []time.Duration{time.Second}, Timeout: time.Second}
	for name, mutate := range map[string]func(*forward.Config){
		"no whsec_ prefix":  func(c *forward.Config) { c.Secret = strings.TrimPrefix(c.Secret, "whsec_") },
		"secret not base64": func(c *forward.Config) { c.Secret = "whsec_!!!" },
		"relative URL":      func(c *forward.Config) { c.URL = "/hooks" },
		"ftp URL":           func(c *forward.Config) { c.URL = "ftp://app.example.com/" },
		"no schedule":       func(c *forward.Config) { c.Schedule = nil },
	} {
		cfg := base
		mutate(&cfg)
		if _, err := forward.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := forward.New(base); err != nil {
		t.Errorf("valid settings refused: %v", err)
	}
}

// Whatever JSON object Junction signs, its forwarded body is a JSON object
// with every key Junction sent and app_user_id beside them.
func FuzzBody(f *testing.F) {
	f.Add([]byte(`{"event_type":"daily.data.sleep.created","user_id":"u","data":{"score":81}}`), "alice")
	f.Add([]byte(`{}`), "")
	f.Add([]byte(`{"app_user_id":"forged by nobody","x":[1,2,{"y":null}]}`), "bob")
	f.Add([]byte(` { "a" : "\u00e9\ud83d\ude00" } `), "carol")
	f.Fuzz(func(t *testing.T, junction []byte, appUser string) {
		var sent map[string]json.RawMessage
		if json.Unmarshal(junction, &sent) != nil || sent == nil {
			return // not what ParseWebhookEvent lets through
		}
		if !utf8.ValidString(appUser) {
			return // user ids come from JWT claims: JSON strings, valid UTF-8
		}
		body, err := forward.Body(linking.Event{Type: "t", AppUserID: appUser, Junction: junction})
		if err != nil {
			t.Fatalf("Body(%q): %v", junction, err)
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("the forwarded body is not JSON: %v\n%s", err, body)
		}
		var gotUser *string
		_ = json.Unmarshal(got["app_user_id"], &gotUser)
		if (appUser == "") != (gotUser == nil) || (gotUser != nil && *gotUser != appUser) {
			t.Fatalf("app_user_id %s for %q", got["app_user_id"], appUser)
		}
		for k := range sent {
			if _, ok := got[k]; !ok && k != "app_user_id" {
				t.Fatalf("key %q was lost: %s", k, body)
			}
		}
	})
}
