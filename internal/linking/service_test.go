package linking

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
	if results[0].ClientUserID == "user@example.com" || results[0].ClientUserID != ClientUserID("user@example.com") {
		t.Fatalf("client_user_id %q must be the opaque derived id", results[0].ClientUserID)
	}
}

func TestClientUserIDIsStableAndOpaque(t *testing.T) {
	a, b := ClientUserID("alice@example.com"), ClientUserID("alice@example.com")
	if a != b || a == ClientUserID("bob@example.com") || len(a) != 36 {
		t.Fatalf("ClientUserID not stable/distinct: %s %s", a, b)
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
