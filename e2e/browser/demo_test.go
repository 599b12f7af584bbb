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
// reload, with its own words; the connection shows up and can be removed.
func TestBrowserDemoPopupFlow(t *testing.T) {
	b := newBrowser(t, true)
	s := testkit.StartLinkbffBinary(t, nil)
	openDemoSignedIn(b, s, "alice")
	b.screenshot("catalogue")

	outcomes := []struct {
		button, wantStatus, wantErrorType string
		wantText                          []string
	}{
		{"#deny", "error", "provider_credential_error", []string{"Sign-in didn't work", "Oura did not accept the sign-in"}},
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

	b.do("list the connection", chromedp.WaitVisible(chromedp.CSS(`[data-connection="oura"][data-status="connected"]`)))
	b.screenshot("connected")

	b.do("phone-sized viewport", chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile))
	if overflow := eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth`); overflow {
		t.Error("the demo scrolls sideways on a phone-sized viewport")
	}
	b.screenshot("phone")

	b.do("disconnect",
		chromedp.Click(chromedp.CSS(`[data-disconnect="oura"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-connection="oura"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#outcome[data-status="disconnected"]`)),
	)
	b.screenshot("disconnected")
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
