package linking

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// fakeJunction is Junction as a struct of functions; a nil function fails
// the test if called.
type fakeJunction struct {
	t           *testing.T
	createUser  func(ctx context.Context, clientUserID string) (JunctionUser, error)
	deleteUser  func(ctx context.Context, userID string) error
	linkToken   func(ctx context.Context, req LinkTokenRequest) (LinkToken, error)
	oauthLink   func(ctx context.Context, linkToken, provider string) (OAuthLink, error)
	connections func(ctx context.Context, userID string) ([]Connection, error)
	disconnect  func(ctx context.Context, userID, provider string) error
	providers   func(ctx context.Context) ([]Provider, error)
	signInToken func(ctx context.Context, userID string) (SignInToken, error)
	parseEvent  func(body []byte) (WebhookEvent, error)
}

func (f *fakeJunction) unexpected(name string) {
	f.t.Helper()
	f.t.Fatalf("unexpected Junction call %s", name)
}

func (f *fakeJunction) CreateUser(ctx context.Context, id string) (JunctionUser, error) {
	if f.createUser == nil {
		f.unexpected("CreateUser")
	}
	return f.createUser(ctx, id)
}

func (f *fakeJunction) DeleteUser(ctx context.Context, id string) error {
	if f.deleteUser == nil {
		f.unexpected("DeleteUser")
	}
	return f.deleteUser(ctx, id)
}

func (f *fakeJunction) LinkToken(ctx context.Context, req LinkTokenRequest) (LinkToken, error) {
	if f.linkToken == nil {
		f.unexpected("LinkToken")
	}
	return f.linkToken(ctx, req)
}

func (f *fakeJunction) OAuthLink(ctx context.Context, token, provider string) (OAuthLink, error) {
	if f.oauthLink == nil {
		f.unexpected("OAuthLink")
	}
	return f.oauthLink(ctx, token, provider)
}

func (f *fakeJunction) Connections(ctx context.Context, id string) ([]Connection, error) {
	if f.connections == nil {
		f.unexpected("Connections")
	}
	return f.connections(ctx, id)
}

func (f *fakeJunction) Disconnect(ctx context.Context, id, provider string) error {
	if f.disconnect == nil {
		f.unexpected("Disconnect")
	}
	return f.disconnect(ctx, id, provider)
}

func (f *fakeJunction) Providers(ctx context.Context) ([]Provider, error) {
	if f.providers == nil {
		f.unexpected("Providers")
	}
	return f.providers(ctx)
}

func (f *fakeJunction) SignInToken(ctx context.Context, id string) (SignInToken, error) {
	if f.signInToken == nil {
		f.unexpected("SignInToken")
	}
	return f.signInToken(ctx, id)
}

func (f *fakeJunction) ParseWebhookEvent(body []byte) (WebhookEvent, error) {
	if f.parseEvent == nil {
		f.unexpected("ParseWebhookEvent")
	}
	return f.parseEvent(body)
}

// memStore is the Store contract in memory, enough for the domain's tests;
// the real stores pass the shared contract suite in internal/store/storetest.
type memStore struct {
	mu          sync.Mutex
	mappings    map[string]UserMapping // by app user
	sessions    map[string]LinkSession
	events      map[string]bool
	connections map[string]map[string]ReportedConnection // junction user → provider
	outbox      []Event                                  // stored events, in Seq order
	seq         int64                                    // the last Seq given
}

func newMemStore() *memStore {
	return &memStore{mappings: map[string]UserMapping{}, sessions: map[string]LinkSession{}, events: map[string]bool{}, connections: map[string]map[string]ReportedConnection{}}
}

func (m *memStore) UserMappingByAppUser(_ context.Context, id string) (UserMapping, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if u, ok := m.mappings[id]; ok {
		return u, nil
	}
	return UserMapping{}, Errorf(ENotFound, "user mapping not found")
}

func (m *memStore) UserMappingByJunctionUser(_ context.Context, id string) (UserMapping, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range m.mappings {
		if u.JunctionUserID == id {
			return u, nil
		}
	}
	return UserMapping{}, Errorf(ENotFound, "user mapping not found")
}

func (m *memStore) SaveUserMapping(_ context.Context, u UserMapping) (UserMapping, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.mappings[u.AppUserID]; ok {
		return old, nil
	}
	m.mappings[u.AppUserID] = u
	return u, nil
}

func (m *memStore) DeleteAppUser(_ context.Context, id string, events ...*Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.connections, m.mappings[id].JunctionUserID)
	delete(m.mappings, id)
	kept := m.outbox[:0]
	for _, e := range m.outbox {
		if e.AppUserID != id || e.Delivery.State == DeliveryPending {
			kept = append(kept, e)
		}
	}
	m.outbox = kept
	m.store(events)
	return nil
}

// store appends events to the outbox, giving each the next Seq; the
// caller holds m.mu.
func (m *memStore) store(events []*Event) {
	for _, e := range events {
		m.seq++
		e.Seq = m.seq
		m.outbox = append(m.outbox, *e)
	}
}

// stored is a copy of the outbox.
func (m *memStore) stored() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Event(nil), m.outbox...)
}

func (m *memStore) ForgetJunctionUser(_ context.Context, u UserMapping) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mappings[u.AppUserID].JunctionUserID == u.JunctionUserID {
		delete(m.mappings, u.AppUserID)
		delete(m.connections, u.JunctionUserID)
	}
	return nil
}

func (m *memStore) CreateLinkSession(_ context.Context, s LinkSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[s.ID] = s
	return nil
}

func (m *memStore) LinkSession(_ context.Context, id string) (LinkSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.sessions[id]; ok {
		return s, nil
	}
	return LinkSession{}, Errorf(ENotFound, "link session not found")
}

func (m *memStore) CompleteLinkSession(_ context.Context, id string, o Outcome, at time.Time, events ...*Event) (LinkSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return LinkSession{}, Errorf(ENotFound, "link session not found")
	}
	if s.Outcome == nil {
		s.Outcome, s.CompletedAt = &o, &at
		m.sessions[id] = s
		m.store(events)
	}
	return s, nil
}

func (m *memStore) LatestLinkSession(_ context.Context, junctionUserID, provider string, since time.Time) (LinkSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var latest *LinkSession
	for _, s := range m.sessions {
		if s.JunctionUserID == junctionUserID && (s.Provider == provider || s.Provider == "") && !s.CreatedAt.Before(since) &&
			(latest == nil || s.CreatedAt.After(latest.CreatedAt)) {
			latest = &s
		}
	}
	if latest == nil {
		return LinkSession{}, Errorf(ENotFound, "link session not found")
	}
	return *latest, nil
}

func (m *memStore) ApplyConnectionEvent(_ context.Context, eventID string, c ReportedConnection, events ...*Event) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events[eventID] {
		return false, nil
	}
	m.events[eventID] = true
	if m.connections[c.JunctionUserID] == nil {
		m.connections[c.JunctionUserID] = map[string]ReportedConnection{}
	}
	m.connections[c.JunctionUserID][c.Provider] = c
	m.store(events)
	return true, nil
}

func (m *memStore) RecordWebhookEvent(_ context.Context, eventID string, events ...*Event) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events[eventID] {
		return false, nil
	}
	m.events[eventID] = true
	m.store(events)
	return true, nil
}

func (m *memStore) ReportedConnections(_ context.Context, id string) ([]ReportedConnection, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []ReportedConnection{}
	for _, c := range m.connections[id] {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out, nil
}

func (m *memStore) DeleteReportedConnection(_ context.Context, id, provider string, events ...*Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.connections[id], provider)
	m.store(events)
	return nil
}

func (m *memStore) Prune(context.Context, time.Time, time.Time) error { return nil }

// clock is a settable time source.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newTestService(t *testing.T, fj *fakeJunction, c *clock, mutate ...func(*Config)) *Service {
	t.Helper()
	fj.t = t
	cfg := Config{Junction: fj, Store: newMemStore(), PublicURL: "https://bff.example.com", Now: c.Now, Logger: zerolog.Nop()}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
