package linking

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// recordingObserver writes down what it hears, one line per event.
type recordingObserver struct{ heard []string }

func (o *recordingObserver) LinkStarted(p string) { o.heard = append(o.heard, "started "+p) }
func (o *recordingObserver) CallbackRecorded(out Outcome) {
	o.heard = append(o.heard, "callback "+out.Status+" "+out.ErrorType)
}
func (o *recordingObserver) WebhookHandled(ev string, r WebhookResult) {
	o.heard = append(o.heard, "webhook "+ev+" "+string(r))
}
func (o *recordingObserver) ConnectionConfirmed(p string, d time.Duration, fromLink bool) {
	o.heard = append(o.heard, fmt.Sprintf("confirmed %s %s %v", p, d, fromLink))
}

func (o *recordingObserver) take() []string { h := o.heard; o.heard = nil; return h }

// The funnel is told each step once: a reload of the callback, a repeated
// webhook or a failed token are not new steps.
func TestObserverHearsTheLinkFunnel(t *testing.T) {
	c := &clock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	const junctionUser = "7c1d0b0e-0000-4000-8000-000000000001"
	var redirect string
	failToken := false
	fj := &fakeJunction{
		createUser: func(context.Context, string) (JunctionUser, error) { return JunctionUser{ID: junctionUser}, nil },
		linkToken: func(_ context.Context, req LinkTokenRequest) (LinkToken, error) {
			if failToken {
				return LinkToken{}, Errorf(EUpstreamUnavailable, "down")
			}
			redirect = req.RedirectURL
			return LinkToken{Token: "t", WebURL: "https://link"}, nil
		},
		parseEvent: func(body []byte) (WebhookEvent, error) {
			var ev WebhookEvent
			if err := json.Unmarshal(body, &ev); err != nil {
				return WebhookEvent{}, WrapError(EInvalid, err, "not an event")
			}
			return ev, nil
		},
	}
	o := &recordingObserver{}
	s := newTestService(t, fj, c, func(cfg *Config) { cfg.Observer = o })
	ctx := t.Context()
	event := func(typ, provider string) []byte {
		b, _ := json.Marshal(WebhookEvent{Type: typ, JunctionUserID: junctionUser, Provider: provider})
		return b
	}

	if _, err := s.StartLink(ctx, "alice", LinkRequest{Provider: "oura"}); err != nil {
		t.Fatal(err)
	}
	sessionID := redirect[strings.LastIndex(redirect, "/")+1:]
	if _, err := s.StartLink(ctx, "alice", LinkRequest{}); err != nil {
		t.Fatal(err)
	}
	failToken = true
	if _, err := s.StartLink(ctx, "alice", LinkRequest{}); err == nil {
		t.Fatal("a failed token was minted")
	}
	if got, want := o.take(), []string{"started oura", "started "}; !slices.Equal(got, want) {
		t.Fatalf("heard %q, want %q", got, want)
	}

	c.now = c.now.Add(90 * time.Second)
	for range 2 { // a reload shows the recorded outcome, it is no new one
		if _, err := s.CompleteLink(ctx, sessionID, Callback{State: "error", ErrorType: "provider_credential_error"}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := o.take(), []string{"callback error provider_credential_error"}; !slices.Equal(got, want) {
		t.Fatalf("heard %q, want %q", got, want)
	}

	// The picker session, opened 90 s ago, is the newest one for polar.
	for _, id := range []string{"msg_1", "msg_1"} {
		if _, err := s.ApplyWebhook(ctx, id, event(EventConnectionCreated, "polar")); err != nil {
			t.Fatal(err)
		}
	}
	c.now = c.now.Add(ConfirmationWindow)
	if _, err := s.ApplyWebhook(ctx, "msg_2", event(EventConnectionCreated, "oura")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyWebhook(ctx, "msg_3", []byte("not json")); !IsCode(err, EInvalid) {
		t.Fatalf("unusable body: %v", err)
	}
	if _, err := s.ApplyWebhook(ctx, "msg_4", event("daily.data.sleep.created", "")); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"webhook provider.connection.created applied", "confirmed polar 1m30s true",
		"webhook provider.connection.created duplicate",
		"webhook provider.connection.created applied", "confirmed oura 0s false", // its session is too old
		"webhook  unusable",
		"webhook daily.data.sleep.created ignored_event_type",
	}
	if got := o.take(); !slices.Equal(got, want) {
		t.Fatalf("heard\n%q\nwant\n%q", got, want)
	}
}
