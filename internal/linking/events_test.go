package linking

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestParseEventFilter(t *testing.T) {
	tests := []struct {
		entries []string
		allowed []string
		refused []string
		bad     bool
	}{
		{entries: nil, allowed: DefaultForwardedEvents, refused: []string{EventLinkCompleted, "daily.data.sleep.created"}},
		{entries: []string{"*"}, allowed: []string{EventLinkCompleted, "daily.data.sleep.created", "anything"}},
		{entries: []string{"daily.data.*", "link.completed"}, allowed: []string{"daily.data.sleep.created", "daily.data.x", EventLinkCompleted},
			refused: []string{"daily.database", "historical.data.sleep.created", EventConnectionCreated}},
		{entries: []string{"Provider.Connection.Created"}, bad: true},
		{entries: []string{"daily.*.created"}, bad: true},
		{entries: []string{"daily."}, bad: true},
		{entries: []string{"**"}, bad: true},
	}
	for _, tc := range tests {
		f, err := ParseEventFilter(tc.entries)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: accepted", tc.entries)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.entries, err)
		}
		for _, e := range tc.allowed {
			if !f.Allows(e) {
				t.Errorf("%q does not allow %s", tc.entries, e)
			}
		}
		for _, e := range tc.refused {
			if f.Allows(e) {
				t.Errorf("%q allows %s", tc.entries, e)
			}
		}
	}
	if (*EventFilter)(nil).Allows(EventConnectionCreated) {
		t.Error("a nil filter (no backend) forwards")
	}
}

// fakePublisher records what the domain publishes.
type fakePublisher struct {
	mu        sync.Mutex
	published []Event
}

func (p *fakePublisher) Publish(_ context.Context, events []Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = append(p.published, events...)
}

func (p *fakePublisher) events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.published...)
}

// eventsHarness is a service with a mapped user, the given forwarding
// filter (nil: no backend), and the store and publisher to look into.
type eventsHarness struct {
	svc   *Service
	store *memStore
	pub   *fakePublisher
	fj    *fakeJunction
	clock *clock
}

const (
	harnessAppUser      = "app-1"
	harnessJunctionUser = "jn-1"
)

func newEventsHarness(t *testing.T, forward *EventFilter) *eventsHarness {
	t.Helper()
	h := &eventsHarness{store: newMemStore(), pub: &fakePublisher{}, clock: &clock{now: time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)}}
	h.fj = &fakeJunction{parseEvent: func(body []byte) (WebhookEvent, error) { return parsedEvents[string(body)], nil }}
	h.svc = newTestService(t, h.fj, h.clock, func(c *Config) {
		c.Store, c.Publisher, c.Forward = h.store, h.pub, forward
	})
	if _, err := h.store.SaveUserMapping(t.Context(), UserMapping{AppUserID: harnessAppUser, JunctionUserID: harnessJunctionUser, ClientUserID: "c-1"}); err != nil {
		t.Fatal(err)
	}
	return h
}

// parsedEvents are what the fake Junction parses each test body into.
var parsedEvents = map[string]WebhookEvent{
	"created":      {Type: EventConnectionCreated, JunctionUserID: harnessJunctionUser, Provider: "oura", ExternalUserID: "ext"},
	"error":        {Type: EventConnectionError, JunctionUserID: harnessJunctionUser, Provider: "oura", ErrorType: "token_refresh_failed"},
	"stranger":     {Type: EventConnectionCreated, JunctionUserID: "jn-unknown", Provider: "oura"},
	"sleep":        {Type: "daily.data.sleep.created", JunctionUserID: harnessJunctionUser},
	"sleep-nobody": {Type: "daily.data.sleep.created"},
}

func mustFilter(t *testing.T, entries ...string) *EventFilter {
	t.Helper()
	f, err := ParseEventFilter(entries)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (h *eventsHarness) webhook(t *testing.T, svixID, body string) WebhookResult {
	t.Helper()
	result, err := h.svc.ApplyWebhook(t.Context(), svixID, []byte(body))
	if err != nil {
		t.Fatalf("ApplyWebhook(%s): %v", body, err)
	}
	return result
}

func onlyEvent(t *testing.T, events []Event) Event {
	t.Helper()
	if len(events) != 1 {
		t.Fatalf("events: %+v, want exactly one", events)
	}
	return events[0]
}

// A connection webhook for a known user is stored with the connection,
// for the stream and (when asked for) the app's backend, then published
// with the Seq the store gave it; a repeat stores nothing.
func TestConnectionWebhookStoresAndPublishesItsEvent(t *testing.T) {
	h := newEventsHarness(t, mustFilter(t))
	if got := h.webhook(t, "msg_1", "created"); got != WebhookApplied {
		t.Fatalf("result %s", got)
	}
	e := onlyEvent(t, h.store.stored())
	if e.Type != EventConnectionCreated || e.AppUserID != harnessAppUser || e.JunctionUserID != harnessJunctionUser ||
		e.Provider != "oura" || e.Status != StatusConnected || string(e.Junction) != "created" || !e.Stream ||
		e.Delivery.State != DeliveryPending || e.Delivery.NextAttemptAt == nil || !e.CreatedAt.Equal(h.clock.now) || e.Seq == 0 {
		t.Fatalf("stored event %+v", e)
	}
	if !eventIDPattern.MatchString(e.ID) || e.StreamName() != "connection.created" {
		t.Errorf("id %q, stream name %q", e.ID, e.StreamName())
	}
	if p := onlyEvent(t, h.pub.events()); p.ID != e.ID || p.Seq != e.Seq {
		t.Errorf("published %+v, want the stored event", p)
	}
	if got := h.webhook(t, "msg_1", "created"); got != WebhookDuplicate || len(h.store.stored()) != 1 || len(h.pub.events()) != 1 {
		t.Errorf("a repeat: %s, %d stored, %d published", got, len(h.store.stored()), len(h.pub.events()))
	}

	h.webhook(t, "msg_2", "error")
	if e := h.store.stored()[1]; e.Type != EventConnectionError || e.Status != StatusError || e.ErrorType != "token_refresh_failed" || e.StreamName() != "connection.error" {
		t.Errorf("error event %+v", e)
	}
}

// Without a backend, events still feed the stream; what only a backend
// would read is not stored.
func TestWithoutBackendOnlyStreamedEventsAreStored(t *testing.T) {
	h := newEventsHarness(t, nil)
	h.webhook(t, "msg_1", "created")
	if e := onlyEvent(t, h.store.stored()); !e.Stream || e.Delivery.State != DeliveryNone {
		t.Fatalf("stored %+v, want a streamed event not forwarded", e)
	}
	for body, want := range map[string]WebhookResult{"stranger": WebhookUnknownUser, "sleep": WebhookIgnored} {
		if got := h.webhook(t, "msg_"+body, body); got != want {
			t.Errorf("%s: %s, want %s", body, got, want)
		}
	}
	if n := len(h.store.stored()); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
}

// Events the domain does not apply (data events, unknown users) are
// forwarded when the filter asks for their type, once per svix-id, and
// never streamed.
func TestOtherEventsAreForwardedWhenAsked(t *testing.T) {
	h := newEventsHarness(t, mustFilter(t, "daily.data.*", EventConnectionCreated))
	for _, tc := range []struct {
		body, svixID string
		want         WebhookResult
		appUser      string
	}{
		{"sleep", "msg_a", WebhookForwarded, harnessAppUser},
		{"sleep", "msg_a", WebhookDuplicate, ""},
		{"sleep-nobody", "msg_b", WebhookForwarded, ""},
		{"stranger", "msg_c", WebhookForwarded, ""},
		{"error", "msg_d", WebhookApplied, harnessAppUser}, // applied and streamed, not forwarded
	} {
		if got := h.webhook(t, tc.svixID, tc.body); got != tc.want {
			t.Errorf("%s (%s): %s, want %s", tc.body, tc.svixID, got, tc.want)
		}
	}
	stored := h.store.stored()
	if len(stored) != 4 {
		t.Fatalf("stored %d events, want 4: %+v", len(stored), stored)
	}
	for i, want := range []struct {
		appUser string
		state   DeliveryState
		stream  bool
	}{{harnessAppUser, DeliveryPending, false}, {"", DeliveryPending, false}, {"", DeliveryPending, false}, {harnessAppUser, DeliveryNone, true}} {
		if e := stored[i]; e.AppUserID != want.appUser || e.Delivery.State != want.state || e.Stream != want.stream {
			t.Errorf("event %d (%s): app user %q, delivery %s, stream %v; want %+v", i, e.Type, e.AppUserID, e.Delivery.State, e.Stream, want)
		}
	}
	if string(stored[0].Junction) != "sleep" {
		t.Errorf("the forwarded body is %q, want Junction's", stored[0].Junction)
	}
}

// The callback's first outcome is a link.completed event, marked as the
// browser's word; a reload records nothing more.
func TestLinkCompletedOnFirstOutcomeOnly(t *testing.T) {
	h := newEventsHarness(t, mustFilter(t, EventLinkCompleted))
	session := LinkSession{ID: "0123456789abcdef0123456789abcdef", AppUserID: harnessAppUser, JunctionUserID: harnessJunctionUser, Provider: "fitbit", CreatedAt: h.clock.now}
	if err := h.store.CreateLinkSession(t.Context(), session); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := h.svc.CompleteLink(t.Context(), session.ID, Callback{State: "error", ErrorType: "provider_credential_error"}); err != nil {
			t.Fatal(err)
		}
	}
	e := onlyEvent(t, h.store.stored())
	if e.Type != EventLinkCompleted || e.Status != StatusError || e.ErrorType != "provider_credential_error" || e.Provider != "fitbit" ||
		e.AppUserID != harnessAppUser || !e.Stream || e.Delivery.State != DeliveryPending {
		t.Fatalf("stored %+v", e)
	}
	onlyEvent(t, h.pub.events())
}

// DELETE /v1/connections/{p} says connection.disconnected; a provider
// Junction says is not connected says nothing.
func TestDisconnectEvent(t *testing.T) {
	h := newEventsHarness(t, mustFilter(t))
	h.fj.disconnect = func(_ context.Context, _, provider string) error {
		if provider == "garmin" {
			return WrapError(ENotFound, ErrProviderNotConnected, "not connected")
		}
		return nil
	}
	if err := h.svc.Disconnect(t.Context(), harnessAppUser, "oura"); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Disconnect(t.Context(), harnessAppUser, "garmin"); !IsCode(err, ENotFound) {
		t.Fatalf("disconnecting what is not connected: %v", err)
	}
	e := onlyEvent(t, h.store.stored())
	if e.Type != EventConnectionDisconnected || e.Provider != "oura" || e.Reason != ReasonDisconnected || !e.Stream || e.StreamName() != EventConnectionDisconnected {
		t.Fatalf("stored %+v", e)
	}
	onlyEvent(t, h.pub.events())
}

// DELETE /v1/me says connection.disconnected for every provider Junction
// or the webhooks knew, and forgets the user's delivered or streamed
// events but not those still on their way to the backend.
func TestDeleteAppUserEvents(t *testing.T) {
	h := newEventsHarness(t, mustFilter(t, EventConnectionDisconnected))
	h.webhook(t, "msg_1", "created") // oura, streamed only: the filter does not ask for it
	h.fj.connections = func(context.Context, string) ([]Connection, error) {
		return []Connection{{Provider: "fitbit", Status: StatusConnected}, {Provider: "oura", Status: StatusConnected}}, nil
	}
	pending := h.svc.newEvent(EventConnectionDisconnected, UserMapping{AppUserID: harnessAppUser})
	if err := h.store.DeleteReportedConnection(t.Context(), harnessJunctionUser, "garmin", &pending); err != nil {
		t.Fatal(err)
	}
	h.fj.deleteUser = func(context.Context, string) error { return nil }

	if err := h.svc.DeleteAppUser(t.Context(), harnessAppUser); err != nil {
		t.Fatal(err)
	}
	stored := h.store.stored()
	if len(stored) != 3 || stored[0].ID != pending.ID {
		t.Fatalf("stored %+v; want the pending event and two disconnections", stored)
	}
	for i, provider := range []string{"fitbit", "oura"} {
		if e := stored[i+1]; e.Type != EventConnectionDisconnected || e.Provider != provider || e.Reason != ReasonUserDeleted || e.Delivery.State != DeliveryPending {
			t.Errorf("event %d: %+v", i+1, e)
		}
	}
	if n := len(h.pub.events()); n != 3 { // created, then the two disconnections
		t.Errorf("published %d events, want 3", n)
	}
}

func TestAdminEventQueriesAreChecked(t *testing.T) {
	h := newEventsHarness(t, nil)
	for _, q := range []EventQuery{{State: "done", Limit: 10}, {Limit: 0}, {Limit: maxEventPage + 1}, {Limit: 1, BeforeSeq: -1}} {
		if _, err := h.svc.ForwardedEvents(t.Context(), q); !IsCode(err, EInvalid) {
			t.Errorf("%+v: %v, want invalid_request", q, err)
		}
	}
	if _, err := h.svc.RedeliverEvent(t.Context(), "evt_../../x"); !IsCode(err, ENotFound) {
		t.Errorf("a malformed id: %v, want not_found", err)
	}
	if _, err := h.svc.AppUser(t.Context(), "nobody"); !IsCode(err, ENotFound) {
		t.Errorf("an unmapped user: %v, want not_found", err)
	}
}
