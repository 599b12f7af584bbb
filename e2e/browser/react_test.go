package browser

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/linkbff/linkbff/internal/testkit"
)

// junctionScriptURL is what useVitalLink loads in a production build.
const junctionScriptURL = "https://link.tryvital.io/initialize.js"

// exampleDir is the React example.
var exampleDir = filepath.Join("..", "..", "web", "examples", "react")

// needExample skips the test, saying how to run it, unless the example's
// packages are installed (and, for dist, its production build exists);
// with LINKBFF_REQUIRE_BROWSER (as in .ci/run) it fails instead.
func needExample(t *testing.T, dist bool) {
	t.Helper()
	missing := ""
	if _, err := os.Stat(filepath.Join(exampleDir, "node_modules", "vite", "bin", "vite.js")); err != nil {
		missing = "its packages are not installed: run `npm install` in web/examples/react"
	} else if _, err := os.Stat(filepath.Join(exampleDir, "dist", "index.html")); dist && err != nil {
		missing = "it is not built: run `npm install && npm run build` in web/examples/react"
	}
	if missing == "" {
		return
	}
	if os.Getenv("LINKBFF_REQUIRE_BROWSER") != "" {
		t.Fatalf("React example test: %s", missing)
	}
	t.Skipf("SKIPPED (React example): %s", missing)
}

// startViteDev runs the example's own dev server (npm run dev) on addr,
// pointed at linkbff, and waits until it serves the page.
func startViteDev(t *testing.T, addr, linkbffURL string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to run the React example's dev server: %v", err)
	}
	_, port, _ := net.SplitHostPort(addr)
	logs := &testkit.LogSink{}
	// --force: pre-bundle afresh, as a first npm run dev does.
	cmd := exec.Command(node, "node_modules/vite/bin/vite.js", "--host", "127.0.0.1", "--port", port, "--strictPort", "--force")
	cmd.Dir = exampleDir
	cmd.Env = append(os.Environ(), "VITE_LINKBFF_URL="+linkbffURL, "BROWSER=none", "NO_COLOR=1")
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so that its children stop with it
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(base + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case <-exited:
			t.Fatalf("the Vite dev server exited:\n%s", logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Vite dev server did not answer:\n%s", logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// linkWidget attaches to the Link widget's iframe, which shows linkbff's
// origin inside the app's page. The app is served from another site
// (localhost vs 127.0.0.1), so Chromium runs the iframe as its own target,
// and one attachment follows every page of the visit.
func (b *browserTab) linkWidget(linkbffURL string, seen map[target.ID]bool) *browserTab {
	b.t.Helper()
	var id target.ID
	b.waitForTarget("the Link widget", func(info *target.Info) bool {
		if info.Type == "iframe" && !seen[info.TargetID] && strings.HasPrefix(info.URL, linkbffURL+"/_junction/link/") {
			id = info.TargetID
			return true
		}
		return false
	})
	seen[id] = true
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(id))
	b.t.Cleanup(cancel)
	widget := &browserTab{t: b.t, ctx: ctx, label: "link-widget", problems: b.problems, artifacts: b.artifacts}
	if err := chromedp.Do(ctx); err != nil { // attaches; no deadline (see popupAfter)
		b.t.Fatalf("attach to the Link widget: %v", err)
	}
	widget.watchConsole()
	return widget
}

// connectWith sets the provider slug and presses Connect.
func (b *browserTab) connectWith(provider string) {
	b.t.Helper()
	b.do("connect "+provider,
		// Typing over the selected text, as a user would: React sees it.
		chromedp.Evaluate[chromedp.Void](`document.getElementById("provider").select()`),
		chromedp.SendKeys(chromedp.CSS("#provider"), provider),
		chromedp.WaitEnabled(chromedp.CSS("#connect")),
		chromedp.Click(chromedp.CSS("#connect")),
	)
}

func connectionSelector(provider, status string) string {
	return "#connections li" + attr("data-provider", provider) + attr("data-status", status)
}

// The done-when of the offline dev loop: in the example's dev server, the
// real, unmodified useVitalLink loads the Link widget from linkbff's
// embedded emulator and completes an OAuth connection, a password one with
// MFA, reports a refused password and a cancelled attempt, and the
// connection list follows. Nothing is stubbed: the hook, its script loader
// and the widget run as they ship.
func TestBrowserReactHookCompletesOffline(t *testing.T) {
	needExample(t, false)
	b := newBrowser(t, false) // the widget is an iframe: no popups
	viteAddr := testkit.FreeAddr(t)
	// The app on localhost, linkbff on 127.0.0.1: two sites, as an app and
	// Junction are (see linkWidget).
	_, vitePort, _ := net.SplitHostPort(viteAddr)
	appOrigin := "http://localhost:" + vitePort
	s := testkit.StartLinkbffBinary(t, map[string]string{"CORS_ALLOWED_ORIGINS": appOrigin})
	startViteDev(t, viteAddr, s.URL)
	b.leaveBeforeStopping()
	app := appOrigin

	b.do("open the example", chromedp.Navigate(app+"/"), chromedp.WaitVisible(chromedp.CSS("#dev-sign-in")))
	b.do("dev sign-in",
		chromedp.Click(chromedp.CSS("#dev-sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#no-connections")),
		chromedp.WaitVisible(chromedp.CSS(`#connect[data-path="widget"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="on"]`)), // GET /v1/events, read with fetch
	)
	if loaded := eval[bool](b, fmt.Sprintf(`performance.getEntriesByType("resource").some(e => e.name === %q)`, s.URL+"/_junction/link/initialize.js")); !loaded {
		t.Fatal("the hook did not load the widget from the emulator")
	}
	b.screenshot("signed-in")
	seen := map[target.ID]bool{}
	click := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
	visible := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(chromedp.CSS(sel)) }
	// Plain forms: no framework watches their key events.
	fill := func(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SetValue(chromedp.CSS(sel), v) }
	widgetClosed := chromedp.WaitNotPresent(chromedp.CSS(`[data-junction-link]`))

	// OAuth: the provider's consent, in the widget's overlay.
	b.connectWith("oura")
	link := b.linkWidget(s.URL, seen)
	link.do("see Oura's consent", visible("#approve"))
	b.screenshot("widget-oauth-1280")
	link.do("allow", click("#approve"))
	b.do("onSuccess, and the list follows from the event stream",
		visible(`#status[data-kind="success"]`), widgetClosed, visible(connectionSelector("oura", "connected")+attr("data-via", "stream")))

	// A refused password: linkbff asks Link to report form errors
	// (on_error=redirect), so the widget closes with onError.
	b.connectWith("eight_sleep")
	link = b.linkWidget(s.URL, seen)
	link.do("sign in with a wrong password", visible("#password"), fill("#username", "me@example.com"), fill("#password", "wrong-password"), click("#sign-in"))
	b.do("onError", visible(`#status[data-kind="error"]`), widgetClosed)
	if got := b.text("#status"); !strings.Contains(got, "provider_credential_error") {
		t.Errorf("after a wrong password the page says %q", got)
	}

	// Password and a verification code, on a phone-sized screen.
	b.do("phone-sized viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.connectWith("abbott_libreview")
	link = b.linkWidget(s.URL, seen)
	link.do("sign in", visible("#password"), fill("#username", "me@example.com"), fill("#password", "demo-password"))
	b.screenshot("widget-password-390")
	link.do("submit the password", click("#sign-in"), visible("#code"), fill("#code", "123456"))
	b.screenshot("widget-mfa-390")
	link.do("verify", click("#verify"))
	b.do("onSuccess for the MFA provider",
		visible(connectionSelector("abbott_libreview", "connected")), visible(`#status[data-kind="success"]`), widgetClosed)
	b.screenshot("connected-390")
	if overflow := eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth`); overflow {
		t.Error("the example scrolls sideways at 390 px")
	}

	// Cancelled: Close in Link is onExit; nothing new is connected.
	b.do("desktop viewport", chromedp.EmulateViewport(1280, 900))
	b.connectWith("fitbit")
	link = b.linkWidget(s.URL, seen)
	link.do("close Link", visible("#close"), click("#close"))
	b.do("onExit", widgetClosed)
	testkit.Eventually(t, "the page to say Link was closed", func() bool { return strings.Contains(b.text("#status"), "Link was closed") })
	if n := eval[int](b, `document.querySelectorAll("#connections li").length`); n != 2 {
		t.Errorf("%d connections listed after a cancelled attempt, want oura and abbott_libreview", n)
	}
	b.screenshot("after-cancel-1280")
	// The list was read once, when the stream opened; the stream did the rest.
	if n := connectionListReads(s); n != 1 {
		t.Errorf("GET /v1/connections was sent %d times; want once", n)
	}
}

// The production build keeps Junction's script. When it cannot load
// (offline, blocked), Connect opens link_web_url in a window at once, the
// callback page reports back, and the list follows. The example's origin
// may call linkbff's API; another origin may not.
func TestBrowserReactFallsBackWhenTheScriptCannotLoad(t *testing.T) {
	needExample(t, true)
	dist := filepath.Join(exampleDir, "dist")
	assertProductionBundleUsesJunction(t, dist)
	b := newBrowser(t, true) // the Link window opens after the token arrives

	app := httptest.NewUnstartedServer(nil)
	appOrigin := "http://" + app.Listener.Addr().String()
	s := testkit.StartLinkbffBinary(t, map[string]string{"CORS_ALLOWED_ORIGINS": appOrigin})
	linkbff, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/_dev/", httputil.NewSingleHostReverseProxy(linkbff)) // as the Vite dev server's proxy does
	mux.Handle("/", servePointedAt(t, dist, s.URL))
	app.Config.Handler = mux
	app.Start()
	t.Cleanup(app.Close)
	b.leaveBeforeStopping()

	failJunctionScript(b)
	// Expected in the console: the failed script and the hook's report of it.
	b.problems.expect("Error loading Vital", "initialize.js")
	b.do("open the example", chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#dev-sign-in")))
	b.do("dev sign-in", chromedp.Click(chromedp.CSS("#dev-sign-in")), chromedp.WaitVisible(chromedp.CSS("#no-connections")))
	b.do("Connect offers the Link window at once", chromedp.WaitVisible(chromedp.CSS(`#connect[data-path="window"]:enabled`)))
	if got := b.text("#link-path"); !strings.Contains(got, "could not load") {
		t.Errorf("the page explains %q", got)
	}
	b.screenshot("script-unavailable")

	popup := b.popupAfter("connect in a window", "/_junction/link/oauth/oura", chromedp.Click(chromedp.CSS("#connect")))
	popup.do("approve in Link", chromedp.WaitVisible(chromedp.CSS("#approve")), chromedp.Click(chromedp.CSS("#approve")))
	b.do("the callback page reports back, the list follows",
		chromedp.WaitVisible(chromedp.CSS(`#status[data-kind="success"]`)),
		chromedp.WaitVisible(chromedp.CSS(connectionSelector("oura", "connected"))),
	)
	popup.waitClosed("after approving")
	b.screenshot("connected-through-window")

	fetchProviders := fmt.Sprintf(`fetch(%q, {headers: {Authorization: "Bearer " + %%s}}).then(r => "status " + r.status, e => e.name)`, s.URL+"/v1/providers")
	if got := eval[string](b, fmt.Sprintf(fetchProviders, `document.getElementById("token").value`)); got != "status 200" {
		t.Errorf("from the example's origin, GET /v1/providers: %s", got)
	}
	assertOtherOriginRefused(t, b, s, fetchProviders)
}

// assertProductionBundleUsesJunction checks that npm run build kept
// Junction's widget script and did not point at the emulator.
func assertProductionBundleUsesJunction(t *testing.T, dist string) {
	t.Helper()
	bundles, _ := filepath.Glob(filepath.Join(dist, "assets", "*.js"))
	var all strings.Builder
	for _, file := range bundles {
		js, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(js)
	}
	if !strings.Contains(all.String(), junctionScriptURL) || strings.Contains(all.String(), "/_junction/") {
		t.Fatalf("the production build in %s must load %s and never the emulator", dist, junctionScriptURL)
	}
}

// failJunctionScript makes Junction's script fail to load, as offline.
func failJunctionScript(b *browserTab) {
	b.t.Helper()
	paused := chromedp.Events(b.ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			_, err := chromedp.Call(b.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonInternetDisconnected})
			if err != nil && b.ctx.Err() == nil {
				b.t.Errorf("fail %s: %v", junctionScriptURL, err)
			}
		}
	}()
	b.do("take "+junctionScriptURL+" offline", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: junctionScriptURL}}})
		return err
	}))
}

// assertOtherOriginRefused: from another origin, the browser refuses
// linkbff's answer. Its console reports the refusal; those lines, and only
// those, are expected there.
func assertOtherOriginRefused(t *testing.T, b *browserTab, s *testkit.Server, fetchProviders string) {
	t.Helper()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>another site</title><link rel="icon" href="data:,"></head><body><p>another site</p></body></html>`)
	}))
	t.Cleanup(other.Close)
	stranger := b.newTab("other-origin")
	stranger.problems = &consoleProblems{}
	stranger.do("open another site", chromedp.Navigate(other.URL+"/"), chromedp.WaitVisible(chromedp.CSS("p")))
	stranger.watchConsole()
	token := s.DevToken("mallory")
	if got := eval[string](stranger, fmt.Sprintf(fetchProviders, fmt.Sprintf("%q", token))); got != "TypeError" {
		t.Errorf("from another origin, GET /v1/providers: %s; want the browser to refuse it (TypeError)", got)
	}
	stranger.do("settle", chromedp.Evaluate[chromedp.Void](`0`))
	for _, p := range stranger.problems.list() {
		if !strings.Contains(p, "CORS policy") && !strings.Contains(p, "net::ERR_FAILED") {
			t.Errorf("other origin's console: %s", p)
		}
	}
}

// exampleDefaultURL is the linkbff address the example is built with when
// VITE_LINKBFF_URL is unset.
const exampleDefaultURL = "http://127.0.0.1:8080"

// servePointedAt serves the build with its linkbff address replaced by
// linkbffURL, as building with VITE_LINKBFF_URL=linkbffURL would.
func servePointedAt(t *testing.T, dist, linkbffURL string) http.Handler {
	t.Helper()
	bundles, _ := filepath.Glob(filepath.Join(dist, "assets", "*.js"))
	pointed := map[string][]byte{}
	for _, file := range bundles {
		js, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(js), exampleDefaultURL) {
			pointed["/assets/"+filepath.Base(file)] = []byte(strings.ReplaceAll(string(js), exampleDefaultURL, linkbffURL))
		}
	}
	if len(pointed) == 0 {
		t.Fatalf("no bundle in %s holds the default address %s: was it built with VITE_LINKBFF_URL set?", dist, exampleDefaultURL)
	}
	files := http.FileServer(http.Dir(dist))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if js, ok := pointed[r.URL.Path]; ok {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			_, _ = w.Write(js)
			return
		}
		files.ServeHTTP(w, r)
	})
}
