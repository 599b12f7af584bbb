package linking

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestEnsureJunctionUserCreatesOnce(t *testing.T) {
	var creates atomic.Int32
	release := make(chan struct{})
	fj := &fakeJunction{createUser: func(ctx context.Context, clientUserID string) (JunctionUser, error) {
		creates.Add(1)
		<-release // hold the first create so the others pile up behind it
		return JunctionUser{ID: "2b7b1a6e-0000-4000-8000-000000000001"}, nil
	}}
	s := newTestService(t, fj, &clock{now: time.Now()})
	var wg sync.WaitGroup
	results := make([]UserMapping, 30)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := s.EnsureJunctionUser(t.Context(), "user@example.com")
			if err != nil {
				t.Error(err)
			}
			results[i] = m
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the goroutines reach the create; correctness does not depend on it
	close(release)
	wg.Wait()
	if n := creates.Load(); n != 1 {
		t.Fatalf("%d creates for one user, want 1", n)
	}
	for _, m := range results {
		if m.JunctionUserID != "2b7b1a6e-0000-4000-8000-000000000001" {
			t.Fatalf("caller got mapping %+v", m)
		}
	}
	if want := (ClientUserIDs{}).For("user@example.com", 0); results[0].ClientUserID != want {
		t.Fatalf("client_user_id %q, want the derived %q", results[0].ClientUserID, want)
	}
}

func TestClientUserIDsAreStableOpaqueAndScoped(t *testing.T) {
	ids := ClientUserIDs{Namespace: uuid.MustParse("4b8f8e54-8f1a-4c55-9a61-3b9f7e0c2d11"), Issuer: "https://idp.example.com/"}
	a := ids.For("alice@example.com", 0)
	// The documented formula, so an app's backend can compute it.
	if want := uuid.NewSHA1(ids.Namespace, []byte("https://idp.example.com/\nalice@example.com")).String(); a != want {
		t.Fatalf("For = %s, want UUIDv5(namespace, issuer+\"\\n\"+user) = %s", a, want)
	}
	if strings.Contains(a, "alice") || a != ids.For("alice@example.com", 0) {
		t.Fatalf("not opaque or not stable: %s", a)
	}
	others := map[string]string{
		"another user":      ids.For("bob@example.com", 0),
		"another issuer":    ClientUserIDs{Namespace: ids.Namespace, Issuer: "https://other.example.com/"}.For("alice@example.com", 0),
		"another namespace": ClientUserIDs{Issuer: ids.Issuer}.For("alice@example.com", 0),
		"a second attempt":  ids.For("alice@example.com", 1),
	}
	for what, id := range others {
		if id == a {
			t.Errorf("%s gives the same client_user_id", what)
		}
	}
	if (ClientUserIDs{}).For("x", 0) != (ClientUserIDs{Namespace: LegacyClientUserNamespace}).For("x", 0) {
		t.Error("the zero namespace is not the legacy one")
	}
}

// A Junction user deleted elsewhere (or forgotten by an emulator) must not
// lock its app user out: the mapping is replaced within the same request,
// keeping the client_user_id the user had.
func TestDeletedJunctionUserHealsWithinTheRequest(t *testing.T) {
	var created []string
	gone := map[string]bool{}
	next := 0
	fj := &fakeJunction{
		createUser: func(ctx context.Context, clientUserID string) (JunctionUser, error) {
			created = append(created, clientUserID)
			next++
			return JunctionUser{ID: fmt.Sprintf("junction-user-%d", next)}, nil
		},
		linkToken: func(ctx context.Context, req LinkTokenRequest) (LinkToken, error) {
			if gone[req.JunctionUserID] {
				return LinkToken{}, WrapError(ENotFound, ErrUnknownJunctionUser, "gone")
			}
			return LinkToken{Token: "lt-" + req.JunctionUserID}, nil
		},
		signInToken: func(ctx context.Context, id string) (SignInToken, error) {
			if gone[id] {
				return SignInToken{}, WrapError(ENotFound, ErrUnknownJunctionUser, "gone")
			}
			return SignInToken{JunctionUserID: id, Token: "sit"}, nil
		},
	}
	s := newTestService(t, fj, &clock{now: time.Now()})
	if _, err := s.StartLink(t.Context(), "alice", LinkRequest{}); err != nil {
		t.Fatal(err)
	}
	gone["junction-user-1"] = true
	tok, err := s.StartLink(t.Context(), "alice", LinkRequest{})
	if err != nil || tok.Token != "lt-junction-user-2" {
		t.Fatalf("after the Junction user vanished: %+v, %v; want a token for a new Junction user", tok, err)
	}
	if len(created) != 2 || created[0] != created[1] {
		t.Fatalf("creates %q: want the same client_user_id twice", created)
	}
	m, _ := s.store.UserMappingByAppUser(t.Context(), "alice")
	if m.JunctionUserID != "junction-user-2" {
		t.Fatalf("mapping %+v not replaced", m)
	}
	gone["junction-user-2"] = true
	if sit, err := s.SignInToken(t.Context(), "alice"); err != nil || sit.JunctionUserID != "junction-user-3" {
		t.Fatalf("sign-in token after the Junction user vanished: %+v, %v", sit, err)
	}
}

// Junction keeps a deleted user for a grace period and may hand it back on
// create: linkbff then takes the next client_user_id instead of looping.
func TestHealingSkipsAUserJunctionStillHolds(t *testing.T) {
	ids := map[string]string{}
	fj := &fakeJunction{
		createUser: func(ctx context.Context, clientUserID string) (JunctionUser, error) {
			if id, ok := ids[clientUserID]; ok {
				return JunctionUser{ID: id, Adopted: true}, nil
			}
			ids[clientUserID] = fmt.Sprintf("junction-user-%d", len(ids)+1)
			return JunctionUser{ID: ids[clientUserID]}, nil
		},
		linkToken: func(ctx context.Context, req LinkTokenRequest) (LinkToken, error) {
			if req.JunctionUserID == "junction-user-1" {
				return LinkToken{}, WrapError(ENotFound, ErrUnknownJunctionUser, "gone")
			}
			return LinkToken{Token: "lt"}, nil
		},
	}
	s := newTestService(t, fj, &clock{now: time.Now()})
	if _, err := s.StartLink(t.Context(), "bob", LinkRequest{}); err != nil {
		t.Fatal(err)
	}
	m, _ := s.store.UserMappingByAppUser(t.Context(), "bob")
	if m.JunctionUserID != "junction-user-2" || m.ClientUserID != (ClientUserIDs{}).For("bob", 1) {
		t.Fatalf("mapping %+v: want the second client_user_id and a new Junction user", m)
	}
}

// Reading never creates a Junction user, but a vanished one is forgotten so
// the next link maps a new one.
func TestConnectionsForgetAVanishedJunctionUser(t *testing.T) {
	fj := &fakeJunction{
		createUser: func(ctx context.Context, id string) (JunctionUser, error) { return JunctionUser{ID: "j-1"}, nil },
		connections: func(ctx context.Context, id string) ([]Connection, error) {
			return nil, WrapError(ENotFound, ErrUnknownJunctionUser, "gone")
		},
	}
	s := newTestService(t, fj, &clock{now: time.Now()})
	if _, err := s.EnsureJunctionUser(t.Context(), "carol"); err != nil {
		t.Fatal(err)
	}
	list, err := s.Connections(t.Context(), "carol")
	if err != nil || len(list.Connections) != 0 {
		t.Fatalf("connections of a vanished Junction user: %+v, %v", list, err)
	}
	if _, err := s.store.UserMappingByAppUser(t.Context(), "carol"); !IsCode(err, ENotFound) {
		t.Fatalf("the stale mapping is still there: %v", err)
	}
}

func TestConnectionsMerge(t *testing.T) {
	c := &clock{now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	const junctionUser = "5d0d1f0e-0000-4000-8000-000000000001"
	var remote []Connection
	var remoteErr error
	fj := &fakeJunction{
		createUser: func(ctx context.Context, id string) (JunctionUser, error) {
			return JunctionUser{ID: junctionUser}, nil
		},
		connections: func(ctx context.Context, id string) ([]Connection, error) { return remote, remoteErr },
	}
	s := newTestService(t, fj, c)
	if _, err := s.EnsureJunctionUser(t.Context(), "merge"); err != nil {
		t.Fatal(err)
	}
	apply := func(id string, conn ReportedConnection) {
		conn.JunctionUserID = junctionUser
		if _, err := s.store.ApplyConnectionEvent(t.Context(), id, conn); err != nil {
			t.Fatal(err)
		}
	}
	connectedAt := c.now.Add(-time.Hour)
	apply("msg_1", ReportedConnection{Provider: "fitbit", Status: "connected", ConnectedAt: &connectedAt, UpdatedAt: c.now.Add(-time.Minute)})
	apply("msg_2", ReportedConnection{Provider: "garmin", Status: "connected", ConnectedAt: &connectedAt, UpdatedAt: c.now.Add(-2 * time.Hour)})
	apply("msg_3", ReportedConnection{Provider: "whoop_v2", Status: "error", ErrorType: "token_refresh_failed", UpdatedAt: c.now.Add(-time.Minute)})
	remote = []Connection{
		{Provider: "oura", Name: "Oura", Status: "connected", ConnectedAt: &connectedAt},
		{Provider: "polar", Name: "Polar", Status: "error", ErrorType: "provider_credential_error"},
	}

	got, err := s.Connections(t.Context(), "merge")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"oura": "connected", "polar": "error:provider_credential_error", "fitbit": "connected"}
	if len(got.Connections) != len(want) || got.Stale {
		t.Fatalf("got %+v, want %v (garmin's webhook is stale, whoop_v2's error is for a connection Junction no longer lists)", got, want)
	}
	for _, conn := range got.Connections {
		desc := conn.Status
		if conn.ErrorType != "" {
			desc += ":" + conn.ErrorType
		}
		if want[conn.Provider] != desc {
			t.Errorf("%s = %s, want %s", conn.Provider, desc, want[conn.Provider])
		}
	}

	// Within a few seconds the same list is served without asking Junction.
	calls := 0
	fj.connections = func(ctx context.Context, id string) ([]Connection, error) {
		calls++
		return remote, remoteErr
	}
	for range 5 {
		if _, err := s.Connections(t.Context(), "merge"); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 0 {
		t.Fatalf("polling within the cache window asked Junction %d times", calls)
	}

	// Junction down: the webhook view is served, marked stale.
	c.now = c.now.Add(userProvidersTTL)
	remoteErr = Errorf(EUpstreamUnavailable, "down")
	got, err = s.Connections(t.Context(), "merge")
	if err != nil || !got.Stale || len(got.Connections) != 3 {
		t.Fatalf("with Junction down: %+v, %v", got, err)
	}
}

func TestCatalogueCoalescesAndFilters(t *testing.T) {
	var calls atomic.Int32
	gate := make(chan struct{})
	fj := &fakeJunction{providers: func(ctx context.Context) ([]Provider, error) {
		calls.Add(1)
		<-gate
		return []Provider{{Slug: "oura"}, {Slug: "fitbit"}, {Slug: "garmin"}}, nil
	}}
	c := &clock{now: time.Now()}
	s := newTestService(t, fj, c, func(cfg *Config) { cfg.Providers = ProviderAllowlist{"oura": true, "garmin": true} })
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := s.Providers(t.Context())
			if err != nil || len(p) != 2 {
				t.Errorf("providers = %v, %v", p, err)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(gate)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("100 concurrent misses made %d upstream calls", n)
	}
	c.now = c.now.Add(11 * time.Minute)
	if _, err := s.Providers(t.Context()); err != nil || calls.Load() != 2 {
		t.Fatalf("expired cache not refreshed: calls=%d err=%v", calls.Load(), err)
	}
}

func TestCompleteLinkExpiry(t *testing.T) {
	c := &clock{now: time.Now()}
	var redirect string
	fj := &fakeJunction{
		createUser: func(ctx context.Context, id string) (JunctionUser, error) {
			return JunctionUser{ID: "7c1d0b0e-0000-4000-8000-000000000001"}, nil
		},
		linkToken: func(ctx context.Context, req LinkTokenRequest) (LinkToken, error) {
			if !req.RedirectOnClose || !req.RedirectOnError {
				t.Errorf("link token request %+v must redirect on close and error", req)
			}
			redirect = req.RedirectURL
			return LinkToken{Token: "t", WebURL: "https://link"}, nil
		},
	}
	s := newTestService(t, fj, c)
	if _, err := s.StartLink(t.Context(), "expiring", LinkRequest{}); err != nil {
		t.Fatal(err)
	}
	sessionID := redirect[strings.LastIndex(redirect, "/")+1:]
	c.now = c.now.Add(LinkTokenLifetime + time.Second)
	if _, err := s.CompleteLink(t.Context(), sessionID, Callback{State: "success"}); !IsCode(err, ENotFound) {
		t.Fatalf("expired session completed: %v", err)
	}
}

// countingStore counts the mapping reads that reach the store.
type countingStore struct {
	*memStore
	lookups atomic.Int32
}

func (c *countingStore) UserMappingByAppUser(ctx context.Context, id string) (UserMapping, error) {
	c.lookups.Add(1)
	return c.memStore.UserMappingByAppUser(ctx, id)
}

// mappingFakes is a Junction whose users can be made to vanish, counting
// creates.
func mappingFakes(gone map[string]bool, creates *atomic.Int32) *fakeJunction {
	return &fakeJunction{
		createUser: func(ctx context.Context, clientUserID string) (JunctionUser, error) {
			return JunctionUser{ID: fmt.Sprintf("junction-user-%d", creates.Add(1))}, nil
		},
		deleteUser: func(ctx context.Context, id string) error { gone[id] = true; return nil },
		linkToken: func(ctx context.Context, req LinkTokenRequest) (LinkToken, error) {
			if gone[req.JunctionUserID] {
				return LinkToken{}, WrapError(ENotFound, ErrUnknownJunctionUser, "gone")
			}
			return LinkToken{Token: "lt-" + req.JunctionUserID}, nil
		},
		connections: func(ctx context.Context, id string) ([]Connection, error) {
			if gone[id] {
				return nil, WrapError(ENotFound, ErrUnknownJunctionUser, "gone")
			}
			return nil, nil
		},
	}
}

// recordLinkTokens makes fj list the Junction users it mints link tokens
// for, in order.
func recordLinkTokens(fj *fakeJunction) *[]string {
	var tokensFor []string
	linkToken := fj.linkToken
	fj.linkToken = func(ctx context.Context, req LinkTokenRequest) (LinkToken, error) {
		tokensFor = append(tokensFor, req.JunctionUserID)
		return linkToken(ctx, req)
	}
	return &tokensFor
}

func TestReturningUsersAreMappedFromMemory(t *testing.T) {
	var creates atomic.Int32
	st := &countingStore{memStore: newMemStore()}
	s := newTestService(t, mappingFakes(map[string]bool{}, &creates), &clock{now: time.Now()}, func(c *Config) { c.Store = st })
	for range 5 {
		if tok, err := s.StartLink(t.Context(), "dora", LinkRequest{}); err != nil || tok.Token != "lt-junction-user-1" {
			t.Fatalf("StartLink: %+v, %v", tok, err)
		}
	}
	if n := st.lookups.Load(); n != 1 {
		t.Fatalf("5 requests of one user read the mapping from the store %d times, want 1", n)
	}
	if n := creates.Load(); n != 1 {
		t.Fatalf("%d Junction users created, want 1", n)
	}
	// Another process's mapping is read once, then remembered too.
	if _, err := st.SaveUserMapping(t.Context(), UserMapping{AppUserID: "erin", JunctionUserID: "junction-user-99"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if tok, err := s.StartLink(t.Context(), "erin", LinkRequest{}); err != nil || tok.Token != "lt-junction-user-99" {
			t.Fatalf("StartLink: %+v, %v", tok, err)
		}
	}
	if n := st.lookups.Load(); n != 2 {
		t.Fatalf("store lookups %d, want 2", n)
	}
}

// DELETE /v1/me forgets the remembered mapping: the user's next request
// maps a new Junction user at once instead of trying the deleted one.
func TestDeleteAppUserForgetsTheRememberedMapping(t *testing.T) {
	var creates atomic.Int32
	gone := map[string]bool{}
	fj := mappingFakes(gone, &creates)
	tokensFor := recordLinkTokens(fj)
	s := newTestService(t, fj, &clock{now: time.Now()})
	if _, err := s.StartLink(t.Context(), "frank", LinkRequest{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAppUser(t.Context(), "frank"); err != nil {
		t.Fatal(err)
	}
	if tok, err := s.StartLink(t.Context(), "frank", LinkRequest{}); err != nil || tok.Token != "lt-junction-user-2" {
		t.Fatalf("after DELETE /v1/me: %+v, %v", tok, err)
	}
	if want := []string{"junction-user-1", "junction-user-2"}; fmt.Sprint(*tokensFor) != fmt.Sprint(want) {
		t.Fatalf("link tokens minted for %q, want %q: the deleted user was still remembered", *tokensFor, want)
	}
}

// The self-healing paths (a link, a connections read) forget the mapping of
// a vanished Junction user and remember its replacement.
func TestSelfHealingReplacesTheRememberedMapping(t *testing.T) {
	var creates atomic.Int32
	gone := map[string]bool{}
	fj := mappingFakes(gone, &creates)
	tokensFor := recordLinkTokens(fj)
	s := newTestService(t, fj, &clock{now: time.Now()})
	if _, err := s.StartLink(t.Context(), "gina", LinkRequest{}); err != nil {
		t.Fatal(err)
	}
	gone["junction-user-1"] = true
	for i := range 3 {
		if tok, err := s.StartLink(t.Context(), "gina", LinkRequest{}); err != nil || tok.Token != "lt-junction-user-2" {
			t.Fatalf("request %d after the Junction user vanished: %+v, %v", i, tok, err)
		}
	}
	if n := creates.Load(); n != 2 {
		t.Fatalf("%d creates, want 2: the replacement is not remembered", n)
	}
	// A connections read finds the replacement gone too and forgets it.
	gone["junction-user-2"] = true
	if _, err := s.Connections(t.Context(), "gina"); err != nil {
		t.Fatal(err)
	}
	if tok, err := s.StartLink(t.Context(), "gina", LinkRequest{}); err != nil || tok.Token != "lt-junction-user-3" {
		t.Fatalf("after the connections read forgot the mapping: %+v, %v", tok, err)
	}
	if n := creates.Load(); n != 3 {
		t.Fatalf("%d creates, want 3", n)
	}
	want := []string{"junction-user-1", "junction-user-1", "junction-user-2", "junction-user-2", "junction-user-2", "junction-user-3"}
	if fmt.Sprint(*tokensFor) != fmt.Sprint(want) {
		t.Fatalf("link tokens tried for %q, want %q: a forgotten user was still remembered", *tokensFor, want)
	}
}

func TestMappingCacheNeverKeepsWhatARacingForgetDropped(t *testing.T) {
	c := newMappingCache(10)
	m := UserMapping{AppUserID: "hana", JunctionUserID: "j-1"}
	epoch := c.begin() // a lookup starts and reads m from the store
	c.forget("hana")   // meanwhile the mapping is deleted
	c.add(m, epoch)    // the lookup's result arrives late
	if got, ok := c.get("hana"); ok {
		t.Fatalf("cached %+v after it was forgotten", got)
	}
	c.add(m, c.begin())
	if _, ok := c.get("hana"); !ok {
		t.Fatal("a lookup that raced nothing is not cached")
	}
	disabled := newMappingCache(-1)
	disabled.add(m, disabled.begin())
	if _, ok := disabled.get("hana"); ok {
		t.Fatal("a disabled cache keeps entries")
	}
}
