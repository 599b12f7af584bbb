package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/testkit"
)

// tokenLoad is how a burst of token requests went.
type tokenLoad struct {
	statuses  map[int]int
	latencies []time.Duration
	// failures counts each non-200 answer's status and error message, so a
	// failed run says why, not only how often.
	failures map[string]int
	// unavailableWithoutRetryAfter counts 503s that do not tell the app
	// when to come back.
	unavailableWithoutRetryAfter int
}

func (l tokenLoad) total() int { return len(l.latencies) }

func (l tokenLoad) successRate() float64 {
	return 100 * float64(l.statuses[http.StatusOK]) / float64(l.total())
}

// worst is the slowest answer.
func (l tokenLoad) worst() time.Duration { return slices.Max(l.latencies) }

// median is the middle answer time.
func (l tokenLoad) median() time.Duration {
	sorted := slices.Clone(l.latencies)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}

// loadTokens sends n POST /v1/link/token, spread over tokens, concurrency
// at a time.
func loadTokens(t *testing.T, s *testkit.Server, tokens []string, n, concurrency int) tokenLoad {
	t.Helper()
	var mu sync.Mutex
	load := tokenLoad{statuses: map[int]int{}, failures: map[string]int{}}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				start := time.Now()
				r, err := s.Send(http.MethodPost, "/v1/link/token", nil, testkit.Bearer(tokens[i%len(tokens)])...)
				took := time.Since(start)
				status := r.Status
				if err != nil {
					status = -1 // linkbff dropped the connection: never acceptable
				}
				mu.Lock()
				if status != http.StatusOK {
					load.failures[failureOf(r, took, err)]++
				}
				if status == http.StatusServiceUnavailable && r.Header.Get("Retry-After") == "" {
					load.unavailableWithoutRetryAfter++
				}
				load.statuses[status]++
				load.latencies = append(load.latencies, took)
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return load
}

// failureOf names a failed answer: its status, error message and
// Retry-After, or the transport error.
func failureOf(r testkit.Response, took time.Duration, err error) string {
	if err != nil {
		return err.Error()
	}
	var body struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(r.Body, &body)
	return fmt.Sprintf("%d %s %q (Retry-After %q, after %s)", r.Status, body.Error.Code, body.Error.Message,
		r.Header.Get("Retry-After"), took.Round(100*time.Millisecond))
}

// unacceptable counts the answers no fault may cause: 500s (a bug, not a
// fault), any other undocumented 5xx and dropped connections.
func (l tokenLoad) unacceptable() int {
	n := 0
	for status, count := range l.statuses {
		if status < 0 || (status >= 500 && status != http.StatusBadGateway && status != http.StatusServiceUnavailable) {
			n += count
		}
	}
	return n
}

// TestFaultInjection puts a fault proxy between linkbff (production mode)
// and the emulator and breaks Junction in the ways it breaks, then pauses
// and stops Redis. It prints the figures issue 9 sets goals for (`go test
// -v -run TestFaultInjection ./cmd/server`) and fails on any 500, dropped
// connection, duplicate Junction user or a success rate under 99.9 % with
// 10 % upstream 503s.
func TestFaultInjection(t *testing.T) {
	env := newProdEnv(t)
	proxy := testkit.NewFaultProxy(t, env.emuURL)
	env.start(t, map[string]string{
		"JUNCTION_BASE_URL": proxy.URL,
		// The client's real backoff (1 s, doubled) would make this test slow,
		// not different.
		"JUNCTION_RETRY_BACKOFF": "5ms",
		"LOG_LEVEL":              "info",
	})
	var users []string
	tokensFor := func(prefix string, n int) []string {
		var tokens []string
		for i := range n {
			user := fmt.Sprintf("%s-%d", prefix, i)
			users = append(users, user)
			tokens = append(tokens, env.idp.Sign(t, testkit.Claims(user)))
		}
		return tokens
	}

	scenarios := []struct {
		name     string
		faults   []testkit.Fault
		requests int
		// minSuccess is the share of 200s the scenario must reach.
		minSuccess float64
	}{
		// With 3 retries a call fails only when 4 draws in a row hit: 1 in
		// 10,000 here, so 2,000 requests allow 2 failures.
		{"10% upstream 503", []testkit.Fault{{Kind: testkit.FaultStatus, Rate: 0.10, Status: http.StatusServiceUnavailable}}, 2000, 99.9},
		// 1 in 625 calls meets four 429s and answers 503 with Retry-After
		// after waiting 3 s; requests sharing a user's first create share
		// its failure too.
		{"20% upstream 429 with Retry-After: 1", []testkit.Fault{{Kind: testkit.FaultStatus, Rate: 0.20, Status: http.StatusTooManyRequests, RetryAfter: "1"}}, 100, 95},
		{"10% connection resets (half after Junction acted)", []testkit.Fault{
			{Kind: testkit.FaultReset, Rate: 0.05}, {Kind: testkit.FaultResetAfter, Rate: 0.05}}, 500, 99},
		{"10% slow responses (300 ms)", []testkit.Fault{{Kind: testkit.FaultDelay, Rate: 0.10, Delay: 300 * time.Millisecond}}, 200, 100},
		// A garbled 200 is retried like a 503 (a garbled user creation
		// then meets the user it made, and adopts it).
		{"5% malformed JSON from Junction", []testkit.Fault{{Kind: testkit.FaultGarbage, Rate: 0.05}}, 300, 99.9},
	}
	for i, sc := range scenarios {
		tokens := tokensFor(fmt.Sprintf("fault%d", i), 20)
		injectedBefore := 0
		for _, f := range sc.faults {
			injectedBefore += proxy.Injected(f.Kind)
		}
		proxy.Inject(sc.faults...)
		load := loadTokens(t, env.Server, tokens, sc.requests, 8)
		proxy.Inject()
		injected := -injectedBefore
		for _, f := range sc.faults {
			injected += proxy.Injected(f.Kind)
		}
		t.Logf("%-50s token requests %4d  faults injected %3d  success %6.2f%%  500s %d  statuses %v  median %s  worst %s",
			sc.name, load.total(), injected, load.successRate(), load.statuses[http.StatusInternalServerError], load.statuses,
			load.median().Round(time.Millisecond), load.worst().Round(time.Millisecond))
		if len(load.failures) > 0 {
			t.Logf("%-50s failures %v", "", load.failures)
		}
		if injected == 0 {
			t.Errorf("%s: the proxy injected nothing", sc.name)
		}
		if n := load.unacceptable(); n > 0 {
			t.Errorf("%s: %d answers were 500s, other undocumented 5xx or dropped connections: %v", sc.name, n, load.statuses)
		}
		if n := load.unavailableWithoutRetryAfter; n > 0 {
			t.Errorf("%s: %d answers were 503 without Retry-After", sc.name, n)
		}
		if load.successRate() < sc.minSuccess {
			t.Errorf("%s: success %.2f%%, want at least %.1f%%; failures: %v", sc.name, load.successRate(), sc.minSuccess, load.failures)
		}
	}

	// Every app user has one Junction user, however its creation was
	// retried, reset or answered with garbage.
	for _, user := range users {
		env.JunctionUserID(env.idp.Sign(t, testkit.Claims(user)))
	}
	duplicates := env.emu.UserCount() - len(users)
	t.Logf("%-50s app users %d  Junction users %d  duplicates %d", "Junction users after all faults", len(users), env.emu.UserCount(), duplicates)
	if duplicates != 0 {
		t.Errorf("%d app users have %d Junction users", len(users), env.emu.UserCount())
	}

	t.Run("redis paused and stopped", func(t *testing.T) { redisFaults(t, env) })
	t.Run("postgres connections killed", func(t *testing.T) { postgresFaults(t, env) })
}

// postgresFaults kills linkbff's database connections again and again under
// load, as a failover or pg_terminate_backend would: no request may fail
// with a 500 or a dropped connection.
func postgresFaults(t *testing.T, env *prodEnv) {
	dbURL, application := testkit.PostgresSchema(t)
	env.start(t, map[string]string{"DATABASE_URL": dbURL, "RATE_LIMIT_USER": "off", "LOG_LEVEL": "info"})
	tokens := []string{env.idp.Sign(t, testkit.Claims("pg-1")), env.idp.Sign(t, testkit.Claims("pg-2"))}
	loadTokens(t, env.Server, tokens, 20, 4) // users created, pool warm
	stop := make(chan struct{})
	killed := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				killed <- n
				return
			case <-time.After(20 * time.Millisecond):
				n += testkit.TerminatePostgresBackends(t, application)
			}
		}
	}()
	load := loadTokens(t, env.Server, tokens, 2000, 8)
	close(stop)
	t.Logf("%-50s token requests %4d  success %6.2f%%  connections killed %d  statuses %v", "PostgreSQL connections killed under load",
		load.total(), load.successRate(), <-killed, load.statuses)
	if n := load.unacceptable(); n != 0 {
		t.Errorf("%d requests failed with a 500 or a dropped connection: %v", n, load.statuses)
	}
	if n := load.unavailableWithoutRetryAfter; n > 0 {
		t.Errorf("%d answers were 503 without Retry-After", n)
	}
	// Every 20 ms all of linkbff's connections die: a request may meet a
	// dead one twice and answer 503 with Retry-After, which the app retries.
	if load.successRate() < 95 {
		t.Errorf("only %.2f%% of token requests succeeded while connections were killed: %v", load.successRate(), load.statuses)
	}
}

// redisFaults measures what a hung and a dead Redis add to token requests.
func redisFaults(t *testing.T, env *prodEnv) {
	redis := testkit.StartRedis(t)
	env.start(t, map[string]string{"REDIS_URL": redis.URL, "RATE_LIMIT_USER": "100000/min", "LOG_LEVEL": "info"})
	tokens := []string{env.idp.Sign(t, testkit.Claims("redis-1")), env.idp.Sign(t, testkit.Claims("redis-2"))}
	loadTokens(t, env.Server, tokens, 20, 4) // users created, connections warm
	healthy := loadTokens(t, env.Server, tokens, 200, 4)

	redis.Pause()
	hung := loadTokens(t, env.Server, tokens, 200, 4)
	redis.Resume()
	redis.Stop()
	dead := loadTokens(t, env.Server, tokens, 200, 4)

	added := hung.worst() - healthy.median()
	for _, phase := range []struct {
		name string
		load tokenLoad
	}{{"Redis healthy", healthy}, {"Redis paused (SIGSTOP)", hung}, {"Redis stopped", dead}} {
		t.Logf("%-50s token requests %4d  success %6.2f%%  median %s  worst %s", phase.name, phase.load.total(), phase.load.successRate(),
			phase.load.median().Round(time.Millisecond), phase.load.worst().Round(time.Millisecond))
		if phase.load.successRate() != 100 {
			t.Errorf("%s: %v", phase.name, phase.load.statuses)
		}
	}
	t.Logf("%-50s %s (goal < 300 ms)", "worst latency added while Redis hangs", added.Round(time.Millisecond))
	// A bound on stalls (go-redis's defaults stall 5-10 s), not a speed
	// target: the figure above is the one to watch.
	if added > 1500*time.Millisecond {
		t.Errorf("a hung Redis added %s to a token request", added)
	}
}
