package browser

import (
	"maps"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/linkbff/linkbff/internal/testkit"
)

// connectionListReads counts the GET /v1/connections linkbff's access log
// recorded on servers.
func connectionListReads(servers ...*testkit.Server) int {
	n := 0
	for _, s := range servers {
		n += s.Logs.Count(`"method":"GET","path":"/v1/connections"`)
	}
	return n
}

// connectByStream connects Oura in the demo's popup and waits for the
// connection to show, brought by the event stream, while no server is
// asked for the list again.
func connectByStream(b *browserTab, servers ...*testkit.Server) {
	b.t.Helper()
	b.do("the event stream is live", chromedp.WaitVisible(chromedp.CSS(`#live[data-state="on"]`)))
	testkit.Eventually(b.t, "the initial list", func() bool { return connectionListReads(servers...) == 1 })
	popup := b.popupAfter("connect Oura", "/link/oauth/oura", chromedp.Click(chromedp.CSS(`[data-connect="oura"]`)))
	popup.do("approve", chromedp.WaitVisible(chromedp.CSS("#approve")), chromedp.Click(chromedp.CSS("#approve")))
	b.do("connected, from the stream",
		chromedp.WaitVisible(chromedp.CSS(`[data-connection="oura"][data-status="connected"][data-via="stream"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#providers [data-provider="oura"] [data-state="connected"]`)),
		chromedp.WaitVisible(chromedp.CSS(outcomeSelector("connected", ""))),
	)
	popup.waitClosed("after approving")
	b.screenshot("connected-from-stream")
	// Longer than the page's polling would wait between two reads.
	time.Sleep(2 * time.Second)
	if n := connectionListReads(servers...); n != 1 {
		b.t.Errorf("GET /v1/connections was sent %d times; want once, at the initial load, and the stream after it", n)
	}
}

// The browser "done when": the demo shows the connection the
// moment the webhook lands, from the event stream, without polling.
func TestBrowserDemoUpdatesFromTheStream(t *testing.T) {
	b := newBrowser(t, true)
	s := testkit.StartLinkbffBinary(t, nil)
	openDemoSignedIn(b, s, "streamer")
	connectByStream(b, s)

	// A disconnect elsewhere (another tab, the app's backend) shows too.
	token := s.DevToken("streamer")
	if r := s.Request("DELETE", "/v1/connections/oura", token, nil); r.Status != 204 {
		t.Fatalf("disconnect: %d %s", r.Status, r.Body)
	}
	b.do("the disconnection, from the stream", chromedp.WaitNotPresent(chromedp.CSS(`[data-connection="oura"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#providers [data-connect="oura"]`)))
	if n := connectionListReads(s); n != 1 {
		t.Errorf("GET /v1/connections was sent %d times", n)
	}
}

// The same with two replicas on one PostgreSQL: the page and its stream on
// one, Junction's webhook landing on the other.
func TestBrowserDemoStreamAcrossReplicas(t *testing.T) {
	dbURL := os.Getenv("TEST_DATABASE_URL")
	if dbURL == "" {
		t.Skip("TEST_DATABASE_URL not set: the two-replica browser test SKIPPED (.ci/run sets it)")
	}
	b := newBrowser(t, true)
	const apiKey, hsSecret = "sk_us_browserSTREAMkey0000000000000000", "browser-stream-hs256-secret-of-32-bytes+"
	database := testkit.PostgresDatabase(t)
	web, hooks := testkit.FreeAddr(t), testkit.FreeAddr(t)
	// Junction (the emulator binary) sends its webhooks to the second replica.
	emu := testkit.StartEmulatorBinary(t, apiKey, "-webhook-url", "http://"+hooks+"/webhooks/junction", "-webhook-secret", testkit.WebhookSecret)
	env := func(addr string, extra map[string]string) map[string]string {
		e := map[string]string{
			"LISTEN_ADDR": addr, "PUBLIC_URL": "http://" + addr, "DATABASE_URL": database,
			"JUNCTION_API_KEY": apiKey, "JUNCTION_BASE_URL": emu.URL, "JUNCTION_WEBHOOK_SECRET": testkit.WebhookSecret,
			"AUTH_HS256_SECRET": hsSecret, "AUTH_ISSUER": testkit.Issuer, "AUTH_AUDIENCE": testkit.Audience, "RATE_LIMIT_USER": "off",
		}
		maps.Copy(e, extra)
		return e
	}
	page := testkit.StartLinkbffBinary(t, env(web, map[string]string{"SERVE_DEMO": "true"}))
	receiver := testkit.StartLinkbffBinary(t, env(hooks, nil))
	b.leaveBeforeStopping()

	// The emulator's provider logos are plain http on another origin, which
	// the demo's CSP refuses to load (the page works without them), and the
	// emulator alone serves no favicon.
	b.problems.expect("Refused to load the image", "Content Security Policy", "/favicon.ico")
	b.do("open the demo", chromedp.Navigate(page.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#jwt-form")))
	token := testkit.SignHS256(t, hsSecret, testkit.Claims("across"))
	b.do("sign in with a JWT",
		chromedp.Click(chromedp.CSS("details.jwt summary")),
		chromedp.SendKeys(chromedp.CSS("#jwt"), token+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`[data-connect="oura"]`)),
	)
	connectByStream(b, page, receiver)
	if page.Logs.Count(`"path":"/webhooks/junction"`) != 0 || receiver.Logs.Count(`"result":"applied"`) != 1 {
		t.Errorf("the webhook did not land on the other replica only (page: %d, receiver applied: %d)",
			page.Logs.Count(`"path":"/webhooks/junction"`), receiver.Logs.Count(`"result":"applied"`))
	}
}
