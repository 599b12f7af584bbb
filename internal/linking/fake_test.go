package linking

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/junction"
	"github.com/linkbff/linkbff/internal/store/sqlite"
)

// fakeJunction is Junction as a struct of functions; a nil function fails
// the test if called.
type fakeJunction struct {
	t                  *testing.T
	createUser         func(ctx context.Context, clientUserID string) (junction.User, error)
	deleteUser         func(ctx context.Context, userID string) error
	linkToken          func(ctx context.Context, req junction.LinkTokenRequest) (junction.LinkToken, error)
	oauthProvider      func(ctx context.Context, linkToken, provider string) (junction.OAuthProvider, error)
	userProviders      func(ctx context.Context, userID string) ([]junction.ConnectedProvider, error)
	deregisterProvider func(ctx context.Context, userID, provider string) error
	providers          func(ctx context.Context) ([]junction.Provider, error)
	signInToken        func(ctx context.Context, userID string) (junction.SignInToken, error)
}

func (f *fakeJunction) unexpected(name string) {
	f.t.Helper()
	f.t.Fatalf("unexpected Junction call %s", name)
}

func (f *fakeJunction) CreateUser(ctx context.Context, id string) (junction.User, error) {
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

func (f *fakeJunction) LinkToken(ctx context.Context, req junction.LinkTokenRequest) (junction.LinkToken, error) {
	if f.linkToken == nil {
		f.unexpected("LinkToken")
	}
	return f.linkToken(ctx, req)
}

func (f *fakeJunction) OAuthProvider(ctx context.Context, token, provider string) (junction.OAuthProvider, error) {
	if f.oauthProvider == nil {
		f.unexpected("OAuthProvider")
	}
	return f.oauthProvider(ctx, token, provider)
}

func (f *fakeJunction) UserProviders(ctx context.Context, id string) ([]junction.ConnectedProvider, error) {
	if f.userProviders == nil {
		f.unexpected("UserProviders")
	}
	return f.userProviders(ctx, id)
}

func (f *fakeJunction) DeregisterProvider(ctx context.Context, id, provider string) error {
	if f.deregisterProvider == nil {
		f.unexpected("DeregisterProvider")
	}
	return f.deregisterProvider(ctx, id, provider)
}

func (f *fakeJunction) Providers(ctx context.Context) ([]junction.Provider, error) {
	if f.providers == nil {
		f.unexpected("Providers")
	}
	return f.providers(ctx)
}

func (f *fakeJunction) SignInToken(ctx context.Context, id string) (junction.SignInToken, error) {
	if f.signInToken == nil {
		f.unexpected("SignInToken")
	}
	return f.signInToken(ctx, id)
}

// clock is a settable time source.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newTestService(t *testing.T, fj *fakeJunction, c *clock, mutate ...func(*Config)) *Service {
	t.Helper()
	fj.t = t
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/linking.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg := Config{Junction: fj, Store: st, PublicURL: "https://bff.example.com", Now: c.Now, Logger: zerolog.Nop()}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
