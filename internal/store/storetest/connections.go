package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/store"
)

var connectionTests = []namedTest{
	{"ApplyThenList", testApplyThenList},
	{"DuplicateEventChangesNothing", testDuplicateEvent},
	{"ConcurrentSameEvent", testConcurrentSameEvent},
	{"UpsertTransitions", testUpsertTransitions},
	{"ListIsOrderedAndPerUser", testConnectionsOrderedPerUser},
	{"DeleteConnection", testDeleteConnection},
}

func connected(junctionUserID, provider string, at time.Time) linking.ReportedConnection {
	return linking.ReportedConnection{
		JunctionUserID: junctionUserID,
		Provider:       provider,
		Status:         "connected",
		ExternalUserID: "ext-" + provider,
		ConnectedAt:    &at,
		UpdatedAt:      at,
	}
}

func failed(junctionUserID, provider string, at time.Time) linking.ReportedConnection {
	return linking.ReportedConnection{
		JunctionUserID: junctionUserID,
		Provider:       provider,
		Status:         "error",
		ErrorType:      "provider_credential_error",
		ErrorMessage:   "token revoked",
		UpdatedAt:      at,
	}
}

func withUpdatedAt(c linking.ReportedConnection, at time.Time) linking.ReportedConnection {
	c.UpdatedAt = at
	return c
}

func checkConnection(t *testing.T, what string, got, want linking.ReportedConnection) {
	t.Helper()
	if got.JunctionUserID != want.JunctionUserID || got.Provider != want.Provider || got.Status != want.Status ||
		got.ErrorType != want.ErrorType || got.ErrorMessage != want.ErrorMessage || got.ExternalUserID != want.ExternalUserID {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
	sameInstantPtr(t, what+" ConnectedAt", got.ConnectedAt, want.ConnectedAt)
	sameInstant(t, what+" UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func apply(t *testing.T, s *store.Store, eventID string, c linking.ReportedConnection, events ...*linking.Event) bool {
	t.Helper()
	applied, err := s.ApplyConnectionEvent(ctx(t), eventID, c, events...)
	noErr(t, err, "ApplyConnectionEvent "+eventID)
	return applied
}

func onlyConnection(t *testing.T, s *store.Store, junctionUserID string) linking.ReportedConnection {
	t.Helper()
	conns, err := s.ReportedConnections(ctx(t), junctionUserID)
	noErr(t, err, "Connections")
	if len(conns) != 1 {
		t.Fatalf("connections of %s: %+v, want exactly one", junctionUserID, conns)
	}
	return conns[0]
}

func testApplyThenList(t *testing.T, s *store.Store) {
	want := connected("jn-1", "oura", base)
	if !apply(t, s, "evt-1", want) {
		t.Fatal("first event: applied=false, want true")
	}
	checkConnection(t, "stored", onlyConnection(t, s, "jn-1"), want)
}

func testDuplicateEvent(t *testing.T, s *store.Store) {
	want := connected("jn-1", "oura", base)
	apply(t, s, "evt-1", want)
	// Same id, different content: a redelivery must change nothing.
	if apply(t, s, "evt-1", failed("jn-1", "oura", base.Add(time.Hour))) {
		t.Error("redelivered event: applied=true, want false")
	}
	if apply(t, s, "evt-1", connected("jn-1", "garmin", base)) {
		t.Error("redelivered event for another provider: applied=true, want false")
	}
	checkConnection(t, "after redeliveries", onlyConnection(t, s, "jn-1"), want)
}

func testConcurrentSameEvent(t *testing.T, s *store.Store) {
	const callers = 20
	var applied atomic.Int32
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			ok, err := s.ApplyConnectionEvent(ctx(t), "evt-race", connected("jn-1", "oura", base.Add(time.Duration(i)*time.Second)))
			errs[i] = err
			if ok {
				applied.Add(1)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		noErr(t, err, fmt.Sprintf("caller %d", i))
	}
	if got := applied.Load(); got != 1 {
		t.Errorf("callers that applied: %d, want exactly 1", got)
	}
	onlyConnection(t, s, "jn-1")
}

func testUpsertTransitions(t *testing.T, s *store.Store) {
	t0, t1, t2 := base, base.Add(time.Hour), base.Add(2*time.Hour)
	withoutExternalID := func(c linking.ReportedConnection) linking.ReportedConnection { c.ExternalUserID = ""; return c }
	tests := []struct {
		name   string
		events []linking.ReportedConnection
		want   linking.ReportedConnection
	}{
		{
			name:   "reconnect keeps the earliest ConnectedAt",
			events: []linking.ReportedConnection{connected("jn", "oura", t0), connected("jn", "oura", t1)},
			want:   withUpdatedAt(connected("jn", "oura", t0), t1),
		},
		{
			name:   "a late event with an earlier ConnectedAt moves it back",
			events: []linking.ReportedConnection{connected("jn", "oura", t1), withUpdatedAt(connected("jn", "oura", t0), t2)},
			want:   withUpdatedAt(connected("jn", "oura", t0), t2),
		},
		{
			name:   "connected then error keeps ConnectedAt",
			events: []linking.ReportedConnection{connected("jn", "oura", t0), failed("jn", "oura", t1)},
			want: func() linking.ReportedConnection {
				c := failed("jn", "oura", t1)
				c.ConnectedAt, c.ExternalUserID = &t0, "ext-oura"
				return c
			}(),
		},
		{
			name:   "error first has no ConnectedAt",
			events: []linking.ReportedConnection{failed("jn", "oura", t0)},
			want:   failed("jn", "oura", t0),
		},
		{
			name:   "error then connected clears the error and sets ConnectedAt",
			events: []linking.ReportedConnection{failed("jn", "oura", t0), connected("jn", "oura", t1)},
			want:   connected("jn", "oura", t1),
		},
		{
			name:   "an event without external user id keeps the known one",
			events: []linking.ReportedConnection{connected("jn", "oura", t0), withoutExternalID(connected("jn", "oura", t1))},
			want:   withUpdatedAt(connected("jn", "oura", t0), t1),
		},
	}
	for i, tt := range tests {
		junctionUserID := fmt.Sprintf("jn-%d", i)
		for j, c := range tt.events {
			c.JunctionUserID = junctionUserID
			if !apply(t, s, fmt.Sprintf("evt-%d-%d", i, j), c) {
				t.Fatalf("%s: event %d not applied", tt.name, j)
			}
		}
		want := tt.want
		want.JunctionUserID = junctionUserID
		checkConnection(t, tt.name, onlyConnection(t, s, junctionUserID), want)
	}
}

func testConnectionsOrderedPerUser(t *testing.T, s *store.Store) {
	for i, provider := range []string{"whoop", "fitbit", "oura", "garmin"} {
		apply(t, s, fmt.Sprintf("evt-%d", i), connected("jn-1", provider, base))
	}
	apply(t, s, "evt-other", connected("jn-2", "apple_health_kit", base))

	conns, err := s.ReportedConnections(ctx(t), "jn-1")
	noErr(t, err, "Connections")
	var got []string
	for _, c := range conns {
		got = append(got, c.Provider)
	}
	if want := []string{"fitbit", "garmin", "oura", "whoop"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("providers: got %v, want %v", got, want)
	}

	none, err := s.ReportedConnections(ctx(t), "jn-unknown")
	noErr(t, err, "Connections of an unknown user")
	if len(none) != 0 {
		t.Errorf("unknown user's connections: %+v, want none", none)
	}
}

func testDeleteConnection(t *testing.T, s *store.Store) {
	apply(t, s, "evt-1", connected("jn-1", "oura", base))
	apply(t, s, "evt-2", connected("jn-1", "fitbit", base))
	apply(t, s, "evt-3", connected("jn-2", "oura", base))

	noErr(t, s.DeleteReportedConnection(ctx(t), "jn-1", "oura"), "DeleteConnection")
	if got := onlyConnection(t, s, "jn-1"); got.Provider != "fitbit" {
		t.Errorf("remaining connection: %+v, want fitbit", got)
	}
	onlyConnection(t, s, "jn-2")

	noErr(t, s.DeleteReportedConnection(ctx(t), "jn-1", "oura"), "DeleteConnection of an absent connection")
	noErr(t, s.DeleteReportedConnection(ctx(t), "jn-unknown", "oura"), "DeleteConnection of an unknown user")

	// The event stays recorded: a redelivery must not resurrect the row.
	if apply(t, s, "evt-1", connected("jn-1", "oura", base)) {
		t.Error("redelivered event after delete: applied=true, want false")
	}
}
