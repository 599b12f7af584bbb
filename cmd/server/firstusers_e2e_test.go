package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/testkit"
)

// 1,000 users (300 under the race detector) sending their first request at
// the same instant each get a link token, and Junction ends up with exactly one user each. (The
// benchmark, cmd/bench, reports the latencies against the goal of 1 s;
// this test checks the outcome only.)
func TestThousandConcurrentFirstUsers(t *testing.T) {
	users := 1000
	if raceEnabled {
		// The race detector makes each request several times dearer, and
		// 1,000 of them at once share two cores: on a slow machine the
		// last would meet the 20 s request deadline. 300 at once race for
		// the same creates just as well.
		users = 300
	}
	s := productionServer(t, nil)
	tokens := make([]string, users)
	for i := range tokens {
		tokens[i] = s.idp.SignES256(t, testkit.Claims(fmt.Sprintf("first-user-%d", i)))
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: users}, Timeout: time.Minute}
	defer client.CloseIdleConnections()
	statuses := make([]int, users)
	bodies := make([]string, users)
	latencies := make([]time.Duration, users)
	var wg sync.WaitGroup
	fire := make(chan struct{})
	for i, token := range tokens {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, s.URL+"/v1/link/token", strings.NewReader(`{}`))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			<-fire
			began := time.Now()
			res, err := client.Do(req)
			latencies[i] = time.Since(began)
			if err != nil {
				t.Errorf("user %d: %v", i, err)
				return
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			statuses[i], bodies[i] = res.StatusCode, string(body)
		})
	}
	close(fire)
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Errorf("user %d: status %d after %s: %s", i, st, latencies[i].Round(time.Millisecond), bodies[i])
		}
	}
	if n := s.emu.UserCount(); n != users {
		t.Fatalf("%d concurrent first users made %d Junction users, want %d", users, n, users)
	}
	if n := s.calls.count("POST /v2/user"); n != users {
		t.Errorf("%d user creates at Junction, want %d", n, users)
	}
	slices.Sort(latencies)
	t.Logf("latency p50 %s, max %s (race detector on: %v)", latencies[users/2], latencies[users-1], raceEnabled)
}
