package storetest

import (
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/store"
)

var maintenanceTests = []namedTest{
	{"Prune", testPrune},
	{"Ping", testPing},
	{"TimestampsRoundTrip", testTimestampsRoundTrip},
}

func testPrune(t *testing.T, s *store.Store) {
	cutoff := base
	old, atCutoff, recent := cutoff.Add(-time.Hour), cutoff, cutoff.Add(time.Hour)
	m := mapping("app-1", "jn-1")
	for id, createdAt := range map[string]time.Time{"s-old": old, "s-cutoff": atCutoff, "s-recent": recent} {
		ls := session(id, m)
		ls.CreatedAt = createdAt
		noErr(t, s.CreateLinkSession(ctx(t), ls), "CreateLinkSession "+id)
	}
	for id, receivedAt := range map[string]time.Time{"evt-old": old, "evt-cutoff": atCutoff, "evt-recent": recent} {
		apply(t, s, id, connected("jn-1", id, receivedAt))
	}

	noErr(t, s.Prune(ctx(t), cutoff, cutoff), "Prune")

	_, err := s.LinkSession(ctx(t), "s-old")
	wantCode(t, err, linking.ENotFound, "session created before the cutoff")
	for _, id := range []string{"s-cutoff", "s-recent"} {
		_, err := s.LinkSession(ctx(t), id)
		noErr(t, err, "session "+id+" (not before the cutoff) is kept")
	}
	// A pruned event id can be applied again; the kept ones are still seen.
	for id, wantApplied := range map[string]bool{"evt-old": true, "evt-cutoff": false, "evt-recent": false} {
		if got := apply(t, s, id, connected("jn-1", id, recent)); got != wantApplied {
			t.Errorf("re-applying %s after prune: applied=%v, want %v", id, got, wantApplied)
		}
	}
	// Prune forgets events, not the connections they made.
	conns, err := s.ReportedConnections(ctx(t), "jn-1")
	noErr(t, err, "Connections")
	if len(conns) != 3 {
		t.Errorf("connections after prune: %d, want 3", len(conns))
	}

	// The two cutoffs are independent.
	noErr(t, s.Prune(ctx(t), recent.Add(time.Second), old), "Prune events only")
	_, err = s.LinkSession(ctx(t), "s-cutoff")
	noErr(t, err, "session kept when only events are pruned")
	if !apply(t, s, "evt-recent", connected("jn-1", "evt-recent", recent)) {
		t.Error("event pruned by the events cutoff was still seen")
	}
}

func testPing(t *testing.T, s *store.Store) {
	noErr(t, s.Ping(ctx(t)), "Ping")
}

func testTimestampsRoundTrip(t *testing.T, s *store.Store) {
	// A nanosecond-precise instant comes back in UTC, within a millisecond
	// (stores keep at least that); base, already whole milliseconds, exactly.
	precise := time.Date(2025, 7, 1, 23, 59, 59, 123_456_789, time.FixedZone("UTC-7", -7*3600))
	tests := []struct {
		name string
		at   time.Time
	}{
		{"milliseconds", base},
		{"nanoseconds", precise},
		{"far future", time.Date(2199, 12, 31, 23, 59, 59, 999_000_000, time.UTC)},
	}
	for i, tt := range tests {
		suffix := string(rune('a' + i))
		exact := tt.at.Equal(tt.at.Truncate(time.Millisecond))
		check := func(what string, got time.Time) {
			t.Helper()
			if got.Location() != time.UTC {
				t.Errorf("%s %s: location %v, want UTC", tt.name, what, got.Location())
			}
			diff := got.Sub(tt.at)
			if (exact && diff != 0) || diff < -time.Millisecond || diff > time.Millisecond {
				t.Errorf("%s %s: got %v, want %v", tt.name, what, got, tt.at)
			}
		}

		m := linking.UserMapping{AppUserID: "app-" + suffix, JunctionUserID: "jn-" + suffix, ClientUserID: "c", CreatedAt: tt.at}
		saved, err := s.SaveUserMapping(ctx(t), m)
		noErr(t, err, "SaveUserMapping")
		check("mapping CreatedAt (returned)", saved.CreatedAt)
		read, err := s.UserMappingByAppUser(ctx(t), m.AppUserID)
		noErr(t, err, "UserMappingByAppUser")
		check("mapping CreatedAt (read)", read.CreatedAt)

		ls := session("s-"+suffix, m)
		ls.CreatedAt = tt.at
		noErr(t, s.CreateLinkSession(ctx(t), ls), "CreateLinkSession")
		completed, err := s.CompleteLinkSession(ctx(t), ls.ID, linking.Outcome{Status: "connected"}, tt.at)
		noErr(t, err, "CompleteLinkSession")
		check("session CreatedAt", completed.CreatedAt)
		check("session CompletedAt", *completed.CompletedAt)

		apply(t, s, "evt-"+suffix, connected(m.JunctionUserID, "oura", tt.at))
		c := onlyConnection(t, s, m.JunctionUserID)
		check("connection ConnectedAt", *c.ConnectedAt)
		check("connection UpdatedAt", c.UpdatedAt)
	}
}
