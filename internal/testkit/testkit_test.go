package testkit

import (
	"net/http"
	"net/http/httptest"
	"strings"
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
