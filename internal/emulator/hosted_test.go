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

	list := h.Do("GET", lt.LinkWebURL, nil)
	expectStatus(t, list, http.StatusOK)
	if csp := list.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	if page := string(list.Body); strings.Contains(page, `src="http`) || strings.Contains(page, `href="http`) {
		t.Errorf("page loads or links an absolute URL:\n%s", page)
	}
	consent := followHref(t, lt.LinkWebURL, list.Body, `data-provider="oura"`)
	if !strings.HasPrefix(consent, h.Base+"/link/oauth/oura?") {
		t.Fatalf("consent URL %s is not under the mount prefix", consent)
	}
	page := h.Do("GET", consent, nil)
	expectStatus(t, page, http.StatusOK)
	if !strings.Contains(string(page.Body), "Connect Oura to your app") {
		t.Fatalf("consent page:\n%s", page.Body)
	}
	approve := followHref(t, consent, page.Body, `id="approve"`)

	done := h.Do("GET", approve, nil)
	params := redirectParams(t, done, redirectTarget)
	if params.Get("state") != "success" || params.Get("session") != "abc" || params.Has("error_type") {
		t.Fatalf("redirect query = %v", params)
	}
	if !strings.HasPrefix(done.Header.Get("Location"), redirectTarget+"&state=success") {
		t.Errorf("existing query not kept verbatim: %s", done.Header.Get("Location"))
	}

	providers := h.team("GET", "/v2/user/providers/"+u.UserID, nil)
	expectStatus(t, providers, http.StatusOK)
	assertResponseMatchesSpec(t, "GET", "/v2/user/providers/{user_id}", 200, providers.Body)
	var got wireConnectedProviders
	providers.JSON(t, &got)
	if len(got.Providers) != 1 || got.Providers[0].Slug != "oura" || got.Providers[0].Status != "connected" ||
		got.Providers[0].ExternalUserID == nil || !strings.HasPrefix(*got.Providers[0].ExternalUserID, "emu-oura-") {
		t.Fatalf("providers = %s", providers.Body)
	}
	user := h.team("GET", "/v2/user/"+u.UserID, nil)
	assertResponseMatchesSpec(t, "GET", "/v2/user/{user_id}", 200, user.Body)
	var withSources wireUser
	user.JSON(t, &withSources)
	if len(withSources.ConnectedSources) != 1 || withSources.ConnectedSources[0].Provider.Slug != "oura" {
		t.Fatalf("connected_sources = %s", user.Body)
	}

	// Single use: the same button again, and the start page, say consumed.
	again := redirectParams(t, h.Do("GET", approve, nil), redirectTarget)
	if again.Get("state") != "error" || again.Get("error_type") != "token_consumed" {
		t.Fatalf("second use = %v", again)
	}
	start := redirectParams(t, h.Do("GET", lt.LinkWebURL, nil), redirectTarget)
	if start.Get("error_type") != "token_consumed" {
		t.Fatalf("start page after use = %v", start)
	}
	expectStatus(t, h.Do("GET", "/v2/link/provider/oauth/oura", nil, "x-vital-link-token", lt.LinkToken), http.StatusUnauthorized)
}

func TestLinkOutcomes(t *testing.T) {
	tests := []struct {
		name          string
		token         map[string]any // user_id is filled in
		provider      string
		button        string
		wantErrorType string
	}{
		{"deny on OAuth consent", nil, "fitbit", "deny", "required_scopes_not_granted"},
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
			params := redirectParams(t, h.Do("GET", button, nil), redirectTarget)
			if params.Get("state") != "error" || params.Get("error_type") != tt.wantErrorType || params.Get("error") == "" {
				t.Fatalf("redirect query = %v", params)
			}
			if n := len(h.team("GET", "/v2/user/providers/"+u.UserID, nil).Body); n != len(`{"providers":[]}`) {
				t.Fatal("a failed link created a connection")
			}
		})
	}
}

func TestLinkCloseAndInlineErrorsKeepTokenUsable(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("inline")
	lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget})

	closeURL := followHref(t, lt.LinkWebURL, h.Do("GET", lt.LinkWebURL, nil).Body, `id="close"`)
	closed := h.Do("GET", closeURL, nil)
	expectStatus(t, closed, http.StatusOK)
	if !strings.Contains(string(closed.Body), "You can close this window") {
		t.Fatalf("close page:\n%s", closed.Body)
	}

	// A scripted deny on a password provider is a rejected sign-in, shown
	// inline without on_error=redirect.
	denied := h.Do("GET", completeURL(h, lt, "freestyle_libre", "deny"), nil)
	expectStatus(t, denied, http.StatusOK)
	if !strings.Contains(string(denied.Body), `role="alert"`) || !strings.Contains(string(denied.Body), "provider_credential_error") {
		t.Fatalf("password deny without on_error=redirect should show the error inline:\n%s", denied.Body)
	}

	params := redirectParams(t, h.Do("GET", h.buttonURL(h.consentURL(lt, "oura"), "approve"), nil), redirectTarget)
	if params.Get("state") != "success" {
		t.Fatalf("token was spent by close or inline error: %v", params)
	}
}

// completeURL is the scripted /link/complete URL for one action.
func completeURL(h *harness, lt wireLinkToken, provider, action string) string {
	return h.Base + "/link/complete?" + url.Values{"token": {lt.LinkToken}, "provider": {provider}, "action": {action}}.Encode()
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
			params := redirectParams(t, h.Do("GET", forced, nil), redirectTarget)
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
		r := h.Do("GET", h.Base+"/link/?token=garbage&env=sandbox&region=us", nil)
		expectStatus(t, r, http.StatusBadRequest)
		if r.Header.Get("Location") != "" || !strings.Contains(string(r.Body), "invalid_token") {
			t.Fatalf("page:\n%s", r.Body)
		}
	})
	t.Run("expired token redirects with token_expired", func(t *testing.T) {
		lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget})
		consent := h.consentURL(lt, "oura")
		approve := h.buttonURL(consent, "approve")
		clock.Advance(5 * time.Minute)
		for _, target := range []string{lt.LinkWebURL, consent, approve} {
			params := redirectParams(t, h.Do("GET", target, nil), redirectTarget)
			if params.Get("error_type") != "token_expired" {
				t.Fatalf("GET %s: %v", target, params)
			}
		}
	})
	t.Run("without redirect_url the outcome is a page", func(t *testing.T) {
		lt := h.linkToken(map[string]any{"user_id": u.UserID})
		r := h.Do("GET", h.buttonURL(h.consentURL(lt, "polar"), "approve"), nil)
		expectStatus(t, r, http.StatusOK)
		if !strings.Contains(string(r.Body), "Polar connected") {
			t.Fatalf("result page:\n%s", r.Body)
		}
	})
}

func TestLinkTokenWithProviderSkipsList(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("direct")
	lt := h.linkToken(map[string]any{"user_id": u.UserID, "provider": "whoop_v2"})
	r := h.Do("GET", lt.LinkWebURL, nil)
	expectStatus(t, r, http.StatusFound)
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "oauth/whoop_v2?token=") {
		t.Fatalf("Location = %s", loc)
	}
	// Another provider's consent screen is refused for this token.
	other := h.Base + "/link/oauth/oura?token=" + url.QueryEscape(lt.LinkToken)
	expectStatus(t, h.Do("GET", other, nil), http.StatusBadRequest)
}

func TestLinkProviderListHonoursFilter(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("filter")
	lt := h.linkToken(map[string]any{"user_id": u.UserID, "filter_on_providers": []string{"garmin", "dexcom_v3"}})
	page := string(h.Do("GET", lt.LinkWebURL, nil).Body)
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
			r, err := h.Send("GET", approve, nil)
			if err != nil {
				t.Error(err)
				return
			}
			locations[i] = r.Header.Get("Location")
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
