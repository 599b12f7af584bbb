package testkit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLogSinkSplitsLinesAcrossWrites(t *testing.T) {
	var s LogSink
	past := s.Await(func(line string) bool { return strings.Contains(line, "second") })
	_, _ = s.Write([]byte(`{"message":"first"}` + "\n" + `{"message":"sec`))
	select {
	case l := <-past:
		t.Fatalf("a partial line matched: %q", l)
	default:
	}
	_, _ = s.Write([]byte(`ond"}` + "\n"))
	select {
	case l := <-past:
		if l != `{"message":"second"}` {
			t.Fatalf("got %q", l)
		}
	case <-time.After(time.Second):
		t.Fatal("the completed line was not handed to the waiter")
	}
	if got := s.Lines(); len(got) != 2 {
		t.Fatalf("lines = %q", got)
	}
	// A line that came before the wait is found too.
	if l := <-s.Await(func(line string) bool { return strings.Contains(line, "first") }); l != `{"message":"first"}` {
		t.Fatalf("got %q", l)
	}
	if n := s.Count(`"message"`); n != 2 {
		t.Fatalf("Count = %d", n)
	}
}

func TestListeningURL(t *testing.T) {
	line := `{"level":"info","public_url":"http://127.0.0.1:1234","message":"linkbff listening"}`
	if u, ok := ListeningURL(line, LinkbffListening); !ok || u != "http://127.0.0.1:1234" {
		t.Fatalf("got %q %v", u, ok)
	}
	for _, other := range []string{line[:20], `{"public_url":"http://x","message":"junction emulator listening"}`, `{"message":"linkbff listening"}`} {
		if _, ok := ListeningURL(other, LinkbffListening); ok {
			t.Errorf("%q read as linkbff's listening line", other)
		}
	}
}

func TestClientSendsAndShowsRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusSeeOther)
		default:
			w.Header().Set("X-Seen", r.Method+" "+r.Header.Get("Content-Type")+" "+r.Header.Get("Authorization")+" "+r.Header.Get("X-Extra"))
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"code":"invalid_request","message":"no"}}`))
		}
	}))
	defer srv.Close()
	c := NewClient(t, srv.URL)
	r := c.Request(http.MethodPost, "/x", "tok", map[string]int{"a": 1}, "X-Extra", "yes")
	if got := r.Header.Get("X-Seen"); got != "POST application/json Bearer tok yes" {
		t.Errorf("server saw %q", got)
	}
	if r.Status != http.StatusBadRequest || r.ErrorCode(t) != "invalid_request" {
		t.Errorf("got %d %s", r.Status, r.Body)
	}
	if r := c.Do(http.MethodGet, srv.URL+"/redirect", nil); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/elsewhere" {
		t.Errorf("redirect: %d %v", r.Status, r.Header)
	}
	if _, err := NewClient(t, "http://127.0.0.1:1").Send(http.MethodGet, "/", nil); err == nil {
		t.Error("Send to a closed port reported no error")
	}
}

func TestWebhookSignatureVerifies(t *testing.T) {
	body := ConnectionCreatedEvent("u", "oura")
	h := SignWebhook(t, WebhookSecret, "msg_1", time.Now(), body)
	if err := VerifyWebhook(WebhookSecret, h, body); err != nil {
		t.Fatal(err)
	}
	if err := VerifyWebhook(WebhookSecret, h, append(body, ' ')); err == nil {
		t.Fatal("a changed body verified")
	}
}

func TestFaultProxyInjectsEachKind(t *testing.T) {
	var reached atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer upstream.Close()
	p := NewFaultProxy(t, upstream.URL)
	c := NewClient(t, p.URL)
	if r := c.Do(http.MethodGet, "/x", nil); r.Status != http.StatusOK || string(r.Body) != `{"ok":true}` {
		t.Fatalf("pass-through: %d %s", r.Status, r.Body)
	}
	p.Inject(Fault{Kind: FaultStatus, Rate: 1, Match: "POST /v2/", Status: http.StatusServiceUnavailable, RetryAfter: "3"})
	if r := c.Do(http.MethodPost, "/v2/link/token", "{}"); r.Status != 503 || r.Header.Get("Retry-After") != "3" {
		t.Errorf("status fault: %d %v", r.Status, r.Header)
	}
	if r := c.Do(http.MethodGet, "/v2/providers", nil); r.Status != http.StatusOK {
		t.Errorf("a request the fault does not match: %d", r.Status)
	}
	before := reached.Load()
	// POSTs: Go's transport silently re-sends a GET whose connection reset.
	p.Inject(Fault{Kind: FaultReset, Rate: 1})
	if _, err := c.Send(http.MethodPost, "/x", "{}"); err == nil {
		t.Error("reset: the request succeeded")
	}
	if reached.Load() != before {
		t.Error("reset: the request reached upstream")
	}
	p.Inject(Fault{Kind: FaultResetAfter, Rate: 1})
	if _, err := c.Send(http.MethodPost, "/x", "{}"); err == nil || reached.Load() != before+1 {
		t.Errorf("reset after upstream: err %v, upstream reached %d times", err, reached.Load()-before)
	}
	p.Inject(Fault{Kind: FaultGarbage, Rate: 1})
	if r := c.Do(http.MethodGet, "/x", nil); r.Status != http.StatusOK || json.Valid(r.Body) {
		t.Errorf("garbage: %d %s", r.Status, r.Body)
	}
	p.Inject(Fault{Kind: FaultDelay, Rate: 1, Delay: 50 * time.Millisecond})
	start := time.Now()
	if r := c.Do(http.MethodGet, "/x", nil); r.Status != http.StatusOK || time.Since(start) < 50*time.Millisecond {
		t.Errorf("delay: %d after %s", r.Status, time.Since(start))
	}
	p.Inject()
	if r := c.Do(http.MethodGet, "/x", nil); r.Status != http.StatusOK {
		t.Errorf("faults cleared: %d", r.Status)
	}
	if p.Injected(FaultStatus) != 1 || p.Injected(FaultReset) != 1 || p.Requests() != 8 {
		t.Errorf("counts: status %d reset %d requests %d", p.Injected(FaultStatus), p.Injected(FaultReset), p.Requests())
	}
}
