// Package browser drives linkbff's pages and the React example in a real
// headless Chromium (chromedp), against the linkbff binary in dev mode. It
// lives apart from cmd/server so that the server's own tests need no
// browser. Set CHROMIUM_PATH to run it; LINKBFF_REQUIRE_BROWSER=1 turns a
// missing browser or React build into a failure; screenshots go to
// $LINKBFF_ARTIFACTS.
package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/linkbff/linkbff/internal/testkit"
)

// TestMain removes the binaries testkit built for this package's tests.
func TestMain(m *testing.M) { testkit.Main(m) }

// browserStepTimeout bounds one step (a wait, a click); generous because CI
// machines are slow, and only reached when something is broken.
const browserStepTimeout = 20 * time.Second

// chromiumPath returns the browser to drive, skipping the test loudly when
// there is none, or failing it when LINKBFF_REQUIRE_BROWSER says one must be.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHROMIUM_PATH")
	if path == "" {
		if os.Getenv("LINKBFF_REQUIRE_BROWSER") != "" {
			t.Fatal("LINKBFF_REQUIRE_BROWSER is set but CHROMIUM_PATH is not: install chromium and set CHROMIUM_PATH")
		}
		t.Skip("SKIPPED (browser test): it drives a real Chromium. Install one (Debian: apt-get install chromium) " +
			"and set CHROMIUM_PATH=/usr/bin/chromium to run it; .ci/run does both")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("CHROMIUM_PATH: %v", err)
	}
	return path
}

// consoleProblems collects console errors and uncaught exceptions from
// every tab of one browser; a test fails on any that it did not expect.
type consoleProblems struct {
	mu       sync.Mutex
	problems []string
	expected []string // substrings of problems a test provokes on purpose
}

func (c *consoleProblems) add(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.expected {
		if strings.Contains(p, e) {
			return
		}
	}
	c.problems = append(c.problems, p)
}

// expect ignores, from now on, problems that contain any of substrings.
func (c *consoleProblems) expect(substrings ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expected = append(c.expected, substrings...)
}

func (c *consoleProblems) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.problems)
}

// browserTab is one tab (or popup) of a headless Chromium.
type browserTab struct {
	t         *testing.T
	ctx       context.Context
	label     string
	problems  *consoleProblems
	artifacts string
	opener    *browserTab // set on a popup
}

// newBrowser starts a fresh headless Chromium for the test. Popups opened
// without a user gesture are blocked unless allowPopups is set.
func newBrowser(t *testing.T, allowPopups bool) *browserTab {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	if allowPopups {
		opts = append(opts, chromedp.Flag("disable-popup-blocking", true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout
		t.Fatalf("start chromium: %v", err)
	}
	b := &browserTab{t: t, ctx: ctx, label: "page", problems: &consoleProblems{}, artifacts: artifactsDir(t)}
	b.watchConsole()
	t.Cleanup(b.failOnConsoleProblems)
	return b
}

// artifactsDir is where screenshots go: $LINKBFF_ARTIFACTS, else a temp dir.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("LINKBFF_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("LINKBFF_ARTIFACTS: %v", err)
	}
	return dir
}

func (b *browserTab) watchConsole() {
	messages := chromedp.Console(b.ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.problems.add(fmt.Sprintf("%s: %s (%s)", b.label, m, m.URL))
			}
		}
	}()
}

func (b *browserTab) failOnConsoleProblems() {
	for _, p := range b.problems.list() {
		b.t.Errorf("browser console: %s", p)
	}
}

// do runs steps with a per-step deadline, failing the test (with a
// screenshot) when one does not complete.
func (b *browserTab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.screenshot("failed-" + what)
		b.t.Fatalf("%s (%s): %v\nconsole problems: %q", what, b.label, err, b.problems.list())
	}
}

// eval evaluates a JavaScript expression, awaiting it when it is a promise.
func eval[T any](b *browserTab, expression string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s (%s): %v", expression, b.label, err)
	}
	return v
}

func (b *browserTab) text(selector string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", selector, err)
	}
	return s
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// screenshot saves the whole page as a PNG under the artifacts folder.
func (b *browserTab) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 means PNG
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(b.artifacts, unsafeFileChars.ReplaceAllString(b.t.Name()+"-"+b.label+"-"+name, "_")+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Errorf("save screenshot: %v", err)
		return
	}
	b.t.Logf("screenshot: %s", file)
}

// popupAfter runs trigger and returns the popup it opens, once the popup's
// address contains landing.
func (b *browserTab) popupAfter(what, landing string, trigger ...chromedp.Action[chromedp.Void]) *browserTab {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	opened := chromedp.WaitNewTarget(ctx, func(info *target.Info) bool { return info.Type == "page" })
	b.do(what, trigger...)
	var id target.ID
	select {
	case id = <-opened:
	case <-ctx.Done():
		b.screenshot("no-popup-" + what)
		b.t.Fatalf("%s: no popup opened; console problems: %q", what, b.problems.list())
	}
	// Attaching while the popup is still on its way (about:blank, then
	// redirects) loses track of the navigation, so wait until it arrived.
	b.waitForTarget(what, func(info *target.Info) bool { return info.TargetID == id && strings.Contains(info.URL, landing) })
	popupCtx, cancelPopup := chromedp.NewContext(b.ctx, chromedp.WithTargetID(id))
	b.t.Cleanup(cancelPopup)
	popup := &browserTab{t: b.t, ctx: popupCtx, label: "popup", problems: b.problems, artifacts: b.artifacts, opener: b}
	// The first run attaches; it must not carry a deadline, since the end
	// of its context would end the session.
	if err := chromedp.Do(popupCtx); err != nil {
		b.t.Fatalf("%s: attach to the popup: %v", what, err)
	}
	popup.watchConsole()
	return popup
}

// waitForTarget waits until some target of the browser matches.
func (b *browserTab) waitForTarget(what string, match func(*target.Info) bool) {
	b.t.Helper()
	deadline := time.Now().Add(browserStepTimeout)
	for {
		targets, err := chromedp.Targets(b.ctx)
		if err == nil && slices.ContainsFunc(targets, match) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: timed out waiting for the popup (last error %v)", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newTab opens another tab in the same browser.
func (b *browserTab) newTab(label string) *browserTab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	tab := &browserTab{t: b.t, ctx: ctx, label: label, problems: b.problems, artifacts: b.artifacts}
	if err := chromedp.Do(ctx); err != nil { // no deadline: see popupAfter
		b.t.Fatalf("open a tab: %v", err)
	}
	return tab
}

// waitClosed waits until the popup is gone (the page closed itself).
func (b *browserTab) waitClosed(what string) {
	b.t.Helper()
	id := chromedp.FromContext(b.ctx).Target.TargetID
	deadline := time.Now().Add(browserStepTimeout)
	for {
		targets, err := chromedp.Targets(b.opener.ctx)
		if err == nil && !slices.ContainsFunc(targets, func(info *target.Info) bool { return info.TargetID == id }) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: the %s did not close", what, b.label)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leaveBeforeStopping navigates the tab away when the test ends, before
// the servers started so far stop: a live stream would otherwise try to
// reconnect to a stopped server and report it in the console.
func (b *browserTab) leaveBeforeStopping() {
	b.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
		defer cancel()
		_ = chromedp.Do(ctx, chromedp.Navigate("about:blank"))
	})
}

// attr is a CSS attribute selector part with a quoted value.
func attr(name, value string) string {
	return fmt.Sprintf(`[%s=%q]`, name, value)
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
