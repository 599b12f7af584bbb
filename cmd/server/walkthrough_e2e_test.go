package main

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/testkit"
)

// The README's curl walkthrough, step by step, ending on a real page: the
// demo at return_to "$B/" shows the link_status it comes back with. It runs
// as on the host (go run ./cmd/server) and as in the README's container
// command (listening on all interfaces, PUBLIC_URL naming the address the
// browser uses).
func TestREADMEWalkthroughEndsOnARealPage(t *testing.T) {
	_, port, _ := net.SplitHostPort(testkit.FreeAddr(t))
	setups := map[string]map[string]string{
		"host": nil,
		"container": {
			"LISTEN_ADDR":            "0.0.0.0:" + port,
			"ALLOW_NETWORK_DEV_MODE": "true",
			"PUBLIC_URL":             "http://127.0.0.1:" + port,
		},
	}
	for name, env := range setups {
		t.Run(name, func(t *testing.T) {
			s := testkit.Start(t, run, env)
			walkThroughREADME(t, s, s.URL)
		})
	}
}

// Without PUBLIC_URL, a container names itself http://localhost:8080, so
// the README's 127.0.0.1 return_to is refused, clearly: this is why the
// README's container command sets PUBLIC_URL.
func TestContainerWithoutPublicURLRefusesOtherReturnHost(t *testing.T) {
	_, port, _ := net.SplitHostPort(testkit.FreeAddr(t))
	s := testkit.Start(t, run, map[string]string{"LISTEN_ADDR": "0.0.0.0:" + port, "ALLOW_NETWORK_DEV_MODE": "true"})
	if !strings.HasPrefix(s.URL, "http://localhost:") {
		t.Fatalf("PUBLIC_URL in a container defaults to %s", s.URL)
	}
	client := testkit.NewClient(t, "http://127.0.0.1:"+port)
	token := client.DevToken("alice")
	r := client.Request(http.MethodPost, "/v1/link/token", token, map[string]any{"provider": "oura", "return_to": "http://127.0.0.1:" + port + "/"})
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"field":"return_to"`) {
		t.Fatalf("return_to on another host than PUBLIC_URL: %d %s", r.Status, r.Body)
	}
}

// walkThroughREADME does what the README's "Walk through the dev flow with
// curl" does, with B = base.
func walkThroughREADME(t *testing.T, s *testkit.Server, base string) {
	t.Helper()
	c := testkit.NewClient(t, base)
	// 1. sign in
	token := c.DevToken("alice")
	// 2. a link token that brings the user back to the demo page
	lt := c.NewLinkToken(token, map[string]any{"provider": "oura", "return_to": base + "/"})
	if !strings.HasPrefix(lt.LinkWebURL, base+"/_junction/link/?token=") {
		t.Fatalf("link_web_url %s is not under B", lt.LinkWebURL)
	}
	// 3. approve without a browser, then follow the callback
	complete := base + "/_junction/link/complete?action=approve&provider=oura&token=" + url.QueryEscape(lt.LinkToken)
	r := c.Do(http.MethodGet, complete, nil)
	callback := r.Header.Get("Location")
	if r.Status != http.StatusTemporaryRedirect || !strings.HasPrefix(callback, base+"/link/callback/") || !strings.Contains(callback, "state=success") {
		t.Fatalf("approve: %d → %q", r.Status, callback)
	}
	r = c.Do(http.MethodGet, callback, nil)
	back := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || back != base+"/?link_status=connected&provider=oura" {
		t.Fatalf("callback: %d → %q, want %s/?link_status=connected&provider=oura", r.Status, back, base)
	}
	// ... which is a real page: the demo, which shows link_status.
	page := c.Do(http.MethodGet, back, nil)
	if page.Status != http.StatusOK || !strings.Contains(page.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(page.Body), `id="outcome"`) {
		t.Fatalf("the walkthrough ends on %d %s", page.Status, page.Header.Get("Content-Type"))
	}
	// 4. the webhook arrived: Oura is connected
	testkit.Eventually(t, "Oura connected", func() bool {
		status, _ := c.Connections(token).Status("oura")
		return status == "connected"
	})
	// 5. make it fail, as Junction would report it
	r = c.Do(http.MethodPost, "/_junction/_emulator/connection-error", map[string]string{
		"user_id": c.JunctionUserID(token), "provider": "oura", "error_type": "token_refresh_failed", "message": "expired"})
	if r.Status != http.StatusOK {
		t.Fatalf("connection-error: %d %s", r.Status, r.Body)
	}
	testkit.Eventually(t, "Oura in error", func() bool {
		status, _ := c.Connections(token).Status("oura")
		return status == "error"
	})
	// 6. disconnect, and delete the user
	if r := c.Request(http.MethodDelete, "/v1/connections/oura", token, nil); r.Status != http.StatusNoContent {
		t.Fatalf("disconnect: %d %s", r.Status, r.Body)
	}
	if r := c.Request(http.MethodDelete, "/v1/me", token, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete me: %d %s", r.Status, r.Body)
	}
}
