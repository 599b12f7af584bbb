package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

const redirectTarget = "https://app.example/link/callback?session=abc"

func TestLinkApproveRedirectsWithSuccess(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser(uuid.NewString())
	lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget})

	list := h.do("GET", lt.LinkWebURL, nil)
	expectStatus(t, list, http.StatusOK)
	if csp := list.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	if page := string(list.body); strings.Contains(page, `src="http`) || strings.Contains(page, `href="http`) {
		t.Errorf("page loads or links an absolute URL:\n%s", page)
	}
	consent := followHref(t, lt.LinkWebURL, list.body, `data-provider="oura"`)
	if !strings.HasPrefix(consent, h.base+"/link/oauth/oura?") {
		t.Fatalf("consent URL %s is not under the mount prefix", consent)
	}
	page := h.do("GET", consent, nil)
	expectStatus(t, page, http.StatusOK)
	if !strings.Contains(string(page.body), "Connect Oura to your app") {
		t.Fatalf("consent page:\n%s", page.body)
	}
	approve := followHref(t, consent, page.body, `id="approve"`)

	done := h.do("GET", approve, nil)
	params := redirectParams(t, done, redirectTarget)
	if params.Get("state") != "success" || params.Get("session") != "abc" || params.Has("error_type") {
		t.Fatalf("redirect query = %v", params)
	}
	if !strings.HasPrefix(done.header.Get("Location"), redirectTarget+"&state=success") {
		t.Errorf("existing query not kept verbatim: %s", done.header.Get("Location"))
	}

	providers := h.team("GET", "/v2/user/providers/"+u.UserID, nil)
	expectStatus(t, providers, http.StatusOK)
	assertResponseMatchesSpec(t, "GET", "/v2/user/providers/{user_id}", 200, providers.body)
	var got wireConnectedProviders
	providers.decode(t, &got)
	if len(got.Providers) != 1 || got.Providers[0].Slug != "oura" || got.Providers[0].Status != "connected" ||
		got.Providers[0].ExternalUserID == nil || !strings.HasPrefix(*got.Providers[0].ExternalUserID, "emu-oura-") {
		t.Fatalf("providers = %s", providers.body)
	}
	user := h.team("GET", "/v2/user/"+u.UserID, nil)
	assertResponseMatchesSpec(t, "GET", "/v2/user/{user_id}", 200, user.body)
	var withSources wireUser
	user.decode(t, &withSources)
	if len(withSources.ConnectedSources) != 1 || withSources.ConnectedSources[0].Provider.Slug != "oura" {
		t.Fatalf("connected_sources = %s", user.body)
	}

	// Single use: the same button again, and the start page, say consumed.
	again := redirectParams(t, h.do("GET", approve, nil), redirectTarget)
	if again.Get("state") != "error" || again.Get("error_type") != "token_consumed" {
		t.Fatalf("second use = %v", again)
	}
	start := redirectParams(t, h.do("GET", lt.LinkWebURL, nil), redirectTarget)
	if start.Get("error_type") != "token_consumed" {
		t.Fatalf("start page after use = %v", start)
	}
	expectStatus(t, h.do("GET", "/v2/link/provider/oauth/oura", nil, "x-vital-link-token", lt.LinkToken), http.StatusUnauthorized)
}

func TestLinkOutcomes(t *testing.T) {
	tests := []struct {
		name          string
		token         map[string]any // user_id is filled in
		provider      string
		button        string
		wantErrorType string
	}{
		{"deny on OAuth", nil, "fitbit", "deny", "provider_credential_error"},
		{"deny on password with on_error=redirect", map[string]any{"on_error": "redirect"}, "freestyle_libre", "deny", "provider_credential_error"},
		{"close with on_close=redirect", map[string]any{"on_close": "redirect"}, "oura", "close", "user_cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			u := h.createUser("outcome")
			body := map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget}
			for k, v := range tt.token {
				body[k] = v
			}
			lt := h.linkToken(body)
			button := h.buttonURL(h.consentURL(lt, tt.provider), tt.button)
			params := redirectParams(t, h.do("GET", button, nil), redirectTarget)
			if params.Get("state") != "error" || params.Get("error_type") != tt.wantErrorType || params.Get("error") == "" {
				t.Fatalf("redirect query = %v", params)
			}
			if n := len(h.team("GET", "/v2/user/providers/"+u.UserID, nil).body); n != len(`{"providers":[]}`) {
				t.Fatal("a failed link created a connection")
			}
		})
	}
}

func TestLinkCloseAndInlineErrorsKeepTokenUsable(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("inline")
	lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget})

	closeURL := followHref(t, lt.LinkWebURL, h.do("GET", lt.LinkWebURL, nil).body, `id="close"`)
	closed := h.do("GET", closeURL, nil)
	expectStatus(t, closed, http.StatusOK)
	if !strings.Contains(string(closed.body), "You can close this window") {
		t.Fatalf("close page:\n%s", closed.body)
	}

	consent := h.consentURL(lt, "freestyle_libre")
	denied := h.do("GET", h.buttonURL(consent, "deny"), nil)
	expectStatus(t, denied, http.StatusOK)
	if !strings.Contains(string(denied.body), `role="alert"`) {
		t.Fatalf("password deny without on_error=redirect should show the error inline:\n%s", denied.body)
	}

	params := redirectParams(t, h.do("GET", h.buttonURL(consent, "approve"), nil), redirectTarget)
	if params.Get("state") != "success" {
		t.Fatalf("token was spent by close or inline error: %v", params)
	}
}

func TestLinkForcedErrorTypes(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("forced")
	errorTypes := []string{
		"invalid_token", "token_expired", "token_consumed", "token_not_validated", "user_cancelled",
		"provider_credential_error", "provider_password_expired", "provider_api_error", "unsupported_region",
		"duplicate_connection", "required_scopes_not_granted", "incorrect_mfa_code", "something_new",
	}
	for _, errorType := range errorTypes {
		t.Run(errorType, func(t *testing.T) {
			lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget})
			approve := h.buttonURL(h.consentURL(lt, "garmin"), "approve")
			forced := strings.Replace(approve, "action=approve", "action=error&error_type="+errorType, 1)
			params := redirectParams(t, h.do("GET", forced, nil), redirectTarget)
			if params.Get("state") != "error" || params.Get("error_type") != errorType || params.Get("error") == "" {
				t.Fatalf("redirect query = %v", params)
			}
		})
	}
}

func TestLinkTokenProblems(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now; c.TokenTTL = 5 * time.Minute })
	u := h.createUser("problems")

	t.Run("unknown token shows an error page", func(t *testing.T) {
		r := h.do("GET", h.base+"/link/?token=garbage&env=sandbox&region=us", nil)
		expectStatus(t, r, http.StatusBadRequest)
		if r.header.Get("Location") != "" || !strings.Contains(string(r.body), "invalid_token") {
			t.Fatalf("page:\n%s", r.body)
		}
	})
	t.Run("expired token redirects with token_expired", func(t *testing.T) {
		lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget})
		consent := h.consentURL(lt, "oura")
		approve := h.buttonURL(consent, "approve")
		clock.Advance(5 * time.Minute)
		for _, target := range []string{lt.LinkWebURL, consent, approve} {
			params := redirectParams(t, h.do("GET", target, nil), redirectTarget)
			if params.Get("error_type") != "token_expired" {
				t.Fatalf("GET %s: %v", target, params)
			}
		}
	})
	t.Run("without redirect_url the outcome is a page", func(t *testing.T) {
		lt := h.linkToken(map[string]any{"user_id": u.UserID})
		r := h.do("GET", h.buttonURL(h.consentURL(lt, "polar"), "approve"), nil)
		expectStatus(t, r, http.StatusOK)
		if !strings.Contains(string(r.body), "Polar connected") {
			t.Fatalf("result page:\n%s", r.body)
		}
	})
}

func TestLinkTokenWithProviderSkipsList(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("direct")
	lt := h.linkToken(map[string]any{"user_id": u.UserID, "provider": "whoop_v2"})
	r := h.do("GET", lt.LinkWebURL, nil)
	expectStatus(t, r, http.StatusFound)
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "oauth/whoop_v2?token=") {
		t.Fatalf("Location = %s", loc)
	}
	// Another provider's consent screen is refused for this token.
	other := h.base + "/link/oauth/oura?token=" + url.QueryEscape(lt.LinkToken)
	expectStatus(t, h.do("GET", other, nil), http.StatusBadRequest)
}

func TestLinkProviderListHonoursFilter(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("filter")
	lt := h.linkToken(map[string]any{"user_id": u.UserID, "filter_on_providers": []string{"garmin", "dexcom_v3"}})
	page := string(h.do("GET", lt.LinkWebURL, nil).body)
	if strings.Count(page, "data-provider=") != 2 || !strings.Contains(page, `data-provider="garmin"`) || !strings.Contains(page, `data-provider="dexcom_v3"`) {
		t.Fatalf("provider list ignores the filter:\n%s", page)
	}
}

func TestRacingCompletesSucceedOnce(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("race")
	lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget})
	approve := h.buttonURL(h.consentURL(lt, "oura"), "approve")

	const racers = 20
	locations := make([]string, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			resp, err := h.client.Get(approve)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			locations[i] = resp.Header.Get("Location")
		})
	}
	wg.Wait()
	successes := 0
	for _, loc := range locations {
		switch {
		case strings.Contains(loc, "state=success"):
			successes++
		case !strings.Contains(loc, "error_type=token_consumed"):
			t.Fatalf("unexpected outcome %q", loc)
		}
	}
	if successes != 1 {
		t.Fatalf("%d completes succeeded, want exactly 1", successes)
	}
}
