package testkit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// AppWebhookSecret is the Standard Webhooks secret tests give linkbff for
// the app's backend (APP_WEBHOOK_SECRET).
const AppWebhookSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"

// ReceivedWebhook is one delivery an app's backend got.
type ReceivedWebhook struct {
	ID     string // webhook-id
	Header http.Header
	Body   []byte
	At     time.Time
	// Status is what the receiver answered.
	Status int
}

// WebhookReceiver is an app's backend receiving linkbff's forwarded events.
type WebhookReceiver struct {
	URL string

	answer   func(nth int, d ReceivedWebhook) int
	mu       sync.Mutex
	received []ReceivedWebhook
	changed  chan struct{}
	delay    time.Duration
}

// NewWebhookReceiver starts a receiver that stops with the test. answer
// picks each delivery's status (nth counts from 1); nil answers 204.
// Calls to answer never overlap.
func NewWebhookReceiver(t testing.TB, answer func(nth int, d ReceivedWebhook) int) *WebhookReceiver {
	t.Helper()
	r := &WebhookReceiver{answer: answer, changed: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/hooks/linkbff"
	return r
}

// SetDelay makes the receiver take d to answer each delivery, as a slow
// backend would; deliveries keep arriving meanwhile.
func (r *WebhookReceiver) SetDelay(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delay = d
}

func (r *WebhookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	d := ReceivedWebhook{ID: req.Header.Get("webhook-id"), Header: req.Header.Clone(), Body: body, At: time.Now(), Status: http.StatusNoContent}
	r.mu.Lock()
	if r.answer != nil {
		d.Status = r.answer(len(r.received)+1, d)
	}
	r.received = append(r.received, d)
	close(r.changed)
	r.changed = make(chan struct{})
	delay := r.delay
	r.mu.Unlock()
	time.Sleep(delay)
	w.WriteHeader(d.Status)
}

// Received is every delivery so far, in arrival order.
func (r *WebhookReceiver) Received() []ReceivedWebhook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ReceivedWebhook(nil), r.received...)
}

// Await waits until cond holds for the deliveries so far, failing the test
// after 30 s (a bound on a hung test, not a timing assertion).
func (r *WebhookReceiver) Await(t testing.TB, what string, cond func([]ReceivedWebhook) bool) []ReceivedWebhook {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		r.mu.Lock()
		got, changed := append([]ReceivedWebhook(nil), r.received...), r.changed
		r.mu.Unlock()
		if cond(got) {
			return got
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; received %d deliveries", what, len(got))
		}
	}
}

// VerifyStandardWebhook checks a delivery the way the Standard Webhooks
// spec tells a receiver to, written here from the spec rather than with
// the library linkbff signs with: the key is the base64 after whsec_, the
// signed content is "id.timestamp.body", a v1 signature is the base64 of
// its HMAC-SHA256, and the timestamp must be within 5 minutes.
func VerifyStandardWebhook(secret string, header http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	id, ts, sigs := header.Get("webhook-id"), header.Get("webhook-timestamp"), header.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("a webhook-id, webhook-timestamp or webhook-signature header is missing")
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("webhook-timestamp is not unix seconds")
	}
	if skew := time.Since(time.Unix(unix, 0)); skew > 5*time.Minute || skew < -5*time.Minute {
		return fmt.Errorf("webhook-timestamp is %s off", skew)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(sigs) {
		version, value, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		if got, err := base64.StdEncoding.DecodeString(value); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no v1 signature matches")
}
