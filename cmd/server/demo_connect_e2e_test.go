package main

import (
	"net/http"
	"testing"

	"github.com/linkbff/linkbff/internal/testkit"
)

// A dev user gets a HealthKit connection without a phone: the emulator's
// demo connection reaches linkbff as Junction's webhook would.
func TestDevModeDemoConnectionShowsInConnections(t *testing.T) {
	s := testkit.Start(t, run, nil)
	token := s.DevToken("dana")
	r := s.Do(http.MethodPost, "/_junction/_emulator/connect-demo", map[string]string{"user_id": s.JunctionUserID(token), "provider": "apple_health_kit"})
	if r.Status != http.StatusOK {
		t.Fatalf("connect-demo: %d %s", r.Status, r.Body)
	}
	testkit.Eventually(t, "HealthKit listed as connected", func() bool {
		status, _ := s.Connections(token).Status("apple_health_kit")
		return status == "connected"
	})
}
