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

	"github.com/linkbff/linkbff/internal/testkit"
)

func TestLinkTokenShape(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Env = "production"; c.Region = "eu" })
	u := h.createUser("link-shape")
	r := h.team("POST", "/v2/link/token", map[string]any{"user_id": u.UserID, "provider": nil, "redirect_url": "https://app.example/cb"})
	expectStatus(t, r, http.StatusOK)
	assertResponseMatchesSpec(t, "POST", "/v2/link/token", 200, r.Body)
	var lt wireLinkToken
	r.JSON(t, &lt)
	want := h.Base + "/link/?token=" + url.QueryEscape(lt.LinkToken) + "&env=production&region=eu"
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
				assertResponseMatchesSpec(t, "POST", "/v2/link/token", 422, r.Body)
				return
			}
			var body struct{ Detail string }
			r.JSON(t, &body)
			if body.Detail == "" {
				t.Fatalf("want a detail string, got %s", r.Body)
			}
		})
	}
}

func TestOAuthProviderEndpoint(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.TokenTTL = 10 * time.Minute })
	u := h.createUser("oauth")
	lt := h.linkToken(map[string]any{"user_id": u.UserID})

	r := h.Do("GET", "/v2/link/provider/oauth/oura", nil, "x-vital-link-token", lt.LinkToken)
	expectStatus(t, r, http.StatusOK)
	assertResponseMatchesSpec(t, "GET", "/v2/link/provider/oauth/{oauth_provider}", 200, r.Body)
	var src wireSource
	r.JSON(t, &src)
	if want := h.Base + "/link/oauth/oura?token=" + url.QueryEscape(lt.LinkToken); src.OAuthURL == nil || *src.OAuthURL != want {
		t.Fatalf("oauth_url = %v, want %s", src.OAuthURL, want)
	}
	if src.Slug != "oura" || src.AuthType == nil || *src.AuthType != "oauth" {
		t.Fatalf("unexpected source %s", r.Body)
	}
	// The API key alone is not a link token.
	expectStatus(t, h.Do("GET", "/v2/link/provider/oauth/oura", nil, "x-vital-api-key", testAPIKey), http.StatusBadRequest)

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
			r := h.Do("GET", "/v2/link/provider/oauth/"+tt.provider, nil, headers...)
			expectStatus(t, r, tt.wantStatus)
			var body struct{ Detail string }
			r.JSON(t, &body)
			if body.Detail == "" {
				t.Fatalf("want a detail, got %s", r.Body)
			}
		})
	}

	clock.Advance(10 * time.Minute)
	expectStatus(t, h.Do("GET", "/v2/link/provider/oauth/oura", nil, "x-vital-link-token", lt.LinkToken), http.StatusUnauthorized)
}

func TestLinkProvidersHonoursFilter(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("link-providers")
	lt := h.linkToken(map[string]any{"user_id": u.UserID, "filter_on_providers": []string{"oura", "freestyle_libre"}})
	r := h.Do("GET", "/v2/link/providers", nil, "x-vital-link-token", lt.LinkToken)
	expectStatus(t, r, http.StatusOK)
	assertResponseMatchesSpec(t, "GET", "/v2/link/providers", 200, r.Body)
	var got []wireSourceLink
	r.JSON(t, &got)
	if len(got) != 2 || got[0].Slug != "oura" || got[0].OAuthURL == nil || got[1].Slug != "freestyle_libre" || got[1].OAuthURL != nil {
		t.Fatalf("providers = %s", r.Body)
	}
	expectStatus(t, h.Do("GET", "/v2/link/providers", nil), http.StatusBadRequest)
	expectStatus(t, h.Do("GET", "/v2/link/providers", nil, "x-vital-link-token", "nope"), http.StatusUnauthorized)
}

func TestTeamProvidersCatalogueAndLogos(t *testing.T) {
	h := newHarness(t, nil)
	r := h.team("GET", "/v2/providers", nil)
	expectStatus(t, r, http.StatusOK)
	assertResponseMatchesSpec(t, "GET", "/v2/providers", 200, r.Body)
	var got []wireProviderDetailed
	r.JSON(t, &got)
	authTypes := map[string]string{}
	for _, p := range got {
		authTypes[p.Slug] = *p.AuthType
		if p.Logo == nil || *p.Logo != h.Base+"/logos/"+p.Slug+".svg" {
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

	logo := h.Do("GET", h.Base+"/logos/oura.svg", nil)
	expectStatus(t, logo, http.StatusOK)
	if ct := logo.Header.Get("Content-Type"); ct != "image/svg+xml" || !strings.HasPrefix(string(logo.Body), "<svg") {
		t.Fatalf("logo: %s %s", ct, logo.Body)
	}
	expectStatus(t, h.Do("GET", h.Base+"/logos/nope.svg", nil), http.StatusNotFound)
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
	h := &harness{Client: testkit.NewClient(t, srv.URL), t: t, emu: emu}
	u := h.createUser("root")
	lt := h.linkToken(map[string]any{"user_id": u.UserID})
	if !strings.HasPrefix(lt.LinkWebURL, srv.URL+"/link/?token=") || !strings.HasSuffix(lt.LinkWebURL, "&env=sandbox&region=us") {
		t.Fatalf("link_web_url = %s", lt.LinkWebURL)
	}
	expectStatus(t, h.Do("GET", lt.LinkWebURL, nil), http.StatusOK)
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
