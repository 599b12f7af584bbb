package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/testkit"
)

type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func readyz(t *testing.T, s *testkit.Server) (int, readiness, time.Duration) {
	t.Helper()
	start := time.Now()
	r := s.Do(http.MethodGet, "/readyz", nil)
	took := time.Since(start)
	var body readiness
	r.JSON(t, &body)
	return r.Status, body, took
}

// Rate limits fail open, so a Redis outage degrades linkbff but must not
// take every replica out of the load balancer; /readyz says "degraded",
// answers 200, and does not wait on the hung Redis.
func TestRedisOutageDegradesButKeepsReady(t *testing.T) {
	redis := testkit.StartRedis(t)
	s := testkit.Start(t, run, map[string]string{"REDIS_URL": redis.URL, "RATE_LIMIT_USER": "5/min"})
	token := s.DevToken("redis-outage")
	if status, body, _ := readyz(t, s); status != http.StatusOK || body.Status != "ready" || body.Checks["redis"] != "ok" {
		t.Fatalf("healthy: %d %+v", status, body)
	}
	for _, fault := range []struct {
		name   string
		inject func()
	}{{"paused", redis.Pause}, {"stopped", redis.Stop}} {
		name := fault.name
		fault.inject()
		status, body, took := readyz(t, s)
		if status != http.StatusOK || body.Status != "degraded" || body.Checks["redis"] != "degraded" || body.Checks["database"] != "ok" {
			t.Errorf("Redis %s: /readyz %d %+v, want 200 degraded", name, status, body)
		}
		if took > 2*time.Second { // a stall, not a speed target: the check itself has a 250 ms budget
			t.Errorf("Redis %s: /readyz took %s", name, took)
		}
		if r := s.Request(http.MethodPost, "/v1/link/token", token, nil); r.Status != http.StatusOK {
			t.Errorf("Redis %s: token request %d %s", name, r.Status, r.Body)
		}
	}
}
