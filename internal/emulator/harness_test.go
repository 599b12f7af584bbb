package emulator

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/testkit"
)

const (
	testAPIKey = "sk_us_test_key"
	mountPath  = "/_junction"
)

// harness runs the emulator mounted under /_junction, as linkbff does in
// development, behind a real HTTP server; its client's targets are
// relative to the mount.
type harness struct {
	*testkit.Client
	t   *testing.T
	emu *Emulator
}

func newHarness(t *testing.T, configure func(*Config)) *harness {
	t.Helper()
	return newMountedHarness(t, configure, func(emulator http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle(mountPath+"/", http.StripPrefix(mountPath, emulator))
		return mux
	})
}

// newMountedHarness serves the emulator's handler (checked against the
// spec) through mount, which puts it under mountPath.
func newMountedHarness(t *testing.T, configure func(*Config), mount func(emulator http.Handler) http.Handler) *harness {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String() + mountPath
	cfg := Config{APIKey: testAPIKey, PublicURL: base}
	if configure != nil {
		configure(&cfg)
	}
	emu, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv.Config.Handler = mount(conformingHandler(t, emu.Handler()))
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		emu.Close()
	})
	return &harness{Client: testkit.NewClient(t, base), t: t, emu: emu}
}

// team sends a team API call with the API key.
func (h *harness) team(method, path string, body any) testkit.Response {
	h.t.Helper()
	return h.Do(method, path, body, "x-vital-api-key", testAPIKey)
}

func expectStatus(t *testing.T, r testkit.Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, want, r.Body)
	}
}

func (h *harness) createUser(clientUserID string) wireUser {
	h.t.Helper()
	r := h.team("POST", "/v2/user", map[string]any{"client_user_id": clientUserID})
	expectStatus(h.t, r, http.StatusOK)
	var u wireUser
	r.JSON(h.t, &u)
	return u
}

func (h *harness) linkToken(body map[string]any) wireLinkToken {
	h.t.Helper()
	r := h.team("POST", "/v2/link/token", body)
	expectStatus(h.t, r, http.StatusOK)
	var lt wireLinkToken
	r.JSON(h.t, &lt)
	return lt
}

// followHref finds the href of the first element matching attrPattern in
// an HTML page and resolves it against the page URL.
func followHref(t *testing.T, pageURL string, page []byte, attrPattern string) string {
	t.Helper()
	re := regexp.MustCompile(attrPattern + `[^>]*?href="([^"]*)"`)
	m := re.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no element matching %s in page:\n%s", attrPattern, page)
	}
	base, err := url.Parse(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := url.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	return base.ResolveReference(ref).String()
}

// consentURL opens link_web_url and clicks the provider, returning the
// consent screen URL.
func (h *harness) consentURL(lt wireLinkToken, slug string) string {
	h.t.Helper()
	r := h.Do("GET", lt.LinkWebURL, nil)
	expectStatus(h.t, r, http.StatusOK)
	return followHref(h.t, lt.LinkWebURL, r.Body, `data-provider="`+regexp.QuoteMeta(slug)+`"`)
}

// buttonURL opens the consent screen and returns the URL behind a button.
func (h *harness) buttonURL(consentURL, id string) string {
	h.t.Helper()
	r := h.Do("GET", consentURL, nil)
	expectStatus(h.t, r, http.StatusOK)
	return followHref(h.t, consentURL, r.Body, `id="`+id+`"`)
}

// redirectParams checks a 307 to redirectURL and returns its query.
func redirectParams(t *testing.T, r testkit.Response, redirectURL string) url.Values {
	t.Helper()
	expectStatus(t, r, http.StatusTemporaryRedirect)
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := url.Parse(redirectURL)
	if loc.Scheme != want.Scheme || loc.Host != want.Host || loc.Path != want.Path {
		t.Fatalf("Location = %s, want it to point at %s", loc, redirectURL)
	}
	return loc.Query()
}

// fakeClock is a Config.Now that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// webhookSink is a receiver that records deliveries; statuses says what to
// answer to each successive delivery (then 204).
type webhookSink struct {
	srv      *httptest.Server
	secret   string
	received chan receivedWebhook

	mu       sync.Mutex
	statuses []int
}

type receivedWebhook struct {
	header http.Header
	body   []byte
	status int
}

func newWebhookSink(t *testing.T, statuses ...int) *webhookSink {
	t.Helper()
	s := &webhookSink{secret: NewWebhookSecret(), received: make(chan receivedWebhook, 64), statuses: statuses}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		// Every delivery of every test must match the spec's webhook.
		var envelope struct {
			EventType string `json:"event_type"`
		}
		if err := json.Unmarshal(body, &envelope); err != nil {
			t.Errorf("webhook body is not JSON: %v", err)
		} else if err := validateAt(webhookPointer(envelope.EventType), body); err != nil {
			t.Errorf("webhook %s off the spec: %v\nbody: %s", envelope.EventType, err, body)
		}
		status := http.StatusNoContent
		s.mu.Lock()
		if len(s.statuses) > 0 {
			status, s.statuses = s.statuses[0], s.statuses[1:]
		}
		s.mu.Unlock()
		w.WriteHeader(status)
		s.received <- receivedWebhook{header: r.Header.Clone(), body: body, status: status}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *webhookSink) configure(cfg *Config) {
	cfg.WebhookURL = s.srv.URL + "/hooks"
	cfg.WebhookSecret = s.secret
	cfg.RetrySchedule = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
}

// next waits for the next delivery; the generous bound only stops a hung
// test, it asserts nothing about timing.
func (s *webhookSink) next(t *testing.T) receivedWebhook {
	t.Helper()
	select {
	case got := <-s.received:
		return got
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook delivered")
		return receivedWebhook{}
	}
}

func (s *webhookSink) verify(t *testing.T, got receivedWebhook) {
	t.Helper()
	if err := testkit.VerifyWebhook(s.secret, got.header, got.body); err != nil {
		t.Fatalf("svix verification failed: %v", err)
	}
}
