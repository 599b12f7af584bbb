package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/store"
)

var eventTests = []namedTest{
	{"StoredWithTheConnectionChange", testEventWithConnectionChange},
	{"StoredWithTheFirstOutcomeOnly", testEventWithFirstOutcome},
	{"StoredWithRecordedWebhookOnly", testEventWithRecordedWebhook},
	{"StoredWithDisconnectAndUserDeletion", testEventWithDeletes},
	{"StreamResume", testStreamResume},
	{"StreamResumeMissesNothingUnderConcurrentWrites", testStreamResumeUnderConcurrentWrites},
	{"ClaimLeaseFinish", testClaimLeaseFinish},
	{"ConcurrentClaimsNeverOverlap", testConcurrentClaims},
	{"Redeliver", testRedeliver},
	{"ForwardedEventsByState", testForwardedEvents},
	{"PruneKeepsPending", testPruneEvents},
}

var eventCounter struct {
	sync.Mutex
	n int
}

// event is a streamed event of app user appUser, pending delivery when
// forwarded, created at.
func event(appUser, eventType string, forwarded bool, at time.Time) *linking.Event {
	eventCounter.Lock()
	eventCounter.n++
	n := eventCounter.n
	eventCounter.Unlock()
	e := &linking.Event{
		ID: fmt.Sprintf("evt_%032x", n), Type: eventType, AppUserID: appUser, JunctionUserID: "jn-" + appUser,
		Provider: "oura", Status: "connected", Stream: appUser != "", CreatedAt: at,
		Delivery: linking.Delivery{State: linking.DeliveryNone},
	}
	if forwarded {
		next := at
		e.Delivery = linking.Delivery{State: linking.DeliveryPending, NextAttemptAt: &next}
	}
	return e
}

// record stores events through RecordWebhookEvent under a fresh svix-id.
func record(t *testing.T, s *store.Store, events ...*linking.Event) {
	t.Helper()
	ok, err := s.RecordWebhookEvent(ctx(t), "msg-"+events[0].ID, events...)
	noErr(t, err, "RecordWebhookEvent")
	if !ok {
		t.Fatal("RecordWebhookEvent: recorded=false for a fresh id")
	}
}

func streamOf(t *testing.T, s *store.Store, appUser string, after int64) []linking.Event {
	t.Helper()
	events, err := s.StreamEvents(ctx(t), appUser, after, 100)
	noErr(t, err, "StreamEvents")
	return events
}

func ids(events []linking.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func sameIDs(t *testing.T, what string, got []linking.Event, want ...*linking.Event) {
	t.Helper()
	wantIDs := make([]string, len(want))
	for i, e := range want {
		wantIDs[i] = e.ID
	}
	if fmt.Sprint(ids(got)) != fmt.Sprint(wantIDs) {
		t.Errorf("%s: got %v, want %v", what, ids(got), wantIDs)
	}
}

func testEventWithConnectionChange(t *testing.T, s *store.Store) {
	e := event("app-1", linking.EventConnectionCreated, true, base)
	e.Junction = []byte(`{"event_type":"provider.connection.created","data":{"name":"Ōura \u00e9"}}`)
	if !apply(t, s, "evt-1", connected("jn-app-1", "oura", base), e) {
		t.Fatal("applied=false")
	}
	if e.Seq <= 0 {
		t.Fatalf("Seq %d after storing, want the store's", e.Seq)
	}
	got := streamOf(t, s, "app-1", 0)
	if len(got) != 1 {
		t.Fatalf("stream: %+v", got)
	}
	g := got[0]
	if g.Seq != e.Seq || g.ID != e.ID || g.Type != e.Type || g.AppUserID != "app-1" || g.JunctionUserID != "jn-app-1" ||
		g.Provider != "oura" || g.Status != "connected" || !bytes.Equal(g.Junction, e.Junction) || !g.Stream ||
		g.Delivery.State != linking.DeliveryPending || g.Delivery.Attempts != 0 {
		t.Errorf("read back %+v, want %+v", g, *e)
	}
	sameInstant(t, "CreatedAt", g.CreatedAt, base)
	sameInstantPtr(t, "NextAttemptAt", g.Delivery.NextAttemptAt, &base)

	// A repeated delivery changes nothing, its event included.
	again := event("app-1", linking.EventConnectionCreated, true, base)
	if apply(t, s, "evt-1", connected("jn-app-1", "oura", base), again) || again.Seq != 0 {
		t.Errorf("a repeat stored its event (Seq %d)", again.Seq)
	}
	if n := len(streamOf(t, s, "app-1", 0)); n != 1 {
		t.Errorf("%d events after a repeat, want 1", n)
	}
}

func testEventWithFirstOutcome(t *testing.T, s *store.Store) {
	m := mapping("app-1", "jn-1")
	noErr(t, s.CreateLinkSession(ctx(t), session("s-1", m)), "CreateLinkSession")
	first, second := event("app-1", linking.EventLinkCompleted, false, base), event("app-1", linking.EventLinkCompleted, false, base)
	_, err := s.CompleteLinkSession(ctx(t), "s-1", linking.Outcome{Status: "connected"}, base, first)
	noErr(t, err, "CompleteLinkSession")
	_, err = s.CompleteLinkSession(ctx(t), "s-1", linking.Outcome{Status: "error", ErrorType: "x"}, base.Add(time.Second), second)
	noErr(t, err, "CompleteLinkSession again")
	if first.Seq == 0 || second.Seq != 0 {
		t.Errorf("Seqs %d and %d: want the first outcome's event stored, the second's not", first.Seq, second.Seq)
	}
	sameIDs(t, "stream", streamOf(t, s, "app-1", 0), first)
}

func testEventWithRecordedWebhook(t *testing.T, s *store.Store) {
	e := event("", "daily.data.sleep.created", true, base)
	e.Junction = []byte(`{"event_type":"daily.data.sleep.created"}`)
	for i, want := range []bool{true, false} {
		ev := e
		if i > 0 {
			ev = event("", "daily.data.sleep.created", true, base)
		}
		got, err := s.RecordWebhookEvent(ctx(t), "msg-sleep", ev)
		noErr(t, err, "RecordWebhookEvent")
		if got != want || (ev.Seq != 0) != want {
			t.Errorf("delivery %d: recorded=%v Seq=%d, want recorded=%v", i+1, got, ev.Seq, want)
		}
	}
	// The svix-id is one Junction will not re-deliver: applying it is a repeat.
	if apply(t, s, "msg-sleep", connected("jn-1", "oura", base)) {
		t.Error("a recorded svix-id was applied again")
	}
	forwarded, err := s.ForwardedEvents(ctx(t), linking.EventQuery{Limit: 10})
	noErr(t, err, "ForwardedEvents")
	if len(forwarded) != 1 || forwarded[0].AppUserID != "" || forwarded[0].Stream || !bytes.Equal(forwarded[0].Junction, e.Junction) {
		t.Errorf("forwarded: %+v", forwarded)
	}
}

func testEventWithDeletes(t *testing.T, s *store.Store) {
	m := mapping("app-1", "jn-1")
	_, err := s.SaveUserMapping(ctx(t), m)
	noErr(t, err, "SaveUserMapping")
	streamedOnly := event("app-1", linking.EventConnectionCreated, false, base)
	pending := event("app-1", linking.EventConnectionCreated, true, base)
	delivered := event("app-1", linking.EventConnectionError, true, base)
	other := event("app-2", linking.EventConnectionCreated, false, base)
	record(t, s, streamedOnly, pending, delivered, other)
	claimed := claim(t, s, "w", base, time.Minute, 10)
	for _, c := range claimed {
		if c.ID == delivered.ID {
			noErr(t, s.FinishDelivery(ctx(t), c.ID, "w", linking.Delivery{State: linking.DeliveryDelivered, LastStatus: 200, DeliveredAt: &base}), "FinishDelivery")
		}
	}
	release(t, s, "w", claimed, delivered.ID)

	disconnected := event("app-1", linking.EventConnectionDisconnected, true, base)
	noErr(t, s.DeleteReportedConnection(ctx(t), "jn-1", "oura", disconnected), "DeleteReportedConnection")
	if disconnected.Seq == 0 {
		t.Error("DeleteReportedConnection did not store its event")
	}

	deleted := event("app-1", linking.EventConnectionDisconnected, false, base)
	noErr(t, s.DeleteAppUser(ctx(t), "app-1", deleted), "DeleteAppUser")
	// What is still on its way to the app's backend stays; the rest of the
	// user's events go, and the deletion's own event is stored.
	sameIDs(t, "app-1's events after deletion", streamOf(t, s, "app-1", 0), pending, disconnected, deleted)
	sameIDs(t, "another user's events", streamOf(t, s, "app-2", 0), other)
}

// release hands back every claimed event but done.
func release(t *testing.T, s *store.Store, owner string, claimed []linking.Event, done string) {
	t.Helper()
	for _, c := range claimed {
		if c.ID != done {
			noErr(t, s.FinishDelivery(ctx(t), c.ID, owner, linking.Delivery{State: linking.DeliveryPending, NextAttemptAt: c.Delivery.NextAttemptAt}), "release")
		}
	}
}

func claim(t *testing.T, s *store.Store, owner string, now time.Time, lease time.Duration, limit int) []linking.Event {
	t.Helper()
	events, err := s.ClaimDeliveries(ctx(t), owner, now, lease, limit)
	noErr(t, err, "ClaimDeliveries")
	return events
}

func testStreamResume(t *testing.T, s *store.Store) {
	a1, b1, a2 := event("a", linking.EventConnectionCreated, false, base), event("b", linking.EventConnectionCreated, false, base), event("a", linking.EventLinkCompleted, true, base)
	notStreamed := event("a", "daily.data.sleep.created", true, base)
	notStreamed.Stream = false
	record(t, s, a1, b1, a2, notStreamed)
	sameIDs(t, "a from the start", streamOf(t, s, "a", 0), a1, a2)
	sameIDs(t, "a after its first", streamOf(t, s, "a", a1.Seq), a2)
	sameIDs(t, "a after its last", streamOf(t, s, "a", a2.Seq))
	sameIDs(t, "b", streamOf(t, s, "b", 0), b1)
	page, err := s.StreamEvents(ctx(t), "a", 0, 1)
	noErr(t, err, "StreamEvents with a limit")
	sameIDs(t, "a page of one", page, a1)
	for user, want := range map[string]int64{"a": a2.Seq, "b": b1.Seq, "nobody": 0} {
		got, err := s.LatestStreamSeq(ctx(t), user)
		noErr(t, err, "LatestStreamSeq")
		if got != want {
			t.Errorf("LatestStreamSeq(%s) = %d, want %d", user, got, want)
		}
	}
}

// A reader that resumes after the highest Seq it has seen, as a reconnecting
// event stream does, must see every event of its user: one user's events
// may not commit in an order other than their Seqs, or a resume skips the
// one that committed late.
func testStreamResumeUnderConcurrentWrites(t *testing.T, s *store.Store) {
	const writers, perWriter = 8, 40
	var wg sync.WaitGroup
	recorded := make(chan string, writers*perWriter)
	for range writers {
		wg.Go(func() {
			for range perWriter {
				e := event("busy", linking.EventConnectionCreated, false, base)
				if _, err := s.RecordWebhookEvent(ctx(t), "msg-"+e.ID, e); err != nil {
					t.Error(err)
					return
				}
				recorded <- e.ID
			}
		})
	}
	writing := make(chan struct{})
	go func() { wg.Wait(); close(writing) }()

	seen := map[string]bool{}
	var cursor int64
	read := func() {
		for _, e := range streamOf(t, s, "busy", cursor) {
			seen[e.ID] = true
			cursor = max(cursor, e.Seq)
		}
	}
	for done := false; !done; {
		select {
		case <-writing:
			done = true
		default:
		}
		read()
	}
	read()
	close(recorded)
	missed := 0
	for id := range recorded {
		if !seen[id] {
			missed++
		}
	}
	if missed > 0 {
		t.Errorf("a reader resuming after the highest Seq it saw missed %d of %d events: they committed after a higher Seq", missed, writers*perWriter)
	}
}

func testClaimLeaseFinish(t *testing.T, s *store.Store) {
	due, later, notForwarded := event("a", "t", true, base), event("a", "t", true, base.Add(time.Hour)), event("a", "t", false, base)
	record(t, s, due, later, notForwarded)

	got := claim(t, s, "w1", base, time.Minute, 10)
	sameIDs(t, "the first claim", got, due)
	if got[0].Delivery.Attempts != 1 {
		t.Errorf("attempts after a claim: %d, want 1", got[0].Delivery.Attempts)
	}
	sameIDs(t, "a claim while the lease holds", claim(t, s, "w2", base.Add(30*time.Second), time.Minute, 10))
	// The holder died: its lease ends and another worker takes the event.
	got = claim(t, s, "w2", base.Add(time.Minute), time.Minute, 10)
	sameIDs(t, "a claim after the lease ended", got, due)
	if got[0].Delivery.Attempts != 2 {
		t.Errorf("attempts after the second claim: %d, want 2", got[0].Delivery.Attempts)
	}

	// The first holder's late result changes nothing; the holder's counts.
	noErr(t, s.FinishDelivery(ctx(t), due.ID, "w1", linking.Delivery{State: linking.DeliveryDelivered, DeliveredAt: &base}), "FinishDelivery by a former holder")
	retryAt := base.Add(2 * time.Minute)
	noErr(t, s.FinishDelivery(ctx(t), due.ID, "w2", linking.Delivery{State: linking.DeliveryPending, NextAttemptAt: &retryAt, LastStatus: 500, LastError: "answered 500"}), "FinishDelivery")
	sameIDs(t, "a claim before the retry is due", claim(t, s, "w3", retryAt.Add(-time.Second), time.Minute, 10))
	got = claim(t, s, "w3", retryAt, time.Minute, 10)
	sameIDs(t, "a claim when the retry is due", got, due)
	if d := got[0].Delivery; d.Attempts != 3 || d.LastStatus != 500 || d.LastError != "answered 500" {
		t.Errorf("delivery after a failed attempt: %+v", d)
	}
	deliveredAt := retryAt.Add(time.Second)
	noErr(t, s.FinishDelivery(ctx(t), due.ID, "w3", linking.Delivery{State: linking.DeliveryDelivered, LastStatus: 204, DeliveredAt: &deliveredAt}), "FinishDelivery delivered")
	sameIDs(t, "a claim after delivery, the later event due", claim(t, s, "w4", base.Add(time.Hour), time.Minute, 10), later)

	events, err := s.ForwardedEvents(ctx(t), linking.EventQuery{State: linking.DeliveryDelivered, Limit: 10})
	noErr(t, err, "ForwardedEvents")
	if len(events) != 1 || events[0].Delivery.LastStatus != 204 || events[0].Delivery.NextAttemptAt != nil {
		t.Fatalf("delivered events: %+v", events)
	}
	sameInstantPtr(t, "DeliveredAt", events[0].Delivery.DeliveredAt, &deliveredAt)
}

func testConcurrentClaims(t *testing.T, s *store.Store) {
	const n = 40
	var events []*linking.Event
	for range n {
		events = append(events, event("a", "t", true, base))
	}
	record(t, s, events...)
	claimAll(t, []*store.Store{s}, n)
}

// claimAll has workers on stores claim concurrently until n events are
// claimed, and fails when one is claimed twice while its lease holds.
func claimAll(t *testing.T, stores []*store.Store, n int) {
	t.Helper()
	var mu sync.Mutex
	claimedBy := map[string]string{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			owner := fmt.Sprintf("worker-%d", w)
			s := stores[w%len(stores)]
			for range 50 {
				got, err := s.ClaimDeliveries(ctx(t), owner, base, time.Hour, 3)
				if err != nil {
					t.Errorf("%s: ClaimDeliveries: %v", owner, err)
					return
				}
				mu.Lock()
				for _, e := range got {
					if other, dup := claimedBy[e.ID]; dup {
						t.Errorf("%s claimed by %s and %s", e.ID, other, owner)
					}
					claimedBy[e.ID] = owner
				}
				done := len(claimedBy) == n
				mu.Unlock()
				if done {
					return
				}
			}
		})
	}
	wg.Wait()
	if len(claimedBy) != n {
		t.Errorf("%d of %d events claimed", len(claimedBy), n)
	}
}

func testRedeliver(t *testing.T, s *store.Store) {
	failed, inFlight, notForwarded := event("a", "t", true, base), event("a", "t", true, base), event("a", "t", false, base)
	record(t, s, failed, inFlight, notForwarded)
	for _, c := range claim(t, s, "w", base, time.Hour, 10) {
		if c.ID == failed.ID {
			noErr(t, s.FinishDelivery(ctx(t), c.ID, "w", linking.Delivery{State: linking.DeliveryFailed, LastStatus: 500, LastError: "gave up"}), "FinishDelivery")
		}
	}

	at := base.Add(time.Minute)
	e, err := s.Redeliver(ctx(t), failed.ID, at)
	noErr(t, err, "Redeliver")
	if e.Delivery.State != linking.DeliveryPending || e.Delivery.Attempts != 0 || e.Delivery.LastStatus != 500 {
		t.Errorf("redelivered: %+v", e.Delivery)
	}
	sameInstantPtr(t, "NextAttemptAt", e.Delivery.NextAttemptAt, &at)

	// An attempt in flight is not disturbed.
	e, err = s.Redeliver(ctx(t), inFlight.ID, at)
	noErr(t, err, "Redeliver in flight")
	if e.Delivery.Attempts != 1 {
		t.Errorf("in flight after Redeliver: %+v", e.Delivery)
	}
	sameIDs(t, "claimable after Redeliver", claim(t, s, "w2", at, time.Hour, 10), failed)

	_, err = s.Redeliver(ctx(t), notForwarded.ID, at)
	wantCode(t, err, linking.EConflict, "Redeliver of an event never forwarded")
	_, err = s.Redeliver(ctx(t), "evt_unknown", at)
	wantCode(t, err, linking.ENotFound, "Redeliver of an unknown event")
}

func testForwardedEvents(t *testing.T, s *store.Store) {
	var forwarded []*linking.Event
	for range 5 {
		forwarded = append(forwarded, event("a", "t", true, base))
	}
	record(t, s, append(forwarded, event("a", "t", false, base))...)
	for _, c := range claim(t, s, "w", base, time.Hour, 2) { // the two oldest fail
		noErr(t, s.FinishDelivery(ctx(t), c.ID, "w", linking.Delivery{State: linking.DeliveryFailed}), "FinishDelivery")
	}
	list := func(q linking.EventQuery) []linking.Event {
		t.Helper()
		events, err := s.ForwardedEvents(ctx(t), q)
		noErr(t, err, "ForwardedEvents")
		return events
	}
	f := forwarded
	sameIDs(t, "all, newest first", list(linking.EventQuery{Limit: 10}), f[4], f[3], f[2], f[1], f[0])
	sameIDs(t, "failed", list(linking.EventQuery{State: linking.DeliveryFailed, Limit: 10}), f[1], f[0])
	sameIDs(t, "pending, one page", list(linking.EventQuery{State: linking.DeliveryPending, Limit: 2}), f[4], f[3])
	sameIDs(t, "pending, next page", list(linking.EventQuery{State: linking.DeliveryPending, Limit: 2, BeforeSeq: f[3].Seq}), f[2])
}

func testPruneEvents(t *testing.T, s *store.Store) {
	old, oldPending, recent := event("a", "t", false, base.Add(-time.Hour)), event("a", "t", true, base.Add(-time.Hour)), event("a", "t", false, base)
	record(t, s, old, oldPending, recent)
	noErr(t, s.PruneEvents(ctx(t), base), "PruneEvents")
	sameIDs(t, "after pruning", streamOf(t, s, "a", 0), oldPending, recent)
}
