package main

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/testkit"
)

func TestDevModeLinkFlowReturnsToApp(t *testing.T) {
	s := testkit.Start(t, run, nil)
	token := s.DevToken("alice")
	lt := s.NewLinkToken(token, map[string]any{"provider": "oura", "return_to": s.URL + "/settings?tab=health"})
	if !strings.Contains(lt.LinkWebURL, url.QueryEscape(lt.LinkToken)) {
		t.Errorf("link_web_url %q does not carry the token", lt.LinkWebURL)
	}

	callback := s.FinishLink(lt, "oura", testkit.Act("approve"))
	if !strings.HasPrefix(callback, s.URL+"/link/callback/") || !strings.Contains(callback, "state=success") {
		t.Fatalf("emulator redirected to %q", callback)
	}
	if r := s.Request(http.MethodGet, callback, "", nil, "Accept", "application/json"); r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte(`"status":"connected"`)) {
		t.Fatalf("callback as JSON despite return_to: %d %s", r.Status, r.Body)
	}
	r := s.Request(http.MethodGet, callback, "", nil)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("callback: want 303 to return_to, got %d %s", r.Status, r.Body)
	}
	if len(r.Body) != 0 {
		t.Errorf("the 303 carries a body (%s, CSP %q): %s", r.Header.Get("Content-Type"), r.Header.Get("Content-Security-Policy"), r.Body)
	}
	back, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := back.Query()
	if back.Path != "/settings" || q.Get("tab") != "health" || q.Get("link_status") != "connected" || q.Get("provider") != "oura" || q.Has("error_type") {
		t.Fatalf("returned to %q", back)
	}
}

func TestCallbackOutcomes(t *testing.T) {
	s := testkit.Start(t, run, nil)
	token := s.DevToken("bob")
	tests := []struct {
		name       string
		action     url.Values
		wantStatus string
		wantType   string
	}{
		{"approve", testkit.Act("approve"), "connected", ""},
		{"deny", testkit.Act("deny"), "error", "required_scopes_not_granted"}, // OAuth consent declined
		{"close", testkit.Act("close"), "cancelled", "user_cancelled"},
	}
	for _, errorType := range []string{"invalid_token", "token_expired", "token_consumed", "token_not_validated",
		"provider_credential_error", "provider_password_expired", "provider_api_error", "unsupported_region",
		"duplicate_connection", "required_scopes_not_granted", "incorrect_mfa_code", "a_type_junction_adds_later"} {
		tests = append(tests, struct {
			name       string
			action     url.Values
			wantStatus string
			wantType   string
		}{errorType, testkit.Act("error", "error_type", errorType), "error", errorType})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lt := s.NewLinkToken(token, map[string]any{"provider": "fitbit"})
			callback := s.FinishLink(lt, "fitbit", tc.action)

			r := s.Request(http.MethodGet, callback, "", nil, "Accept", "application/json")
			var got callbackResult
			r.JSON(t, &got)
			if r.Status != http.StatusOK || got.Status != tc.wantStatus || deref(got.ErrorType) != tc.wantType || deref(got.Provider) != "fitbit" {
				t.Fatalf("callback JSON %d %s, want %s/%s", r.Status, r.Body, tc.wantStatus, tc.wantType)
			}

			page := s.Request(http.MethodGet, callback, "", nil, "Accept", "text/html")
			if page.Status != http.StatusOK || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("callback page %d %s", page.Status, page.Header.Get("Content-Type"))
			}
			if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("callback page CSP = %q", csp)
			}
			if page.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("callback page is cacheable")
			}
			if !bytes.Contains(page.Body, []byte(`data-status="`+tc.wantStatus+`"`)) {
				t.Errorf("page does not show status %s:\n%s", tc.wantStatus, page.Body)
			}
		})
	}
}

type callbackResult struct {
	Status    string  `json:"status"`
	Provider  *string `json:"provider"`
	ErrorType *string `json:"error_type"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestCallbackRecordsTheFirstOutcomeOnly(t *testing.T) {
	s := testkit.Start(t, run, nil)
	lt := s.NewLinkToken(s.DevToken("carol"), map[string]any{"provider": "oura"})
	callback := s.FinishLink(lt, "oura", testkit.Act("approve"))
	first := s.Request(http.MethodGet, callback, "", nil, "Accept", "application/json")

	// A forged second outcome on the same session changes nothing.
	forged := strings.Replace(callback, "state=success", "state=error&error_type=provider_api_error&error=nope", 1)
	second := s.Request(http.MethodGet, forged, "", nil, "Accept", "application/json")
	reload := s.Request(http.MethodGet, callback, "", nil, "Accept", "application/json")
	for _, r := range []testkit.Response{first, second, reload} {
		var got callbackResult
		r.JSON(t, &got)
		if got.Status != "connected" {
			t.Fatalf("outcome changed: %s", r.Body)
		}
	}

	// The token is single use: Link itself refuses a second pass.
	again := s.FinishLink(lt, "oura", testkit.Act("approve"))
	if !strings.Contains(again, "error_type=token_consumed") {
		t.Fatalf("second use of a link token redirected to %q", again)
	}
}

func TestCallbackUnknownSessions(t *testing.T) {
	s := testkit.Start(t, run, nil)
	for _, path := range []string{
		"/link/callback/00000000000000000000000000000000?state=success",
		"/link/callback/not-a-session?state=success",
		"/link/callback/" + strings.Repeat("a", 500) + "?state=success",
	} {
		page := s.Request(http.MethodGet, path, "", nil)
		if page.Status != http.StatusNotFound || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") || !bytes.Contains(page.Body, []byte("expired")) {
			t.Errorf("%s: %d %s", path, page.Status, page.Body)
		}
		api := s.Request(http.MethodGet, path, "", nil, "Accept", "application/json")
		if api.Status != http.StatusNotFound || api.ErrorCode(t) != "not_found" {
			t.Errorf("%s as JSON: %d %s", path, api.Status, api.Body)
		}
	}
}

func TestCallbackNeverEchoesJunctionErrorText(t *testing.T) {
	s := testkit.Start(t, run, nil)
	lt := s.NewLinkToken(s.DevToken("dave"), nil)
	callback := s.FinishLink(lt, "oura", testkit.Act("deny"))
	u, _ := url.Parse(callback)
	q := u.Query()
	q.Set("error", `<script>alert("x")</script> jane@example.com`)
	q.Set("error_type", `<img src=x onerror=alert(1)>`)
	u.RawQuery = q.Encode()
	page := s.Request(http.MethodGet, u.String(), "", nil)
	if bytes.Contains(page.Body, []byte("<script>alert")) || bytes.Contains(page.Body, []byte("<img")) || bytes.Contains(page.Body, []byte("alert(")) {
		t.Fatalf("callback page echoes attacker text:\n%s", page.Body)
	}
	// The human text is not logged either: anyone can write there, and it may name the user.
	if logs := s.Logs.String(); strings.Contains(logs, "jane@example.com") || strings.Contains(logs, "alert") {
		t.Errorf("the callback's error text reached the log")
	}
	if !bytes.Contains(page.Body, []byte(`data-error-type="unknown"`)) {
		t.Fatalf("a malformed error_type should be recorded as unknown:\n%s", page.Body)
	}
}

func TestReturnToMustBeAllowed(t *testing.T) {
	s := testkit.Start(t, run, map[string]string{"ALLOWED_RETURN_URLS": "https://app.example.com,myapp://linked"})
	token := s.DevToken("erin")
	for _, returnTo := range []string{
		"//evil.com", "https://app.example.com.evil.com/", "javascript:alert(1)", "https://app.example.com@evil.com/",
		"https://evil.com/?https://app.example.com", "http://app.example.com/", "myapp://linkedin", "data:text/html,x", "/relative",
	} {
		r := s.Request(http.MethodPost, "/v1/link/token", token, map[string]any{"return_to": returnTo})
		if r.Status != http.StatusBadRequest || r.ErrorCode(t) != "invalid_request" || !bytes.Contains(r.Body, []byte(`"field":"return_to"`)) {
			t.Errorf("return_to %q: %d %s", returnTo, r.Status, r.Body)
		}
	}
	for _, returnTo := range []string{"https://app.example.com/settings", "myapp://linked/done"} {
		lt := s.NewLinkToken(token, map[string]any{"return_to": returnTo})
		r := s.Request(http.MethodGet, s.FinishLink(lt, "garmin", testkit.Act("close")), "", nil)
		loc := r.Header.Get("Location")
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, returnTo+"?") || !strings.Contains(loc, "link_status=cancelled") || !strings.Contains(loc, "error_type=user_cancelled") {
			t.Errorf("return_to %q: %d Location %q", returnTo, r.Status, loc)
		}
	}
}

func TestLinkTokenRejectsBadInput(t *testing.T) {
	s := testkit.Start(t, run, map[string]string{"PROVIDERS_ALLOWLIST": "oura,fitbit"})
	token := s.DevToken("frank")
	tests := []struct {
		name       string
		body       any
		headers    []string
		wantStatus int
		wantField  string
	}{
		{"provider shape", map[string]any{"provider": "Oura!"}, nil, 400, "provider"},
		{"provider not offered", map[string]any{"provider": "garmin"}, nil, 400, "provider"},
		{"filter entry", map[string]any{"filter_on_providers": []string{"oura", "x y"}}, nil, 400, "filter_on_providers"},
		{"unknown field", map[string]any{"providr": "oura"}, nil, 400, "providr"},
		{"wrong type", map[string]any{"provider": 7}, nil, 400, "provider"},
		{"not json", "{provider:", nil, 400, ""},
		{"two objects", `{} {}`, nil, 400, ""},
		{"trailing garbage", `{} ]`, nil, 400, ""},
		{"jsonx", `{}`, []string{"Content-Type", "application/jsonx"}, 400, ""},
		{"form body", "provider=oura", []string{"Content-Type", "application/x-www-form-urlencoded"}, 400, ""},
		{"array body", `[1]`, nil, 400, ""},
		{"too large", `{"provider":"` + strings.Repeat("a", 70<<10) + `"}`, nil, 413, ""},
	}
	for _, tc := range tests {
		r := s.Request(http.MethodPost, "/v1/link/token", token, tc.body, tc.headers...)
		if r.Status != tc.wantStatus {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
			continue
		}
		r.ErrorCode(t)
		if tc.wantField != "" && !bytes.Contains(r.Body, []byte(`"field":"`+tc.wantField+`"`)) {
			t.Errorf("%s: error does not name %s: %s", tc.name, tc.wantField, r.Body)
		}
	}
	r := s.Request(http.MethodPost, "/v1/link/token", token, `[1]`)
	if bytes.Contains(r.Body, []byte("handlers.")) {
		t.Errorf("error exposes a Go type: %s", r.Body)
	}
	// An empty body is a valid request: every field is optional.
	if r := s.Request(http.MethodPost, "/v1/link/token", token, nil); r.Status != http.StatusOK {
		t.Errorf("empty body: %d %s", r.Status, r.Body)
	}
}

func TestOAuthLinkForMobile(t *testing.T) {
	s := testkit.Start(t, run, map[string]string{"ALLOWED_RETURN_URLS": "myapp://linked"})
	token := s.DevToken("gina")
	r := s.Request(http.MethodGet, "/v1/link/oauth/oura?return_to="+url.QueryEscape("myapp://linked"), token, nil)
	var got struct {
		OAuthURL string `json:"oauth_url"`
		Provider struct{ Slug, Name, Logo string }
	}
	r.JSON(t, &got)
	if r.Status != http.StatusOK || got.OAuthURL == "" || got.Provider.Slug != "oura" || got.Provider.Name == "" {
		t.Fatalf("oauth link: %d %s", r.Status, r.Body)
	}
	consent := s.Request(http.MethodGet, got.OAuthURL, "", nil)
	if consent.Status != http.StatusOK || !bytes.Contains(consent.Body, []byte(`id="approve"`)) {
		t.Fatalf("oauth_url does not open the consent screen: %d %s", consent.Status, consent.Body)
	}
	for path, want := range map[string]int{
		"/v1/link/oauth/Not-A-Slug": 400,
		"/v1/link/oauth/oura?return_to=" + url.QueryEscape("https://evil.com"): 400,
	} {
		if r := s.Request(http.MethodGet, path, token, nil); r.Status != want {
			t.Errorf("%s: %d %s", path, r.Status, r.Body)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	s := testkit.Start(t, run, nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := s.Request(http.MethodGet, path, "", nil); r.Status != http.StatusOK {
			t.Errorf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	if r := s.Request(http.MethodGet, "/v1/nope", s.DevToken("h"), nil); r.Status != 404 || r.ErrorCode(t) != "not_found" {
		t.Errorf("unknown route: %d %s", r.Status, r.Body)
	}
	for path, allow := range map[string]string{"/v1/link/token": "POST", "/v1/connections/oura": "DELETE", "/healthz": "GET"} {
		r := s.Request(http.MethodPut, path, s.DevToken("h"), nil)
		if r.Status != http.StatusMethodNotAllowed || r.ErrorCode(t) != "method_not_allowed" || r.Header.Get("Allow") != allow {
			t.Errorf("PUT %s: %d Allow %q %s, want 405 Allow %q", path, r.Status, r.Header.Get("Allow"), r.Body, allow)
		}
	}
}

func TestRateLimitsAnswer429WithRetryAfter(t *testing.T) {
	s := testkit.Start(t, run, map[string]string{"RATE_LIMIT_USER": "3/min", "RATE_LIMIT_IP": "2/min"})
	token := s.DevToken("greedy")
	for i := range 3 {
		if r := s.Request(http.MethodPost, "/v1/link/token", token, nil); r.Status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := s.Request(http.MethodPost, "/v1/link/token", token, nil)
	if r.Status != http.StatusTooManyRequests || r.ErrorCode(t) != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("4th request: %d %v %s", r.Status, r.Header, r.Body)
	}
	// Another user has a budget of their own.
	if r := s.Request(http.MethodPost, "/v1/link/token", s.DevToken("modest"), nil); r.Status != http.StatusOK {
		t.Fatalf("another user: %d", r.Status)
	}
	// The callback is limited per client IP.
	var last testkit.Response
	for range 3 {
		last = s.Request(http.MethodGet, "/link/callback/00000000000000000000000000000000?state=success", "", nil)
	}
	if last.Status != http.StatusTooManyRequests {
		t.Fatalf("3rd callback from one IP at 2/min: %d", last.Status)
	}
}

// Every /v1 route that calls Junction on each request spends the caller's
// budget, the DELETEs included; the cached lists do not.
func TestPerUserLimitCoversEveryRouteThatCallsJunction(t *testing.T) {
	s := testkit.Start(t, run, map[string]string{"RATE_LIMIT_USER": "2/min"})
	limited := []struct{ method, path string }{
		{http.MethodPost, "/v1/link/token"},
		{http.MethodGet, "/v1/link/oauth/oura"},
		{http.MethodPost, "/v1/mobile/sign-in-token"},
		{http.MethodDelete, "/v1/connections/oura"},
		{http.MethodDelete, "/v1/me"},
	}
	for _, route := range limited {
		token := s.DevToken("budget-" + strings.NewReplacer("/", "-").Replace(route.path) + route.method)
		for range 2 {
			if r := s.Request(route.method, route.path, token, nil); r.Status >= 500 || r.Status == http.StatusTooManyRequests {
				t.Fatalf("%s %s within budget: %d %s", route.method, route.path, r.Status, r.Body)
			}
		}
		r := s.Request(route.method, route.path, token, nil)
		if r.Status != http.StatusTooManyRequests || r.ErrorCode(t) != "rate_limited" || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s over budget: %d %s, want 429 with Retry-After", route.method, route.path, r.Status, r.Body)
		}
	}
	token := s.DevToken("poller")
	for range 10 {
		for _, path := range []string{"/v1/connections", "/v1/providers"} {
			if r := s.Request(http.MethodGet, path, token, nil); r.Status != http.StatusOK {
				t.Fatalf("polling %s: %d %s", path, r.Status, r.Body)
			}
		}
	}
}
