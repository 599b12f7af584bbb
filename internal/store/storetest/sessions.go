package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/store"
)

var linkSessionTests = []namedTest{
	{"CreateThenGet", testCreateThenGetSession},
	{"DuplicateIDIsConflict", testDuplicateSession},
	{"NotFound", testSessionNotFound},
	{"CompleteRecordsOutcome", testCompleteSession},
	{"FirstOutcomeWins", testFirstOutcomeWins},
	{"ConcurrentCompletes", testConcurrentCompletes},
	{"LatestForAConnection", testLatestSession},
	{"ConcurrentCreates", testConcurrentCreates},
}

func session(id string, m linking.UserMapping) linking.LinkSession {
	return linking.LinkSession{
		ID:             id,
		AppUserID:      m.AppUserID,
		JunctionUserID: m.JunctionUserID,
		Provider:       "oura",
		ReturnTo:       "https://app.example/done",
		CreatedAt:      base,
	}
}

func checkSession(t *testing.T, what string, got, want linking.LinkSession) {
	t.Helper()
	if got.ID != want.ID || got.AppUserID != want.AppUserID || got.JunctionUserID != want.JunctionUserID ||
		got.Provider != want.Provider || got.ReturnTo != want.ReturnTo {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
	sameInstant(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
	switch {
	case got.Outcome == nil && want.Outcome == nil:
	case got.Outcome == nil || want.Outcome == nil || *got.Outcome != *want.Outcome:
		t.Errorf("%s: outcome %+v, want %+v", what, got.Outcome, want.Outcome)
	}
	sameInstantPtr(t, what+" CompletedAt", got.CompletedAt, want.CompletedAt)
}

func testCreateThenGetSession(t *testing.T, s *store.Store) {
	m := mapping("app-1", "jn-1")
	withEverything := session("s-full", m)
	// Empty provider and return_to are meaningful (widget picks, page
	// renders) and must come back empty.
	bare := session("s-bare", m)
	bare.Provider, bare.ReturnTo = "", ""

	for _, want := range []linking.LinkSession{withEverything, bare} {
		noErr(t, s.CreateLinkSession(ctx(t), want), "CreateLinkSession "+want.ID)
		got, err := s.LinkSession(ctx(t), want.ID)
		noErr(t, err, "LinkSession "+want.ID)
		checkSession(t, want.ID, got, want)
	}
}

func testDuplicateSession(t *testing.T, s *store.Store) {
	first := session("s-1", mapping("app-1", "jn-1"))
	noErr(t, s.CreateLinkSession(ctx(t), first), "CreateLinkSession")
	dup := session("s-1", mapping("app-2", "jn-2"))
	wantCode(t, s.CreateLinkSession(ctx(t), dup), linking.EConflict, "duplicate session id")
	got, err := s.LinkSession(ctx(t), "s-1")
	noErr(t, err, "LinkSession")
	checkSession(t, "the first session is kept", got, first)
}

func testSessionNotFound(t *testing.T, s *store.Store) {
	_, err := s.LinkSession(ctx(t), "missing")
	wantCode(t, err, linking.ENotFound, "LinkSession")
	_, err = s.CompleteLinkSession(ctx(t), "missing", linking.Outcome{Status: "connected"}, base)
	wantCode(t, err, linking.ENotFound, "CompleteLinkSession")
}

func testCompleteSession(t *testing.T, s *store.Store) {
	tests := []struct {
		name    string
		outcome linking.Outcome
	}{
		{"connected", linking.Outcome{Status: "connected"}},
		{"cancelled", linking.Outcome{Status: "cancelled", ErrorType: "user_cancelled"}},
		{"error", linking.Outcome{Status: "error", ErrorType: "provider_credential_error"}},
	}
	for _, tt := range tests {
		want := session("s-"+tt.name, mapping("app-1", "jn-1"))
		noErr(t, s.CreateLinkSession(ctx(t), want), "CreateLinkSession")
		at := base.Add(90 * time.Second)
		got, err := s.CompleteLinkSession(ctx(t), want.ID, tt.outcome, at)
		noErr(t, err, "CompleteLinkSession "+tt.name)
		want.Outcome, want.CompletedAt = &tt.outcome, &at
		checkSession(t, tt.name+" returned", got, want)

		got, err = s.LinkSession(ctx(t), want.ID)
		noErr(t, err, "LinkSession")
		checkSession(t, tt.name+" stored", got, want)
	}
}

func testFirstOutcomeWins(t *testing.T, s *store.Store) {
	want := session("s-1", mapping("app-1", "jn-1"))
	noErr(t, s.CreateLinkSession(ctx(t), want), "CreateLinkSession")
	first := linking.Outcome{Status: "error", ErrorType: "provider_api_error"}
	firstAt := base.Add(time.Minute)
	_, err := s.CompleteLinkSession(ctx(t), "s-1", first, firstAt)
	noErr(t, err, "first CompleteLinkSession")

	got, err := s.CompleteLinkSession(ctx(t), "s-1", linking.Outcome{Status: "connected"}, base.Add(time.Hour))
	noErr(t, err, "second CompleteLinkSession")
	want.Outcome, want.CompletedAt = &first, &firstAt
	checkSession(t, "second complete returns the first outcome", got, want)
}

func testConcurrentCompletes(t *testing.T, s *store.Store) {
	noErr(t, s.CreateLinkSession(ctx(t), session("s-race", mapping("app-1", "jn-1"))), "CreateLinkSession")
	const callers = 20
	results := make([]linking.LinkSession, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			o := linking.Outcome{Status: "error", ErrorType: fmt.Sprintf("type-%02d", i)}
			results[i], errs[i] = s.CompleteLinkSession(ctx(t), "s-race", o, base.Add(time.Duration(i)*time.Second))
		})
	}
	wg.Wait()

	stored, err := s.LinkSession(ctx(t), "s-race")
	noErr(t, err, "LinkSession")
	if stored.Outcome == nil || stored.CompletedAt == nil {
		t.Fatalf("stored session has no outcome: %+v", stored)
	}
	for i := range callers {
		noErr(t, errs[i], fmt.Sprintf("caller %d", i))
		checkSession(t, fmt.Sprintf("caller %d", i), results[i], stored)
	}
	// The stored outcome is one of the callers', with its own time.
	var winner int
	if _, err := fmt.Sscanf(stored.Outcome.ErrorType, "type-%d", &winner); err != nil {
		t.Fatalf("stored outcome %+v is none of the callers'", stored.Outcome)
	}
	sameInstant(t, "winner's CompletedAt", *stored.CompletedAt, base.Add(time.Duration(winner)*time.Second))
}

func testLatestSession(t *testing.T, s *store.Store) {
	m, other := mapping("app-1", "jn-1"), mapping("app-2", "jn-2")
	at := func(id, provider string, m linking.UserMapping, minutes int) linking.LinkSession {
		ls := session(id, m)
		ls.Provider, ls.CreatedAt = provider, base.Add(time.Duration(minutes)*time.Minute)
		return ls
	}
	for _, ls := range []linking.LinkSession{
		at("old-oura", "oura", m, 0), at("picker", "", m, 10), at("fitbit", "fitbit", m, 20),
		at("oura", "oura", m, 30), at("someone-else", "oura", other, 40),
	} {
		noErr(t, s.CreateLinkSession(ctx(t), ls), "CreateLinkSession "+ls.ID)
	}
	tests := []struct {
		provider string
		since    int
		want     string
	}{
		{"oura", 0, "oura"},     // the newest for that provider
		{"polar", 0, "picker"},  // the user could have picked it in Link
		{"fitbit", 0, "fitbit"}, // newer than the picker session
		{"polar", 15, ""},       // none since
	}
	for _, tc := range tests {
		got, err := s.LatestLinkSession(ctx(t), m.JunctionUserID, tc.provider, base.Add(time.Duration(tc.since)*time.Minute))
		if tc.want == "" {
			wantCode(t, err, linking.ENotFound, "no session since")
			continue
		}
		noErr(t, err, "LatestLinkSession "+tc.provider)
		if got.ID != tc.want {
			t.Errorf("latest session for %s since +%dm = %s, want %s", tc.provider, tc.since, got.ID, tc.want)
		}
	}
}

// Concurrent creates may share a transaction (group commit); each is
// stored or fails on its own: a duplicate among them is the only one that
// conflicts.
func testConcurrentCreates(t *testing.T, s *store.Store) {
	m := mapping("app-1", "jn-1")
	noErr(t, s.CreateLinkSession(ctx(t), session("s-taken", m)), "CreateLinkSession")
	const callers = 50
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			id := fmt.Sprintf("s-%02d", i)
			if i == callers/2 {
				id = "s-taken"
			}
			errs[i] = s.CreateLinkSession(ctx(t), session(id, m))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i == callers/2 {
			wantCode(t, err, linking.EConflict, "the duplicate among concurrent creates")
			continue
		}
		noErr(t, err, fmt.Sprintf("create %d", i))
		got, err := s.LinkSession(ctx(t), fmt.Sprintf("s-%02d", i))
		noErr(t, err, fmt.Sprintf("LinkSession %d", i))
		checkSession(t, fmt.Sprintf("session %d", i), got, session(fmt.Sprintf("s-%02d", i), m))
	}
}
