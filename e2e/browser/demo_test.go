package browser

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/linkbff/linkbff/internal/testkit"
)

// openDemoSignedIn opens the demo and signs in with the keyboard only.
func openDemoSignedIn(b *browserTab, s *testkit.Server, user string) {
	b.t.Helper()
	b.leaveBeforeStopping()
	b.do("open the demo", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#user")))
	b.screenshot("sign-in")
	b.do("sign in with the keyboard",
		chromedp.SendKeys(chromedp.CSS("#user"), user+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`[data-connect="oura"]`)),
	)
	// Logos come from the emulator: each must have loaded.
	broken := eval[int](b, `(async () => {
		const logos = Array.from(document.querySelectorAll("#providers img"));
		await Promise.all(logos.map(i => i.complete ? null : new Promise(done => { i.addEventListener("load", done); i.addEventListener("error", done); })));
		return logos.filter(i => i.naturalWidth === 0).length;
	})()`)
	if broken != 0 {
		b.t.Errorf("%d provider logos did not load", broken)
	}
}

func outcomeSelector(status, errorType string) string {
	return "#outcome" + attr("data-status", status) + attr("data-error-type", errorType)
}

// The demo's main path: each Link outcome arrives from the popup without a
// reload, with words that say what the user did; the connected provider
// then offers no second Connect; the connection can be removed.
func TestBrowserDemoPopupFlow(t *testing.T) {
	b := newBrowser(t, true)
	s := testkit.StartLinkbffBinary(t, nil)
	openDemoSignedIn(b, s, "alice")
	b.screenshot("catalogue")

	outcomes := []struct {
		button, wantStatus, wantErrorType string
		wantText                          []string
	}{
		// Deny on the consent screen is the user declining, not a typo.
		{"#deny", "error", "required_scopes_not_granted", []string{"Access not given", "You didn't allow Oura"}},
		{"#close", "cancelled", "user_cancelled", []string{"Nothing was connected"}},
		{"#approve", "connected", "", []string{"Oura connected"}},
	}
	for _, o := range outcomes {
		popup := b.popupAfter("connect Oura", "/_junction/link/oauth/oura", chromedp.Click(chromedp.CSS(`[data-connect="oura"]`)))
		popup.do("show the consent screen", chromedp.WaitVisible(chromedp.CSS(o.button)))
		if o.button == "#approve" {
			popup.screenshot("consent")
		}
		popup.do("press "+o.button, chromedp.Click(chromedp.CSS(o.button)))
		b.do("show the outcome of "+o.button, chromedp.WaitVisible(chromedp.CSS(outcomeSelector(o.wantStatus, o.wantErrorType))))
		if got := b.text("#outcome"); !containsAll(got, o.wantText...) {
			t.Errorf("%s: outcome says %q, want %q", o.button, got, o.wantText)
		}
		b.screenshot("outcome-" + strings.TrimPrefix(o.button, "#"))
		popup.waitClosed("after " + o.button)
	}
	b.do("list the connection; the provider no longer offers Connect",
		chromedp.WaitVisible(chromedp.CSS(`[data-connection="oura"][data-status="connected"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#providers [data-provider="oura"] [data-state="connected"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#providers [data-connect="oura"]`)),
	)

	// A password provider in the popup: a wrong password is "check them".
	popup := b.popupAfter("connect Eight Sleep", "/_junction/link/password/eight_sleep", chromedp.Click(chromedp.CSS(`[data-connect="eight_sleep"]`)))
	popup.do("sign in with a wrong password",
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#username"), "me@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), "not-it"),
		chromedp.Click(chromedp.CSS("#sign-in")),
	)
	b.do("show the refused sign-in", chromedp.WaitVisible(chromedp.CSS(outcomeSelector("error", "provider_credential_error"))))
	if got := b.text("#outcome"); !containsAll(got, "Sign-in didn't work", "email or password") {
		t.Errorf("wrong password: outcome says %q", got)
	}
	popup.waitClosed("after the wrong password")

	atWidths(b, func(width string) { b.screenshot("connected-" + width) })
	b.do("disconnect",
		chromedp.Click(chromedp.CSS(`[data-disconnect="oura"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-connection="oura"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#outcome[data-status="disconnected"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#providers [data-connect="oura"]`)),
	)
	b.screenshot("disconnected")
}

// atWidths runs check at 1280 px and at a 390 px phone, where the page must
// not scroll sideways, and leaves the desktop size on.
func atWidths(b *browserTab, check func(width string)) {
	b.t.Helper()
	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"390", 390, 844, true}, {"1280", 1280, 900, false}} {
		viewport := chromedp.EmulateViewport(size.width, size.height)
		if size.mobile {
			viewport = chromedp.EmulateViewport(size.width, size.height, chromedp.EmulateMobile)
		}
		b.do("viewport "+size.name, viewport)
		if overflow := eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth`); overflow {
			b.t.Errorf("at %s px the page scrolls sideways", size.name)
		}
		check(size.name)
	}
}

// The fixes of the first-run review, each seen at 1280 and 390 px: no
// empty bar before the first outcome, Sign out on the header's line, a
// one-line "Needs attention" badge, and Reconnect for a connection in
// error, which then works.
func TestBrowserDemoLayoutAndReconnect(t *testing.T) {
	b := newBrowser(t, true)
	s := testkit.StartLinkbffBinary(t, nil)
	openDemoSignedIn(b, s, "carol-with-a-rather-long-name")

	atWidths(b, func(width string) {
		if shown := eval[bool](b, `(() => { const o = document.getElementById("outcome"); return getComputedStyle(o).display !== "none" || o.offsetHeight > 0; })()`); shown {
			t.Errorf("at %s px an empty outcome bar shows before any outcome", width)
		}
		if oneLine := eval[bool](b, `(() => {
			const brand = document.querySelector(".brand").getBoundingClientRect();
			const out = document.getElementById("sign-out").getBoundingClientRect();
			return Math.abs((brand.top + brand.bottom) / 2 - (out.top + out.bottom) / 2) < 4 && out.right <= window.innerWidth;
		})()`); !oneLine {
			t.Errorf("at %s px Sign out is not on the header's line", width)
		}
		b.screenshot("signed-in-" + width)
	})

	// Junction reports a problem with a connection (a webhook).
	popup := b.popupAfter("connect Oura", "/_junction/link/oauth/oura", chromedp.Click(chromedp.CSS(`[data-connect="oura"]`)))
	popup.do("approve", chromedp.WaitVisible(chromedp.CSS("#approve")), chromedp.Click(chromedp.CSS("#approve")))
	b.do("connected", chromedp.WaitVisible(chromedp.CSS(`[data-connection="oura"][data-status="connected"]`)))
	popup.waitClosed("after approving")
	junctionUser := s.JunctionUserID(s.DevToken("carol-with-a-rather-long-name"))
	r := s.Do("POST", "/_junction/_emulator/connection-error", map[string]string{"user_id": junctionUser, "provider": "oura", "error_type": "token_refresh_failed"})
	if r.Status != 200 {
		t.Fatalf("emulator connection-error: %d %s", r.Status, r.Body)
	}
	b.do("reload and see the problem",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`[data-connection="oura"][data-status="error"]`)),
	)
	atWidths(b, func(width string) {
		if lines := eval[int](b, `document.querySelector('[data-connection="oura"] .badge').getClientRects().length`); lines != 1 {
			t.Errorf("at %s px the Needs attention badge takes %d lines", width, lines)
		}
		b.screenshot("needs-attention-" + width)
	})
	if got := b.text(`[data-connection="oura"]`); !containsAll(got, "Needs attention", "Reconnect") {
		t.Errorf("the connection in error says %q; want Needs attention and a Reconnect", got)
	}
	b.do("the catalogue offers Reconnect too", chromedp.WaitVisible(chromedp.CSS(`#providers [data-provider="oura"] [data-connect="oura"]`)))
	if got := b.text(`#providers [data-provider="oura"] [data-connect="oura"]`); got != "Reconnect" {
		t.Errorf("the catalogue's button for Oura says %q", got)
	}

	popup = b.popupAfter("reconnect Oura", "/_junction/link/oauth/oura", chromedp.Click(chromedp.CSS(`[data-connection="oura"] [data-connect="oura"]`)))
	popup.do("approve", chromedp.WaitVisible(chromedp.CSS("#approve")), chromedp.Click(chromedp.CSS("#approve")))
	b.do("reconnected", chromedp.WaitVisible(chromedp.CSS(`[data-connection="oura"][data-status="connected"]`)))
	popup.waitClosed("after reconnecting")
	atWidths(b, func(width string) { b.screenshot("reconnected-" + width) })
}

// The README's walkthrough ends on the demo page with link_status in its
// address, in a browser that never signed in: the page says how it went.
func TestBrowserDemoShowsReturnedOutcomeWithoutSession(t *testing.T) {
	b := newBrowser(t, false)
	s := testkit.StartLinkbffBinary(t, nil)
	for _, tc := range []struct {
		query, status, errorType string
		want                     []string
	}{
		{"link_status=connected&provider=oura", "connected", "", []string{"Oura connected", "Sign in to see your connections"}},
		{"link_status=error&provider=oura&error_type=required_scopes_not_granted", "error", "required_scopes_not_granted", []string{"Access not given"}},
		{"link_status=cancelled&provider=oura&error_type=user_cancelled", "cancelled", "user_cancelled", []string{"Nothing was connected"}},
	} {
		b.do("return with "+tc.status, chromedp.Navigate(s.URL+"/?"+tc.query), chromedp.WaitVisible(chromedp.CSS(outcomeSelector(tc.status, tc.errorType))))
		if got := b.text("#outcome"); !containsAll(got, tc.want...) {
			t.Errorf("%s: the page says %q, want %q", tc.query, got, tc.want)
		}
		atWidths(b, func(width string) { b.screenshot("returned-" + tc.status + "-" + width) })
	}
}

// With popups blocked, Connect takes the whole tab to Link and return_to
// brings it back to the demo, which shows the outcome and cleans its URL.
func TestBrowserDemoRedirectWhenPopupBlocked(t *testing.T) {
	b := newBrowser(t, false)
	// Headless Chromium lets a popup through after a real click, so act as
	// a popup blocker does: window.open returns null.
	b.do("block popups", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.open = function () { return null; };`,
		})
		return err
	}))
	s := testkit.StartLinkbffBinary(t, nil)
	openDemoSignedIn(b, s, "bob")

	b.do("go to Link in this tab", chromedp.Click(chromedp.CSS(`[data-connect="oura"]`)), chromedp.WaitVisible(chromedp.CSS("#approve")))
	b.screenshot("consent-full-page")
	b.do("approve and come back",
		chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS(outcomeSelector("connected", ""))),
		chromedp.WaitVisible(chromedp.CSS(`[data-connection="oura"][data-status="connected"]`)),
	)
	b.screenshot("returned")
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil || u.Path != "/" || u.RawQuery != "" {
		t.Errorf("after returning, the address is %q; want the outcome removed from it", loc)
	}
}
