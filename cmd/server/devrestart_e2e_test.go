package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/testkit"
)

// A newcomer stops go run ./cmd/server and starts it again: the users of the
// last run are still the same Junction users, with their connections, and
// the walkthrough carries on.
func TestDevModeRestartKeepsEmulatorUsers(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "linkbff.db")}
	connect := func(s *testkit.Server, token, provider string) {
		t.Helper()
		callback := s.FinishLink(s.NewLinkToken(token, map[string]any{"provider": provider}), provider, testkit.Act("approve"))
		if !strings.Contains(callback, "state=success") {
			t.Fatalf("connect %s: emulator redirected to %s", provider, callback)
		}
		s.Request(http.MethodGet, callback, "", nil, "Accept", "application/json")
		testkit.Eventually(t, provider+" listed as connected", func() bool {
			status, _ := s.Connections(token).Status(provider)
			return status == "connected"
		})
	}

	first := testkit.Start(t, run, env)
	token := first.DevToken("alice")
	connect(first, token, "oura")
	junctionUser := first.JunctionUserID(token)
	first.Stop()

	second := testkit.Start(t, run, env)
	token = second.DevToken("alice")
	if got := second.JunctionUserID(token); got != junctionUser {
		t.Fatalf("after a restart alice is Junction user %s, was %s", got, junctionUser)
	}
	if status, _ := second.Connections(token).Status("oura"); status != "connected" {
		t.Fatalf("after a restart Oura is %q, want still connected", status)
	}
	connect(second, token, "fitbit")
}
