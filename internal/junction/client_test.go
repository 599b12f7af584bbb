package junction

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"https ok", Config{BaseURL: "https://api.sandbox.us.junction.com", APIKey: "k"}, false},
		{"http with port and path ok", Config{BaseURL: "http://127.0.0.1:8080/junction/", APIKey: "k"}, false},
		{"empty base", Config{APIKey: "k"}, true},
		{"relative base", Config{BaseURL: "/v2", APIKey: "k"}, true},
		{"ftp scheme", Config{BaseURL: "ftp://example.com", APIKey: "k"}, true},
		{"no host", Config{BaseURL: "https://", APIKey: "k"}, true},
		{"query in base", Config{BaseURL: "https://example.com?x=1", APIKey: "k"}, true},
		{"userinfo in base", Config{BaseURL: "https://u:p@example.com", APIKey: "k"}, true},
		{"empty key", Config{BaseURL: "https://example.com"}, true},
		{"key with newline", Config{BaseURL: "https://example.com", APIKey: "sk_us_SECRET\n"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New() err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && tt.cfg.APIKey != "" && strings.Contains(err.Error(), tt.cfg.APIKey) {
				t.Fatalf("error leaks the API key: %v", err)
			}
			if err == nil && strings.HasSuffix(c.baseURL, "/") {
				t.Fatalf("baseURL %q keeps a trailing slash", c.baseURL)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Config{BaseURL: "https://example.com", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if c.maxRetries != defaultMaxRetries || c.baseBackoff != defaultBaseBackoff || c.timeout != defaultTimeout {
		t.Fatalf("defaults = %d/%s/%s", c.maxRetries, c.baseBackoff, c.timeout)
	}
	c, err = New(Config{BaseURL: "https://example.com", APIKey: "k", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if c.maxRetries != 0 {
		t.Fatalf("negative MaxRetries should disable retries, got %d", c.maxRetries)
	}
}

func TestBaseURLFor(t *testing.T) {
	tests := []struct {
		env, region, want string
		wantErr           string
	}{
		{"sandbox", "us", "https://api.sandbox.us.junction.com", ""},
		{"sandbox", "eu", "https://api.sandbox.eu.junction.com", ""},
		{"production", "us", "https://api.us.junction.com", ""},
		{"production", "eu", "https://api.eu.junction.com", ""},
		{"prod", "us", "", "sandbox, production"},
		{"", "us", "", "sandbox, production"},
		{"sandbox", "ap", "", "us, eu"},
		{"Sandbox", "US", "", "sandbox, production"},
	}
	for _, tt := range tests {
		got, err := BaseURLFor(tt.env, tt.region)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("BaseURLFor(%q, %q) err = %v, want one naming %q", tt.env, tt.region, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("BaseURLFor(%q, %q) = %q, %v; want %q", tt.env, tt.region, got, err, tt.want)
		}
	}
}

func TestNewHTTPClientTuning(t *testing.T) {
	tr, ok := NewHTTPClient().Transport.(*http.Transport)
	if !ok {
		t.Fatal("transport is not *http.Transport")
	}
	if tr.MaxIdleConnsPerHost != 256 || tr.MaxIdleConns < tr.MaxIdleConnsPerHost || tr.IdleConnTimeout.Seconds() != 90 || !tr.ForceAttemptHTTP2 ||
		tr.TLSHandshakeTimeout == 0 || tr.ResponseHeaderTimeout == 0 || tr.DialContext == nil {
		t.Fatalf("transport not tuned: %+v", tr)
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	var leaked bool
	other := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get(headerAPIKey) != ""
		writeJSON(w, 200, `{"user_id":"u"}`)
	})
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/v2/user/resolve/u", http.StatusTemporaryRedirect)
	})
	c, _ := newTestClient(t, f)
	_, err := c.ResolveUser(context.Background(), "u")
	if err == nil {
		t.Fatal("want an error for a redirect")
	}
	if len(other.recorded()) != 0 || leaked {
		t.Fatal("redirect was followed: the API key may travel to another host")
	}
	if je := asJunctionError(t, err); je.StatusCode != http.StatusTemporaryRedirect || je.Retryable() {
		t.Fatalf("junction error = %+v, want a non-retryable 307", je)
	}
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"user_id":"u1","team_id":"t","client_user_id":"a/b c?d","created_on":"2026-01-02T03:04:05+00:00"}`)
	})
	c, _ := newTestClient(t, f)
	if _, err := c.ResolveUser(context.Background(), "a/b c?d"); err != nil {
		t.Fatal(err)
	}
	got := f.recorded()[0]
	if got.RawPath != "/v2/user/resolve/a%2Fb%20c%3Fd" || got.Query != "" {
		t.Fatalf("path = %q query = %q", got.RawPath, got.Query)
	}
}

func TestEmptyOrDotSegmentsAreRefusedLocally(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{}`) })
	c, _ := newTestClient(t, f)
	ctx := context.Background()
	tests := []struct {
		name     string
		call     func() error
		mentions string // what the message must name, so the caller can tell
	}{
		{"deregister empty provider", func() error { return c.DeregisterProvider(ctx, "u1", "") }, "provider"},
		{"deregister dotdot", func() error { return c.DeregisterProvider(ctx, "u1", "..") }, "provider"},
		{"deregister dot user", func() error { return c.DeregisterProvider(ctx, ".", "oura") }, "user_id"},
		{"delete empty user", func() error { return c.DeleteUser(ctx, " ") }, "user_id"},
		{"resolve dot user", func() error { _, err := c.ResolveUser(ctx, "."); return err }, "client_user_id"},
		{"create empty", func() error { _, err := c.CreateUser(ctx, ""); return err }, "client_user_id"},
		{"link token no user", func() error { _, err := c.LinkToken(ctx, LinkTokenRequest{}); return err }, "user_id"},
		{"link token bad on_close", func() error {
			_, err := c.LinkToken(ctx, LinkTokenRequest{UserID: "u1", OnClose: "close"})
			return err
		}, "on_close"},
		{"link token bad on_error", func() error {
			_, err := c.LinkToken(ctx, LinkTokenRequest{UserID: "u1", OnError: "ignore"})
			return err
		}, "on_error"},
		{"oauth no token", func() error { _, err := c.OAuthProvider(ctx, "", "oura"); return err }, "link_token"},
		{"oauth dotdot provider", func() error { _, err := c.OAuthProvider(ctx, "lt", ".."); return err }, "provider"},
		{"sign in no user", func() error { _, err := c.SignInToken(ctx, ""); return err }, "user_id"},
		{"providers no user", func() error { _, err := c.UserProviders(ctx, ""); return err }, "user_id"},
	}
	for _, tt := range tests {
		err := tt.call()
		if !isArgumentError(err) {
			t.Errorf("%s: err = %v (%T), want a plain junction argument error", tt.name, err, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.mentions) {
			t.Errorf("%s: err %q does not name %s", tt.name, err, tt.mentions)
		}
	}
	if n := len(f.recorded()); n != 0 {
		t.Fatalf("%d requests reached Junction", n)
	}
}

// isArgumentError reports whether err is a refusal made before any request:
// a plain "junction: ..." error, not a *Error describing Junction's answer.
func isArgumentError(err error) bool {
	var je *Error
	return err != nil && !errors.As(err, &je) && strings.HasPrefix(err.Error(), "junction: ")
}
