package browser

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/linkbff/linkbff/internal/testkit"
)

// vitalScriptURL is what useVitalLink loads; it cannot be reached in tests.
const vitalScriptURL = "https://link.tryvital.io/initialize.js"

// vitalStandIn replaces initialize.js: window.Vital as far as the hook uses
// it (create → {open, exit, destroy}, onLoad). open records its arguments
// and opens the emulator's Link page for the token; the callback page's
// message to this opener then drives onSuccess/onExit/onError.
const vitalStandIn = `(function () {
  var linkbff = %q;
  window.__vitalOpenArgs = [];
  window.Vital = {
    create: function (config) {
      var popup = null;
      function onMessage(event) {
        if (event.origin !== linkbff || !event.data || event.data.type !== "linkbff:link") { return; }
        if (event.data.status === "connected") { config.onSuccess({ state: "success", provider: event.data.provider }); }
        else if (event.data.status === "cancelled") { config.onExit && config.onExit({ state: "exit" }); }
        else { config.onError && config.onError({ state: "error", error_type: event.data.error_type }); }
      }
      window.addEventListener("message", onMessage);
      setTimeout(function () { config.onLoad && config.onLoad(); }, 0);
      return {
        open: function () {
          window.__vitalOpenArgs.push(Array.prototype.slice.call(arguments));
          popup = window.open(linkbff + "/_junction/link/?token=" + encodeURIComponent(arguments[0]) + "&env=sandbox&region=us", "vital-link");
        },
        exit: function () { if (popup) { popup.close(); } },
        destroy: function () { window.removeEventListener("message", onMessage); }
      };
    }
  };
})();`

// recordLinkTokens keeps each /v1/link/token response body the page
// receives, so the test can compare it with what open() got.
const recordLinkTokens = `(function () {
  var realFetch = window.fetch;
  window.__linkTokenResponses = [];
  window.fetch = function (input, init) {
    return realFetch.apply(this, arguments).then(function (res) {
      if (String(input instanceof Request ? input.url : input).indexOf("/v1/link/token") >= 0) {
        res.clone().json().then(function (body) { window.__linkTokenResponses.push(body); }, function () {});
      }
      return res;
    });
  };
})();`

// reactDist is the React example's production build, made by .ci/run.
func reactDist(t *testing.T) string {
	t.Helper()
	dist := filepath.Join("..", "..", "web", "examples", "react", "dist")
	if _, err := os.Stat(filepath.Join(dist, "index.html")); err != nil {
		if os.Getenv("LINKBFF_REQUIRE_BROWSER") != "" {
			t.Fatalf("the React example is not built (%v): run npm ci && npm run build in web/examples/react", err)
		}
		t.Skip("!!! SKIPPING REACT BROWSER TEST: build web/examples/react first (npm ci && npm run build) !!!")
	}
	return dist
}

// serveVitalStandIn answers the hook's script request from the test.
func serveVitalStandIn(b *browserTab, linkbffOrigin string) {
	b.t.Helper()
	paused := chromedp.Events(b.ctx, fetch.RequestPaused)
	script := []byte(fmt.Sprintf(vitalStandIn, linkbffOrigin))
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			_, err := chromedp.Call(b.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
				RequestID:       ev.RequestID,
				ResponseCode:    200,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/javascript"}},
				Body:            script,
			})
			if err != nil && b.ctx.Err() == nil {
				b.t.Errorf("serve the stand-in script: %v", err)
			}
		}
	}()
	b.do("intercept "+vitalScriptURL, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: vitalScriptURL}}})
		return err
	}))
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

func addInitScript(b *browserTab, source string) {
	b.t.Helper()
	b.do("add an init script", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: source})
		return err
	}))
}

// The React example, served from its own origin, gets a token from linkbff
// across origins and hands useVitalLink's open() exactly the link_token
// string; Link's outcome comes back through onSuccess. The browser lets the
// example's origin read linkbff's API and refuses another origin.
func TestBrowserReactExampleAndCORS(t *testing.T) {
	dist := reactDist(t)
	b := newBrowser(t, true) // the stand-in opens Link after an await, outside the click

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
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>another site</title><link rel="icon" href="data:,"></head><body><p>another site</p></body></html>`)
	}))
	t.Cleanup(other.Close)

	serveVitalStandIn(b, s.URL)
	addInitScript(b, recordLinkTokens)
	b.do("open the example", chromedp.Navigate(app.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#dev-sign-in")))
	b.do("dev sign-in",
		chromedp.Click(chromedp.CSS("#dev-sign-in")),
		chromedp.WaitVisible(chromedp.CSS(`#status`)),
		chromedp.WaitEnabled(chromedp.CSS("#connect")),
	)
	b.screenshot("signed-in")

	popup := b.popupAfter("connect", "/_junction/link/oauth/oura", chromedp.Click(chromedp.CSS("#connect")))
	var got struct {
		OpenArgs  [][]any `json:"openArgs"`
		Responses []struct {
			LinkToken string `json:"link_token"`
		} `json:"responses"`
	}
	raw := eval[[]byte](b, `JSON.stringify({openArgs: window.__vitalOpenArgs, responses: window.__linkTokenResponses})`)
	if err := jsonUnmarshalString(raw, &got); err != nil {
		t.Fatalf("read what open() received: %v (%s)", err, raw)
	}
	if len(got.Responses) != 1 || got.Responses[0].LinkToken == "" {
		t.Fatalf("the page saw link token responses %+v", got.Responses)
	}
	if len(got.OpenArgs) != 1 || len(got.OpenArgs[0]) != 1 || got.OpenArgs[0][0] != got.Responses[0].LinkToken {
		t.Fatalf("open() received %v, want exactly the link_token string %q", got.OpenArgs, got.Responses[0].LinkToken)
	}

	popup.do("approve in Link", chromedp.WaitVisible(chromedp.CSS("#approve")), chromedp.Click(chromedp.CSS("#approve")))
	b.do("onSuccess updates the page", chromedp.WaitVisible(chromedp.CSS(`#status[data-kind="success"]`)))
	b.screenshot("connected")
	popup.waitClosed("after approving")

	fetchProviders := fmt.Sprintf(`fetch(%q, {headers: {Authorization: "Bearer " + %%s}}).then(r => "status " + r.status, e => e.name)`, s.URL+"/v1/providers")
	if got := eval[string](b, fmt.Sprintf(fetchProviders, `document.getElementById("token").value`)); got != "status 200" {
		t.Errorf("from the example's origin, GET /v1/providers: %s", got)
	}

	// Another origin: the browser refuses linkbff's answer. Its console
	// reports the refusal; those lines, and only those, are expected here.
	stranger := b.newTab("other-origin")
	stranger.problems = &consoleProblems{}
	stranger.do("open another site", chromedp.Navigate(other.URL+"/"), chromedp.WaitVisible(chromedp.CSS("p")))
	stranger.watchConsole()
	token := s.DevToken("mallory")
	if got := eval[string](stranger, fmt.Sprintf(fetchProviders, fmt.Sprintf("%q", token))); got != "TypeError" {
		t.Errorf("from another origin, GET /v1/providers: %s; want the browser to refuse it (TypeError)", got)
	}
	stranger.do("settle", chromedp.Evaluate[chromedp.Void](`0`))
	sawCORS := false
	for _, p := range stranger.problems.list() {
		switch {
		case strings.Contains(p, "CORS policy"):
			sawCORS = true
		case strings.Contains(p, "net::ERR_FAILED"):
		default:
			t.Errorf("other origin's console: %s", p)
		}
	}
	if !sawCORS {
		t.Logf("the browser did not log a CORS message (console: %q)", stranger.problems.list())
	}
}
