package emulator

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/testkit"
)

// providerPageURL opens link_web_url and follows the provider's entry,
// checking that the list labels it with its auth type.
func (h *harness) providerPageURL(lt wireLinkToken, slug, authType string) string {
	h.t.Helper()
	list := h.Do("GET", lt.LinkWebURL, nil)
	expectStatus(h.t, list, http.StatusOK)
	entry := `data-provider="` + regexp.QuoteMeta(slug) + `" data-auth-type="` + authType + `"`
	if !strings.Contains(string(list.Body), `data-provider="`+slug+`" data-auth-type="`+authType+`"`) {
		h.t.Fatalf("the list does not show %s as %s:\n%s", slug, authType, list.Body)
	}
	return followHref(h.t, lt.LinkWebURL, list.Body, entry)
}

var (
	formActionRe  = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenInputRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// submit fills in the form of the page at pageURL as a browser would:
// its hidden fields plus values, posted to its action.
func (h *harness) submit(pageURL string, values url.Values) testkit.Response {
	h.t.Helper()
	page := h.Do("GET", pageURL, nil)
	expectStatus(h.t, page, http.StatusOK)
	return h.submitForm(pageURL, page, values)
}

func (h *harness) submitForm(pageURL string, page testkit.Response, values url.Values) testkit.Response {
	h.t.Helper()
	m := formActionRe.FindSubmatch(page.Body)
	if m == nil {
		h.t.Fatalf("no form on the page:\n%s", page.Body)
	}
	base, _ := url.Parse(pageURL)
	action, err := url.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		h.t.Fatal(err)
	}
	form := url.Values{}
	for _, hidden := range hiddenInputRe.FindAllSubmatch(page.Body, -1) {
		form.Set(string(hidden[1]), html.UnescapeString(string(hidden[2])))
	}
	for k, v := range values {
		form[k] = v
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self'") {
		h.t.Errorf("a form page's CSP does not allow its own form: %q", csp)
	}
	return h.Do("POST", base.ResolveReference(action).String(), form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
}

// seeOtherParams checks the 303 a posted form ends with and returns the
// redirect's query.
func seeOtherParams(t *testing.T, r testkit.Response) url.Values {
	t.Helper()
	expectStatus(t, r, http.StatusSeeOther)
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirectTarget) {
		t.Fatalf("Location = %s, want %s…", r.Header.Get("Location"), redirectTarget)
	}
	return loc.Query()
}

func (h *harness) connectionCount(userID string) int {
	h.t.Helper()
	var got wireConnectedProviders
	h.team("GET", "/v2/user/providers/"+userID, nil).JSON(h.t, &got)
	return len(got.Providers)
}

func TestPasswordProvider(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("password")

	t.Run("inline errors keep the token", func(t *testing.T) {
		lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget})
		form := h.providerPageURL(lt, "eight_sleep", authPassword)
		for _, values := range []url.Values{
			{"username": {"me@example.com"}, "password": {""}},
			{"username": {"me@example.com"}, "password": {"wrong"}},
		} {
			r := h.submit(form, values)
			expectStatus(t, r, http.StatusOK)
			if !strings.Contains(string(r.Body), `id="inline-error"`) || !strings.Contains(string(r.Body), `value="me@example.com"`) {
				t.Fatalf("want the form again with an inline error and the email kept:\n%s", r.Body)
			}
		}
		params := seeOtherParams(t, h.submit(form, url.Values{"username": {"me@example.com"}, "password": {DemoPassword}}))
		if params.Get("state") != "success" {
			t.Fatalf("right password: %v", params)
		}
	})
	t.Run("wrong password with on_error=redirect", func(t *testing.T) {
		lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget, "on_error": "redirect"})
		form := h.providerPageURL(lt, "peloton", authPassword)
		params := seeOtherParams(t, h.submit(form, url.Values{"username": {"me@example.com"}, "password": {"nope"}}))
		if params.Get("state") != "error" || params.Get("error_type") != "provider_credential_error" {
			t.Fatalf("wrong password: %v", params)
		}
		// The token is spent: going back to the form is token_consumed.
		if again := redirectParams(t, h.Do("GET", form, nil), redirectTarget); again.Get("error_type") != "token_consumed" {
			t.Fatalf("the form after a redirected error: %v", again)
		}
	})
	var got wireConnectedProviders
	r := h.team("GET", "/v2/user/providers/"+u.UserID, nil)
	assertResponseMatchesSpec(t, "GET", "/v2/user/providers/{user_id}", 200, r.Body)
	r.JSON(t, &got)
	if len(got.Providers) != 1 || got.Providers[0].Slug != "eight_sleep" {
		t.Fatalf("connections = %s", r.Body)
	}
}

func TestPasswordProviderWithMFA(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("mfa")
	password := url.Values{"username": {"me@example.com"}, "password": {DemoPassword}}

	t.Run("wrong code with on_error=redirect", func(t *testing.T) {
		lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget, "on_error": "redirect"})
		form := h.providerPageURL(lt, "abbott_libreview", authPassword)
		codePage := h.submit(form, password)
		expectStatus(t, codePage, http.StatusOK)
		if !strings.Contains(string(codePage.Body), `id="code"`) {
			t.Fatalf("right password on an MFA provider: want the code step:\n%s", codePage.Body)
		}
		params := seeOtherParams(t, h.submitForm(form, codePage, url.Values{"code": {"000000"}}))
		if params.Get("state") != "error" || params.Get("error_type") != "incorrect_mfa_code" {
			t.Fatalf("wrong code: %v", params)
		}
		if n := h.connectionCount(u.UserID); n != 0 {
			t.Fatalf("a wrong code connected %d providers", n)
		}
	})
	t.Run("wrong code inline, then the right one", func(t *testing.T) {
		lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget})
		form := h.providerPageURL(lt, "abbott_libreview", authPassword)
		codePage := h.submit(form, password)
		retry := h.submitForm(form, codePage, url.Values{"code": {"999999"}})
		expectStatus(t, retry, http.StatusOK)
		if !strings.Contains(string(retry.Body), `id="inline-error"`) {
			t.Fatalf("wrong code without on_error=redirect: want it inline:\n%s", retry.Body)
		}
		params := seeOtherParams(t, h.submitForm(form, retry, url.Values{"code": {DemoMFACode}}))
		if params.Get("state") != "success" {
			t.Fatalf("right code: %v", params)
		}
	})
	t.Run("no code step without the password", func(t *testing.T) {
		lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget})
		form := url.Values{"token": {lt.LinkToken}, "code": {DemoMFACode}}.Encode()
		r := h.Do("POST", "/link/mfa/abbott_libreview", form, "Content-Type", "application/x-www-form-urlencoded")
		expectStatus(t, r, http.StatusBadRequest)
	})
	if n := h.connectionCount(u.UserID); n != 1 {
		t.Fatalf("%d connections, want abbott_libreview once", n)
	}
}

func TestEmailProvider(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("email")
	lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget, "on_error": "redirect"})
	form := h.providerPageURL(lt, "renpho", authEmail)

	invalid := h.submit(form, url.Values{"email": {"not an address"}})
	expectStatus(t, invalid, http.StatusOK)
	if !strings.Contains(string(invalid.Body), "Enter a valid email address") {
		t.Fatalf("malformed address: want an inline hint, even with on_error=redirect:\n%s", invalid.Body)
	}
	params := seeOtherParams(t, h.submit(form, url.Values{"email": {"unknown@example.com"}}))
	if params.Get("error_type") != "provider_credential_error" {
		t.Fatalf("an address the provider does not know: %v", params)
	}

	lt = h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget})
	form = h.providerPageURL(lt, "renpho", authEmail)
	if params := seeOtherParams(t, h.submit(form, url.Values{"email": {"me@example.com"}})); params.Get("state") != "success" {
		t.Fatalf("a good address: %v", params)
	}
}

// HealthKit and Health Connect show in Link, which explains they connect
// from the phone; nothing is connected and the token stays usable.
func TestSDKProvidersAreExplained(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("sdk")
	lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget})
	for _, slug := range []string{"apple_health_kit", "health_connect"} {
		page := h.Do("GET", h.providerPageURL(lt, slug, authSDK), nil)
		expectStatus(t, page, http.StatusOK)
		if !strings.Contains(string(page.Body), "connects from your phone") || !strings.Contains(string(page.Body), `id="back"`) {
			t.Fatalf("%s page:\n%s", slug, page.Body)
		}
	}
	if n := h.connectionCount(u.UserID); n != 0 {
		t.Fatalf("an SDK explanation connected %d providers", n)
	}
	if params := redirectParams(t, h.Do("GET", h.buttonURL(h.consentURL(lt, "oura"), "approve"), nil), redirectTarget); params.Get("state") != "success" {
		t.Fatalf("the token was spent by an explanation: %v", params)
	}

	// The API lists them (auth_type sdk, no oauth_url); a filter hides them.
	lt = h.linkToken(map[string]any{"user_id": u.UserID})
	r := h.Do("GET", "/v2/link/providers", nil, "x-vital-link-token", lt.LinkToken)
	assertResponseMatchesSpec(t, "GET", "/v2/link/providers", 200, r.Body)
	var listed []wireSourceLink
	r.JSON(t, &listed)
	found := false
	for _, p := range listed {
		if p.Slug == "apple_health_kit" {
			found = p.AuthType != nil && *p.AuthType == authSDK && p.OAuthURL == nil
		}
	}
	if !found {
		t.Errorf("apple_health_kit not listed as an sdk provider: %s", r.Body)
	}
	filtered := h.linkToken(map[string]any{"user_id": u.UserID, "filter_on_providers": []string{"oura"}})
	if page := string(h.Do("GET", filtered.LinkWebURL, nil).Body); strings.Contains(page, "apple_health_kit") {
		t.Errorf("a filtered list shows HealthKit:\n%s", page)
	}
}
