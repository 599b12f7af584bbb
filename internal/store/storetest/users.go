package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/store"
)

var userMappingTests = []namedTest{
	{"SaveThenLookUpBothWays", testSaveThenLookUp},
	{"NotFound", testMappingNotFound},
	{"FirstWriterWins", testMappingFirstWriterWins},
	{"JunctionUserReusedIsConflict", testMappingJunctionConflict},
	{"ExistingMappingWinsOverClash", testMappingExistingWinsOverClash},
	{"ConcurrentSaves", testMappingConcurrentSaves},
	{"DeleteAppUser", testDeleteAppUser},
	{"DeleteUnknownAppUser", testDeleteUnknownAppUser},
	{"ForgetJunctionUserOnlyWhileMapped", testForgetJunctionUser},
}

// ForgetJunctionUser drops a mapping and its connections, but never a
// mapping that another request has replaced meanwhile.
func testForgetJunctionUser(t *testing.T, s *store.Store) {
	old := mapping("app-1", "jn-old")
	_, err := s.SaveUserMapping(ctx(t), old)
	noErr(t, err, "SaveUserMapping")
	_, err = s.ApplyConnectionEvent(ctx(t), "evt-1", linking.ReportedConnection{JunctionUserID: "jn-old", Provider: "oura", Status: "connected", UpdatedAt: base})
	noErr(t, err, "ApplyConnectionEvent")

	noErr(t, s.ForgetJunctionUser(ctx(t), old), "ForgetJunctionUser")
	if _, err := s.UserMappingByAppUser(ctx(t), "app-1"); !linking.IsCode(err, linking.ENotFound) {
		t.Fatalf("mapping after ForgetJunctionUser: %v, want not found", err)
	}
	conns, err := s.ReportedConnections(ctx(t), "jn-old")
	noErr(t, err, "ReportedConnections")
	if len(conns) != 0 {
		t.Fatalf("connections of a forgotten Junction user: %+v", conns)
	}

	replaced := mapping("app-1", "jn-new")
	_, err = s.SaveUserMapping(ctx(t), replaced)
	noErr(t, err, "SaveUserMapping")
	noErr(t, s.ForgetJunctionUser(ctx(t), old), "ForgetJunctionUser of a replaced mapping")
	got, err := s.UserMappingByAppUser(ctx(t), "app-1")
	noErr(t, err, "UserMappingByAppUser")
	checkMapping(t, "replacement", got, replaced)
}

func mapping(app, junction string) linking.UserMapping {
	return linking.UserMapping{AppUserID: app, JunctionUserID: junction, ClientUserID: "client-" + app, CreatedAt: base}
}

func testSaveThenLookUp(t *testing.T, s *store.Store) {
	want := mapping("app-1", "jn-1")
	got, err := s.SaveUserMapping(ctx(t), want)
	noErr(t, err, "SaveUserMapping")
	checkMapping(t, "saved", got, want)

	byApp, err := s.UserMappingByAppUser(ctx(t), "app-1")
	noErr(t, err, "UserMappingByAppUser")
	checkMapping(t, "by app user", byApp, want)

	byJunction, err := s.UserMappingByJunctionUser(ctx(t), "jn-1")
	noErr(t, err, "UserMappingByJunctionUser")
	checkMapping(t, "by junction user", byJunction, want)
}

func checkMapping(t *testing.T, what string, got, want linking.UserMapping) {
	t.Helper()
	if got.AppUserID != want.AppUserID || got.JunctionUserID != want.JunctionUserID || got.ClientUserID != want.ClientUserID {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
	sameInstant(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
}

func testMappingNotFound(t *testing.T, s *store.Store) {
	_, err := s.SaveUserMapping(ctx(t), mapping("app-1", "jn-1"))
	noErr(t, err, "SaveUserMapping")
	tests := []struct {
		name   string
		lookup func() error
	}{
		{"unknown app user", func() error { _, err := s.UserMappingByAppUser(ctx(t), "app-2"); return err }},
		{"unknown junction user", func() error { _, err := s.UserMappingByJunctionUser(ctx(t), "jn-2"); return err }},
		{"app id looked up as junction id", func() error { _, err := s.UserMappingByJunctionUser(ctx(t), "app-1"); return err }},
		{"empty app user", func() error { _, err := s.UserMappingByAppUser(ctx(t), ""); return err }},
	}
	for _, tt := range tests {
		wantCode(t, tt.lookup(), linking.ENotFound, tt.name)
	}
}

func testMappingFirstWriterWins(t *testing.T, s *store.Store) {
	first := mapping("app-1", "jn-1")
	_, err := s.SaveUserMapping(ctx(t), first)
	noErr(t, err, "first SaveUserMapping")

	second := mapping("app-1", "jn-2")
	second.ClientUserID = "other-client"
	second.CreatedAt = base.Add(time.Hour)
	got, err := s.SaveUserMapping(ctx(t), second)
	noErr(t, err, "second SaveUserMapping")
	checkMapping(t, "second save returns the first", got, first)

	// Saving the identical mapping again is a no-op too.
	got, err = s.SaveUserMapping(ctx(t), first)
	noErr(t, err, "repeat SaveUserMapping")
	checkMapping(t, "repeat save", got, first)

	_, err = s.UserMappingByJunctionUser(ctx(t), "jn-2")
	wantCode(t, err, linking.ENotFound, "the losing junction user was not stored")
}

func testMappingJunctionConflict(t *testing.T, s *store.Store) {
	_, err := s.SaveUserMapping(ctx(t), mapping("app-1", "jn-1"))
	noErr(t, err, "SaveUserMapping")

	_, err = s.SaveUserMapping(ctx(t), mapping("app-2", "jn-1"))
	wantCode(t, err, linking.EConflict, "another app user with the same junction user")

	_, err = s.UserMappingByAppUser(ctx(t), "app-2")
	wantCode(t, err, linking.ENotFound, "the conflicting app user was not stored")
	owner, err := s.UserMappingByJunctionUser(ctx(t), "jn-1")
	noErr(t, err, "UserMappingByJunctionUser")
	if owner.AppUserID != "app-1" {
		t.Errorf("junction user owner: got %q, want app-1", owner.AppUserID)
	}
}

// An app user already mapped gets its mapping back even when the new
// Junction id belongs to someone else: the existing row answers first.
func testMappingExistingWinsOverClash(t *testing.T, s *store.Store) {
	a := mapping("app-a", "jn-a")
	_, err := s.SaveUserMapping(ctx(t), a)
	noErr(t, err, "save a")
	_, err = s.SaveUserMapping(ctx(t), mapping("app-b", "jn-b"))
	noErr(t, err, "save b")

	got, err := s.SaveUserMapping(ctx(t), mapping("app-a", "jn-b"))
	noErr(t, err, "save a with b's junction user")
	checkMapping(t, "existing mapping", got, a)
}

func testMappingConcurrentSaves(t *testing.T, s *store.Store) {
	const callers = 50
	results := make([]linking.UserMapping, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			m := mapping("app-race", fmt.Sprintf("jn-%02d", i))
			m.CreatedAt = base.Add(time.Duration(i) * time.Millisecond)
			results[i], errs[i] = s.SaveUserMapping(ctx(t), m)
		})
	}
	wg.Wait()

	for i, err := range errs {
		noErr(t, err, fmt.Sprintf("caller %d", i))
	}
	stored, err := s.UserMappingByAppUser(ctx(t), "app-race")
	noErr(t, err, "UserMappingByAppUser")
	for i, got := range results {
		checkMapping(t, fmt.Sprintf("caller %d", i), got, stored)
	}
	rows := 0
	for i := range callers {
		_, err := s.UserMappingByJunctionUser(ctx(t), fmt.Sprintf("jn-%02d", i))
		if err == nil {
			rows++
		} else if !linking.IsCode(err, linking.ENotFound) {
			t.Fatalf("UserMappingByJunctionUser: %v", err)
		}
	}
	if rows != 1 {
		t.Errorf("stored mappings for the 50 junction ids: %d, want 1", rows)
	}
}

func testDeleteAppUser(t *testing.T, s *store.Store) {
	for _, m := range []linking.UserMapping{mapping("app-1", "jn-1"), mapping("app-2", "jn-2")} {
		_, err := s.SaveUserMapping(ctx(t), m)
		noErr(t, err, "SaveUserMapping")
		for _, id := range []string{m.AppUserID + "-s1", m.AppUserID + "-s2"} {
			noErr(t, s.CreateLinkSession(ctx(t), session(id, m)), "CreateLinkSession")
		}
		for _, provider := range []string{"oura", "fitbit"} {
			_, err := s.ApplyConnectionEvent(ctx(t), m.AppUserID+provider, connected(m.JunctionUserID, provider, base))
			noErr(t, err, "ApplyConnectionEvent")
		}
	}

	noErr(t, s.DeleteAppUser(ctx(t), "app-1"), "DeleteAppUser")

	_, err := s.UserMappingByAppUser(ctx(t), "app-1")
	wantCode(t, err, linking.ENotFound, "mapping by app user after delete")
	_, err = s.UserMappingByJunctionUser(ctx(t), "jn-1")
	wantCode(t, err, linking.ENotFound, "mapping by junction user after delete")
	for _, id := range []string{"app-1-s1", "app-1-s2"} {
		_, err = s.LinkSession(ctx(t), id)
		wantCode(t, err, linking.ENotFound, "session "+id+" after delete")
	}
	conns, err := s.ReportedConnections(ctx(t), "jn-1")
	noErr(t, err, "Connections")
	if len(conns) != 0 {
		t.Errorf("connections after delete: %+v, want none", conns)
	}

	// The other user keeps everything.
	_, err = s.UserMappingByAppUser(ctx(t), "app-2")
	noErr(t, err, "other user's mapping")
	for _, id := range []string{"app-2-s1", "app-2-s2"} {
		_, err = s.LinkSession(ctx(t), id)
		noErr(t, err, "other user's session "+id)
	}
	conns, err = s.ReportedConnections(ctx(t), "jn-2")
	noErr(t, err, "Connections")
	if len(conns) != 2 {
		t.Errorf("other user's connections: %d, want 2", len(conns))
	}

	noErr(t, s.DeleteAppUser(ctx(t), "app-1"), "second DeleteAppUser")

	// The app user can start over, with the freed Junction id or a new one.
	again := mapping("app-1", "jn-1-new")
	got, err := s.SaveUserMapping(ctx(t), again)
	noErr(t, err, "SaveUserMapping after delete")
	checkMapping(t, "re-created mapping", got, again)
}

func testDeleteUnknownAppUser(t *testing.T, s *store.Store) {
	noErr(t, s.DeleteAppUser(ctx(t), "nobody"), "DeleteAppUser of an unknown user")
	// Sessions of a user without a mapping still go.
	noErr(t, s.CreateLinkSession(ctx(t), session("orphan", mapping("app-x", "jn-x"))), "CreateLinkSession")
	noErr(t, s.DeleteAppUser(ctx(t), "app-x"), "DeleteAppUser")
	_, err := s.LinkSession(ctx(t), "orphan")
	wantCode(t, err, linking.ENotFound, "orphan session after delete")
}
