package emulator

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestLinkTokenShape(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Env = "production"; c.Region = "eu" })
	u := h.createUser("link-shape")
	r := h.team("POST", "/v2/link/token", map[string]any{"user_id": u.UserID, "provider": nil, "redirect_url": "https://app.example/cb"})
	expectStatus(t, r, http.StatusOK)
	assertResponseMatchesSpec(t, "POST", "/v2/link/token", 200, r.body)
	var lt wireLinkToken
	r.decode(t, &lt)
	want := h.base + "/link/?token=" + url.QueryEscape(lt.LinkToken) + "&env=production&region=eu"
	if lt.LinkToken == "" || lt.LinkWebURL != want {
		t.Fatalf("link_web_url = %q, want %q", lt.LinkWebURL, want)
	}
	other := h.linkToken(map[string]any{"user_id": u.UserID})
	if other.LinkToken == lt.LinkToken {
		t.Fatal("two link tokens are equal")
	}
}

func TestLinkTokenErrors(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("link-errors")
	tests := []struct {
		name       string
		body       any
		wantStatus int
	}{
		{"unknown user", map[string]any{"user_id": uuid.NewString()}, http.StatusNotFound},
		{"provider the team cannot offer", map[string]any{"user_id": u.UserID, "provider": "zwift"}, http.StatusBadRequest},
		{"SDK-only provider", map[string]any{"user_id": u.UserID, "provider": "apple_health_kit"}, http.StatusBadRequest},
		{"filter with a provider the team cannot offer", map[string]any{"user_id": u.UserID, "filter_on_providers": []string{"oura", "zwift"}}, http.StatusBadRequest},
		{"relative redirect_url", map[string]any{"user_id": u.UserID, "redirect_url": "/callback"}, http.StatusBadRequest},
		{"provider not in the spec enum", map[string]any{"user_id": u.UserID, "provider": "nope"}, http.StatusUnprocessableEntity},
		{"missing user_id", map[string]any{}, http.StatusUnprocessableEntity},
		{"user_id not a uuid", map[string]any{"user_id": "abc"}, http.StatusUnprocessableEntity},
		{"empty filter", map[string]any{"user_id": u.UserID, "filter_on_providers": []string{}}, http.StatusUnprocessableEntity},
		{"on_close not redirect", map[string]any{"user_id": u.UserID, "on_close": "close"}, http.StatusUnprocessableEntity},
		{"malformed JSON", `{"user_id"`, http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.team("POST", "/v2/link/token", tt.body)
			expectStatus(t, r, tt.wantStatus)
			if tt.wantStatus == http.StatusUnprocessableEntity {
				assertResponseMatchesSpec(t, "POST", "/v2/link/token", 422, r.body)
				return
			}
			var body struct{ Detail string }
			r.decode(t, &body)
			if body.Detail == "" {
				t.Fatalf("want a detail string, got %s", r.body)
			}
		})
	}
}

func TestOAuthProviderEndpoint(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.TokenTTL = 10 * time.Minute })
	u := h.createUser("oauth")
	lt := h.linkToken(map[string]any{"user_id": u.UserID})

	r := h.do("GET", "/v2/link/provider/oauth/oura", nil, "x-vital-link-token", lt.LinkToken)
	expectStatus(t, r, http.StatusOK)
	assertResponseMatchesSpec(t, "GET", "/v2/link/provider/oauth/{oauth_provider}", 200, r.body)
	var src wireSource
	r.decode(t, &src)
	if want := h.base + "/link/oauth/oura?token=" + url.QueryEscape(lt.LinkToken); src.OAuthURL == nil || *src.OAuthURL != want {
		t.Fatalf("oauth_url = %v, want %s", src.OAuthURL, want)
	}
	if src.Slug != "oura" || src.AuthType == nil || *src.AuthType != "oauth" {
		t.Fatalf("unexpected source %s", r.body)
	}
	// The API key alone is not a link token.
	expectStatus(t, h.do("GET", "/v2/link/provider/oauth/oura", nil, "x-vital-api-key", testAPIKey), http.StatusBadRequest)

	tests := []struct {
		name       string
		provider   string
		token      string
		wantStatus int
	}{
		{"missing token", "oura", "", http.StatusBadRequest},
		{"unknown token", "oura", "garbage", http.StatusUnauthorized},
		{"password provider", "freestyle_libre", lt.LinkToken, http.StatusBadRequest},
		{"unknown provider", "nope", lt.LinkToken, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.token != "" {
				headers = []string{"x-vital-link-token", tt.token}
			}
			r := h.do("GET", "/v2/link/provider/oauth/"+tt.provider, nil, headers...)
			expectStatus(t, r, tt.wantStatus)
			var body struct{ Detail string }
			r.decode(t, &body)
			if body.Detail == "" {
				t.Fatalf("want a detail, got %s", r.body)
			}
		})
	}

	clock.Advance(10 * time.Minute)
	expectStatus(t, h.do("GET", "/v2/link/provider/oauth/oura", nil, "x-vital-link-token", lt.LinkToken), http.StatusUnauthorized)
}

func TestLinkProvidersHonoursFilter(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("link-providers")
	lt := h.linkToken(map[string]any{"user_id": u.UserID, "filter_on_providers": []string{"oura", "freestyle_libre"}})
	r := h.do("GET", "/v2/link/providers", nil, "x-vital-link-token", lt.LinkToken)
	expectStatus(t, r, http.StatusOK)
	assertResponseMatchesSpec(t, "GET", "/v2/link/providers", 200, r.body)
	var got []wireSourceLink
	r.decode(t, &got)
	if len(got) != 2 || got[0].Slug != "oura" || got[0].OAuthURL == nil || got[1].Slug != "freestyle_libre" || got[1].OAuthURL != nil {
		t.Fatalf("providers = %s", r.body)
	}
	expectStatus(t, h.do("GET", "/v2/link/providers", nil), http.StatusBadRequest)
	expectStatus(t, h.do("GET", "/v2/link/providers", nil, "x-vital-link-token", "nope"), http.StatusUnauthorized)
}

func TestTeamProvidersCatalogueAndLogos(t *testing.T) {
	h := newHarness(t, nil)
	r := h.team("GET", "/v2/providers", nil)
	expectStatus(t, r, http.StatusOK)
	assertResponseMatchesSpec(t, "GET", "/v2/providers", 200, r.body)
	var got []wireProviderDetailed
	r.decode(t, &got)
	authTypes := map[string]string{}
	for _, p := range got {
		authTypes[p.Slug] = *p.AuthType
		if p.Logo == nil || *p.Logo != h.base+"/logos/"+p.Slug+".svg" {
			t.Errorf("%s logo = %v", p.Slug, p.Logo)
		}
		if !isKnownProviderSlug(p.Slug) {
			t.Errorf("%s is not in the spec's Providers enum", p.Slug)
		}
	}
	want := map[string]string{
		"oura": "oauth", "fitbit": "oauth", "garmin": "oauth", "whoop_v2": "oauth", "withings": "oauth",
		"polar": "oauth", "strava": "oauth", "dexcom_v3": "oauth", "freestyle_libre": "password", "google_fit": "oauth",
	}
	for slug, authType := range want {
		if authTypes[slug] != authType {
			t.Errorf("%s auth_type = %q, want %q", slug, authTypes[slug], authType)
		}
	}

	logo := h.do("GET", h.base+"/logos/oura.svg", nil)
	expectStatus(t, logo, http.StatusOK)
	if ct := logo.header.Get("Content-Type"); ct != "image/svg+xml" || !strings.HasPrefix(string(logo.body), "<svg") {
		t.Fatalf("logo: %s %s", ct, logo.body)
	}
	expectStatus(t, h.do("GET", h.base+"/logos/nope.svg", nil), http.StatusNotFound)
}

// Mounted at the root without PublicURL, URLs come from the request's Host.
func TestPublicURLDerivedFromHostAtRoot(t *testing.T) {
	emu, err := New(Config{APIKey: testAPIKey})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	srv := httptest.NewServer(emu.Handler())
	defer srv.Close()
	h := &harness{t: t, emu: emu, srv: srv, base: srv.URL, client: srv.Client()}
	h.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	u := h.createUser("root")
	lt := h.linkToken(map[string]any{"user_id": u.UserID})
	if !strings.HasPrefix(lt.LinkWebURL, srv.URL+"/link/?token=") || !strings.HasSuffix(lt.LinkWebURL, "&env=sandbox&region=us") {
		t.Fatalf("link_web_url = %s", lt.LinkWebURL)
	}
	expectStatus(t, h.do("GET", lt.LinkWebURL, nil), http.StatusOK)
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no API key", Config{}},
		{"relative public URL", Config{APIKey: "k", PublicURL: "/_junction"}},
		{"bad team id", Config{APIKey: "k", TeamID: "team"}},
		{"bad env", Config{APIKey: "k", Env: "staging"}},
		{"bad region", Config{APIKey: "k", Region: "ap"}},
		{"webhook without secret", Config{APIKey: "k", WebhookURL: "http://127.0.0.1:1/hook"}},
		{"webhook secret not base64", Config{APIKey: "k", WebhookURL: "http://127.0.0.1:1/hook", WebhookSecret: "whsec_***"}},
		{"webhook URL not absolute", Config{APIKey: "k", WebhookURL: "hook", WebhookSecret: NewWebhookSecret()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if emu, err := New(tt.cfg); err == nil {
				emu.Close()
				t.Fatal("New accepted a bad config")
			}
		})
	}
	if s := NewWebhookSecret(); !strings.HasPrefix(s, "whsec_") || slices.Contains([]string{"", "whsec_"}, s) {
		t.Fatalf("NewWebhookSecret() = %q", s)
	}
}
