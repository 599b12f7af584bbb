package emulator

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

const appOrigin = "http://localhost:5173"

// widgetURL is what initialize.js puts in its iframe for a token.
func widgetURL(h *harness, lt wireLinkToken) string {
	return h.Base + "/link/?" + url.Values{"token": {lt.LinkToken}, "env": {"sandbox"}, "region": {"us"}, "origin": {appOrigin}}.Encode()
}

var outcomeRe = regexp.MustCompile(`<div id="outcome" data-event="([^"]*)" data-provider="([^"]*)" data-error-type="([^"]*)" data-error="([^"]*)" data-origin="([^"]*)">`)

// widgetOutcome reads what page.js would post to the app: event,
// provider, error type, error text and the app's origin.
func widgetOutcome(t *testing.T, body []byte) []string {
	t.Helper()
	m := outcomeRe.FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no outcome on the page:\n%s", body)
	}
	return m[1:]
}

// Inside the widget, every page may be framed by the app that opened it
// (and only by it), and a visit ends on a page that reports the outcome to
// the app instead of redirecting.
func TestWidgetModePages(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("widget")

	lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget, "on_close": "redirect"})
	list := h.Do("GET", widgetURL(h, lt), nil)
	expectStatus(t, list, http.StatusOK)
	if csp := list.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors "+appOrigin) {
		t.Errorf("widget page CSP = %q, want frame-ancestors %s", csp, appOrigin)
	}
	if xfo := list.Header.Get("X-Frame-Options"); xfo != "" {
		t.Errorf("widget page sends X-Frame-Options %q, which forbids the iframe", xfo)
	}
	consent := followHref(t, widgetURL(h, lt), list.Body, `data-provider="oura"`)
	if !strings.Contains(consent, "origin="+url.QueryEscape(appOrigin)) {
		t.Fatalf("the widget's origin is lost between pages: %s", consent)
	}

	// Close inside the widget: onExit, the token stays usable even with
	// on_close=redirect (the app gets the exit, not a redirect).
	closed := h.Do("GET", h.buttonURL(consent, "close"), nil)
	expectStatus(t, closed, http.StatusOK)
	if got := widgetOutcome(t, closed.Body); got[0] != "exit" || got[4] != appOrigin {
		t.Fatalf("close outcome = %q", got)
	}
	if !strings.Contains(string(closed.Body), `<script src="page.js" defer></script>`) {
		t.Fatalf("the result page does not load page.js:\n%s", closed.Body)
	}

	// Approve: success reported to the app, no redirect, connection made.
	done := h.Do("GET", h.buttonURL(consent, "approve"), nil)
	expectStatus(t, done, http.StatusOK)
	if got := widgetOutcome(t, done.Body); got[0] != "success" || got[1] != "oura" || got[2] != "" {
		t.Fatalf("approve outcome = %q", got)
	}
	if n := h.connectionCount(u.UserID); n != 1 {
		t.Fatalf("%d connections after approving in the widget", n)
	}

	// A spent token, and a denied consent, are errors the app hears about.
	again := h.Do("GET", widgetURL(h, lt), nil)
	if got := widgetOutcome(t, again.Body); got[0] != "error" || got[2] != "token_consumed" {
		t.Fatalf("spent token outcome = %q", got)
	}
	lt = h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": redirectTarget})
	denied := h.Do("GET", h.buttonURL(followHref(t, widgetURL(h, lt), h.Do("GET", widgetURL(h, lt), nil).Body, `data-provider="fitbit"`), "deny"), nil)
	if got := widgetOutcome(t, denied.Body); got[0] != "error" || got[1] != "fitbit" || got[2] != "required_scopes_not_granted" || got[3] == "" {
		t.Fatalf("deny outcome = %q", got)
	}
}

func TestWidgetModeRejectsOddOrigins(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("odd-origin")
	lt := h.linkToken(map[string]any{"user_id": u.UserID})
	for _, origin := range []string{"javascript:alert(1)", "http://a.example/path", "null", "http://a.example; script-src *",
		"http://a.example;script-src", "http://a.example,b", "http://a'b", "http://user@a.example"} {
		target := h.Base + "/link/?" + url.Values{"token": {lt.LinkToken}, "origin": {origin}}.Encode()
		r := h.Do("GET", target, nil)
		expectStatus(t, r, http.StatusBadRequest)
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("origin %q: CSP %q", origin, csp)
		}
	}
}

func TestWidgetScripts(t *testing.T) {
	h := newHarness(t, nil)
	r := h.Do("GET", "/link/initialize.js", nil)
	expectStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("initialize.js Content-Type = %q", ct)
	}
	script := string(r.Body)
	for _, want := range []string{`var LINK_URL = "` + h.Base + `/link/";`, `window.Vital = { create: create };`, `"` + widgetMessageType + `"`} {
		if !strings.Contains(script, want) {
			t.Errorf("initialize.js lacks %q", want)
		}
	}
	if strings.Contains(script, "__") {
		t.Errorf("initialize.js has an unfilled placeholder")
	}
	p := h.Do("GET", "/link/page.js", nil)
	expectStatus(t, p, http.StatusOK)
	if !strings.Contains(string(p.Body), "window.parent.postMessage") || strings.Contains(string(p.Body), "__") {
		t.Errorf("page.js:\n%s", p.Body)
	}
}

// Whatever the origin parameter holds, an accepted one is exactly
// scheme://host[:port] with nothing that could end a CSP directive.
func FuzzWidgetOrigin(f *testing.F) {
	for _, seed := range []string{appOrigin, "https://app.example", "http://[::1]:8080", "http://a.example;b", "javascript:x", "http://a\r\nb"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, origin string) {
		r := httptest.NewRequest(http.MethodGet, "/link/?"+url.Values{"token": {"t"}, "origin": {origin}}.Encode(), nil)
		got, ok := flowOf(r)
		if !ok || got.origin == "" {
			return
		}
		u, err := url.Parse(got.origin)
		if err != nil || u.Scheme+"://"+u.Host != got.origin || strings.ContainsAny(got.origin, " ;,'\"\r\n\t") {
			t.Fatalf("accepted origin %q", got.origin)
		}
	})
}
