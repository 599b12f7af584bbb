package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A development server restarted on the same database must find the
// Junction users its database maps to, with their connections.
func TestStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "linkbff.db.emulator.json")
	withState := func(c *Config) { c.StatePath = path }

	first := newHarness(t, withState)
	alice := first.createUser("alice")
	first.createUser("bob")
	gone := first.createUser("deleted-later")
	lt := first.linkToken(map[string]any{"user_id": alice.UserID, "redirect_url": redirectTarget})
	redirectParams(t, first.Do("GET", first.buttonURL(first.consentURL(lt, "oura"), "approve"), nil), redirectTarget)
	expectStatus(t, first.team("POST", "/_emulator/connection-error", map[string]any{
		"user_id": alice.UserID, "provider": "polar", "error_type": "token_refresh_failed", "message": "expired",
	}), http.StatusOK)
	expectStatus(t, first.team("DELETE", "/v2/user/"+gone.UserID, nil), http.StatusOK)
	pending := first.linkToken(map[string]any{"user_id": alice.UserID})
	before := first.team("GET", "/v2/user/providers/"+alice.UserID, nil)
	first.emu.Close()

	second := newHarness(t, withState)
	r := second.team("GET", "/v2/user/resolve/alice", nil)
	expectStatus(t, r, http.StatusOK)
	assertResponseMatchesSpec(t, "GET", "/v2/user/resolve/{client_user_id}", 200, r.Body)
	var again wireUser
	r.JSON(t, &again)
	if again.UserID != alice.UserID || again.TeamID != alice.TeamID || again.CreatedOn != alice.CreatedOn {
		t.Fatalf("after a restart alice is %+v, was %+v", again, alice)
	}
	after := second.team("GET", "/v2/user/providers/"+alice.UserID, nil)
	expectStatus(t, after, http.StatusOK)
	// Logos are absolute URLs of each server; the rest must be identical.
	if got, want := strings.ReplaceAll(string(after.Body), second.Base, ""), strings.ReplaceAll(string(before.Body), first.Base, ""); got != want {
		t.Errorf("connections after restart:\n%s\nbefore:\n%s", got, want)
	}
	expectStatus(t, second.team("GET", "/v2/user/"+gone.UserID, nil), http.StatusNotFound)
	var page wireUsersPage
	second.team("GET", "/v2/user", nil).JSON(t, &page)
	if page.Total != 2 {
		t.Errorf("%d users after restart, want alice and bob", page.Total)
	}
	// Link tokens are single use and short-lived: they are not kept.
	expectStatus(t, second.Do("GET", strings.Replace(pending.LinkWebURL, first.Base, second.Base, 1), nil), http.StatusBadRequest)
	// The same client_user_id is still taken: linkbff adopts, not duplicates.
	conflict := second.team("POST", "/v2/user", map[string]any{"client_user_id": "alice"})
	expectStatus(t, conflict, http.StatusBadRequest)
	assertResponseMatchesSpec(t, "POST", "/v2/user", 400, conflict.Body)
}

// Changes reach the file while the emulator runs, not only on Close, so a
// killed development server loses little.
func TestStateSavedWhileRunning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	h := newHarness(t, func(c *Config) { c.StatePath = path })
	u := h.createUser("carol")
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw, err := os.ReadFile(path)
		if err == nil && bytes.Contains(raw, []byte(u.UserID)) {
			var saved savedState
			if err := json.Unmarshal(raw, &saved); err != nil {
				t.Fatalf("state file is not JSON: %v", err)
			}
			if saved.Version != stateFileVersion || saved.TeamID != u.TeamID {
				t.Fatalf("state file header %+v", saved)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state file never named the new user (err %v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.emu.Close()
	leftovers, _ := filepath.Glob(path + ".tmp-*")
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

// A file the emulator cannot read is kept (moved aside), never deleted,
// and the emulator starts empty instead of refusing to start.
func TestUnreadableStateFileIsMovedAside(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":      `{"version":1,"users":[`,
		"other version": `{"version":99,"users":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, func(c *Config) { c.StatePath = path })
			var page wireUsersPage
			h.team("GET", "/v2/user", nil).JSON(t, &page)
			if page.Total != 0 {
				t.Fatalf("%d users from an unreadable file", page.Total)
			}
			aside, _ := filepath.Glob(path + ".unreadable-*")
			if len(aside) != 1 {
				t.Fatalf("want the old file moved aside once, found %v", aside)
			}
			if kept, _ := os.ReadFile(aside[0]); string(kept) != content {
				t.Fatalf("moved-aside file holds %q, want the original %q", kept, content)
			}
		})
	}
}
