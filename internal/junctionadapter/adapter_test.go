package junctionadapter_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/handlers"
	"github.com/linkbff/linkbff/internal/junction"
	"github.com/linkbff/linkbff/internal/junctionadapter"
	"github.com/linkbff/linkbff/internal/linking"
)

// call runs one operation of the port against a Junction that answers
// every request with status and a FastAPI-style body mentioning provider.
type call func(ctx context.Context, a *junctionadapter.Adapter) error

var operations = map[string]call{
	"create user": func(ctx context.Context, a *junctionadapter.Adapter) error {
		_, err := a.CreateUser(ctx, "c-1")
		return err
	},
	"delete user": func(ctx context.Context, a *junctionadapter.Adapter) error {
		return a.DeleteUser(ctx, "u-1")
	},
	"link token": func(ctx context.Context, a *junctionadapter.Adapter) error {
		_, err := a.LinkToken(ctx, linking.LinkTokenRequest{JunctionUserID: "u-1", RedirectURL: "https://bff.example.com/cb"})
		return err
	},
	"link token for a provider": func(ctx context.Context, a *junctionadapter.Adapter) error {
		_, err := a.LinkToken(ctx, linking.LinkTokenRequest{JunctionUserID: "u-1", Provider: "oura", RedirectURL: "https://bff.example.com/cb"})
		return err
	},
	"oauth link": func(ctx context.Context, a *junctionadapter.Adapter) error {
		_, err := a.OAuthLink(ctx, "lt", "oura")
		return err
	},
	"connections": func(ctx context.Context, a *junctionadapter.Adapter) error {
		_, err := a.Connections(ctx, "u-1")
		return err
	},
	"disconnect": func(ctx context.Context, a *junctionadapter.Adapter) error {
		return a.Disconnect(ctx, "u-1", "oura")
	},
	"providers": func(ctx context.Context, a *junctionadapter.Adapter) error {
		_, err := a.Providers(ctx)
		return err
	},
	"sign-in token": func(ctx context.Context, a *junctionadapter.Adapter) error {
		_, err := a.SignInToken(ctx, "u-1")
		return err
	},
}

// want is what the app gets: the HTTP status of linkbff's answer, or 0
// where the domain handles the condition itself (noted per case).
type want struct {
	status int
	code   linking.ErrorCode
	// cause is the domain condition the error must carry, if any.
	cause error
}

var (
	upstreamError = want{502, linking.EUpstream, nil}
	unavailable   = want{503, linking.EUpstreamUnavailable, nil}
	// userGone is ENotFound wrapping ErrUnknownJunctionUser: the domain
	// re-creates the user or treats it as "nothing connected".
	userGone = want{404, linking.ENotFound, linking.ErrUnknownJunctionUser}
	// notConnected is ENotFound wrapping ErrProviderNotConnected.
	notConnected = want{404, linking.ENotFound, linking.ErrProviderNotConnected}
	badProvider  = want{400, linking.EInvalid, nil}
)

// table pins, for every Junction status, what each operation becomes.
// Rows list the default first and then the operations that differ.
var table = []struct {
	junctionStatus int
	def            want
	per            map[string]want
}{
	{400, upstreamError, map[string]want{"link token for a provider": badProvider, "oauth link": badProvider}},
	{401, upstreamError, nil},
	{403, upstreamError, nil},
	{404, upstreamError, map[string]want{
		"delete user": userGone, "link token": userGone, "link token for a provider": userGone,
		"connections": userGone, "sign-in token": userGone, "disconnect": notConnected, "oauth link": badProvider,
	}},
	{405, upstreamError, nil},
	{408, unavailable, nil},
	{409, upstreamError, nil},
	{410, upstreamError, nil},
	{413, upstreamError, nil},
	{422, upstreamError, map[string]want{"link token for a provider": badProvider, "oauth link": badProvider, "disconnect": notConnected}},
	{429, unavailable, nil},
	{500, unavailable, nil},
	{502, unavailable, nil},
	{503, unavailable, nil},
	{504, unavailable, nil},
}

func newAdapter(t *testing.T, h http.HandlerFunc) *junctionadapter.Adapter {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := junction.New(junction.Config{BaseURL: srv.URL, APIKey: "sk_us_test", MaxRetries: -1, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return junctionadapter.New(c)
}

func TestEveryJunctionStatusOfEveryOperation(t *testing.T) {
	for _, row := range table {
		a := newAdapter(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(row.junctionStatus)
			fmt.Fprint(w, `{"detail":"Provider oura is not available through Link for this team."}`)
		})
		for name, op := range operations {
			expect := row.def
			if w, ok := row.per[name]; ok {
				expect = w
			}
			err := op(t.Context(), a)
			code := linking.ErrorCodeOf(err)
			if code != expect.code || handlers.HTTPStatus(code) != expect.status {
				t.Errorf("Junction %d on %s → %s (HTTP %d), want %s (HTTP %d)", row.junctionStatus, name, code, handlers.HTTPStatus(code), expect.code, expect.status)
				continue
			}
			e, _ := linking.AsError(err)
			if expect.code == linking.EUpstreamUnavailable && e.RetryAfter != 7*time.Second {
				t.Errorf("Junction %d on %s: RetryAfter %s, want Junction's 7s", row.junctionStatus, name, e.RetryAfter)
			}
			if expect.cause != nil && !errors.Is(err, expect.cause) {
				t.Errorf("Junction %d on %s does not say %q: %v", row.junctionStatus, name, expect.cause, err)
			}
			if expect == badProvider && e.Field != "provider" {
				t.Errorf("Junction %d on %s names field %q, want provider", row.junctionStatus, name, e.Field)
			}
		}
	}
}

// A 400 that is not about a provider stays linkbff's fault even when the
// request named one.
func TestLinkToken400NotAboutTheProviderIsUpstreamError(t *testing.T) {
	a := newAdapter(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"detail":"redirect_url must be an absolute URL."}`)
	})
	_, err := a.LinkToken(t.Context(), linking.LinkTokenRequest{JunctionUserID: "u-1", Provider: "oura", RedirectURL: "x"})
	if linking.ErrorCodeOf(err) != linking.EUpstream {
		t.Fatalf("got %v, want upstream_error", err)
	}
}

// A 200 whose body is not JSON is Junction's garble, not linkbff's
// mistake: 502 saying so, for every operation that reads an answer.
func TestGarbledSuccessIsUpstreamErrorSayingSo(t *testing.T) {
	a := newAdapter(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"link_token": "unterminated`)
	})
	for name, op := range operations {
		err := op(t.Context(), a)
		if name == "delete user" || name == "disconnect" {
			continue // they read no answer
		}
		e, ok := linking.AsError(err)
		if !ok || e.Code != linking.EUpstream || !strings.Contains(e.Message, "could not be read") {
			t.Errorf("garbled 200 on %s → %v, want upstream_error saying the answer could not be read", name, err)
		}
	}
}

func TestTransportFailuresAreUpstreamUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	url := srv.URL
	srv.Close() // nothing listens there any more
	c, err := junction.New(junction.Config{BaseURL: url, APIKey: "sk_us_test", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	for name, op := range operations {
		if code := linking.ErrorCodeOf(op(t.Context(), junctionadapter.New(c))); code != linking.EUpstreamUnavailable {
			t.Errorf("%s with Junction unreachable → %s, want upstream_unavailable", name, code)
		}
	}
}

func TestCancellationPassesThrough(t *testing.T) {
	a := newAdapter(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := operations["providers"](ctx, a); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call → %v, want context.Canceled", err)
	}
}

func TestMalformedWebhookIsInvalid(t *testing.T) {
	a := newAdapter(t, func(http.ResponseWriter, *http.Request) {})
	for _, body := range []string{``, `[]`, `{"data":{}}`, `{"event_type":"provider.connection.created","data":{}}`} {
		if _, err := a.ParseWebhookEvent([]byte(body)); linking.ErrorCodeOf(err) != linking.EInvalid {
			t.Errorf("webhook %q → %v, want invalid_request", body, err)
		}
	}
	ev, err := a.ParseWebhookEvent([]byte(`{"event_type":"provider.connection.error","user_id":"u-1","data":{"provider":"oura","error_type":"token_refresh_failed","message":"m"}}`))
	if err != nil || ev.JunctionUserID != "u-1" || ev.Provider != "oura" || ev.ErrorType != "token_refresh_failed" || ev.Message != "m" {
		t.Fatalf("error event → %+v, %v", ev, err)
	}
}
