package ratelimit

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/testkit"
)

// syncBuffer is a log sink safe for go-redis's background goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestBreakerOpensAndClosesOnceEach(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var log syncBuffer
	b := newBreaker(zerolog.New(&log), func() time.Time { return now })
	down := errors.New("i/o timeout")
	for i := range breakerThreshold {
		if !b.admit() {
			t.Fatalf("closed breaker refused call %d", i+1)
		}
		b.record(down)
	}
	for range 100 {
		if b.admit() {
			t.Fatal("open breaker let a call through during its cool-off")
		}
	}
	now = now.Add(breakerCoolOff)
	if !b.admit() {
		t.Fatal("no probe after the cool-off")
	}
	if b.admit() {
		t.Fatal("a second probe while the first runs")
	}
	b.record(down) // the probe failed: still open, nothing new logged
	if b.admit() {
		t.Fatal("a failed probe did not restart the cool-off")
	}
	now = now.Add(breakerCoolOff)
	if !b.admit() {
		t.Fatal("no probe after the second cool-off")
	}
	b.record(nil)
	for range 10 {
		if !b.admit() {
			t.Fatal("closed breaker refused a call")
		}
		b.record(nil)
	}
	log.loggedOnce(t, msgOpened, msgClosed)
}

const (
	msgOpened = "rate limits are not enforced"
	msgClosed = "rate limits are enforced again"
)

// loggedOnce fails unless each message was logged exactly once.
func (b *syncBuffer) loggedOnce(t *testing.T, messages ...string) {
	t.Helper()
	for _, m := range messages {
		if n := strings.Count(b.String(), m); n != 1 {
			t.Errorf("%q logged %d times:\n%s", m, n, b.String())
		}
	}
}

// A Redis that hangs (SIGSTOP) costs each limited request at most the call
// budget, and nothing once the breaker opens; limits fail open.
func TestHungRedisFailsOpenFast(t *testing.T) {
	srv := testkit.StartRedis(t)
	var log syncBuffer
	rdb := openRedis(t, srv.URL, zerolog.New(&log))
	rdb.breaker.coolOff = 300 * time.Millisecond
	limiter := rdb.Limiter(randomPrefix(), Limit{1000, time.Minute})
	if d, err := limiter.Allow(t.Context(), "k"); err != nil || !d.Allowed {
		t.Fatalf("healthy Redis: %+v, %v", d, err)
	}
	srv.Pause()
	var worst time.Duration
	for range 20 {
		start := time.Now()
		d, err := limiter.Allow(t.Context(), "k")
		worst = max(worst, time.Since(start))
		if err != nil || !d.Allowed {
			t.Fatalf("hung Redis: %+v, %v; want allowed", d, err)
		}
	}
	// Bounds only a stall (go-redis's defaults wait 5 s and more), not speed.
	if worst > 2*time.Second {
		t.Fatalf("a limited request waited %s on a hung Redis", worst)
	}
	t.Logf("worst wait on a hung Redis: %s (call budget %s)", worst, redisCallBudget)
	if err := rdb.Ping(t.Context()); err == nil {
		t.Fatal("Ping reports a hung Redis healthy")
	}
	srv.Resume()
	testkit.Eventually(t, "the breaker to close once Redis answers", func() bool {
		_, _ = limiter.Allow(t.Context(), "k")
		return strings.Contains(log.String(), msgClosed)
	})
	log.loggedOnce(t, msgOpened, msgClosed)
}

// go-redis's own messages reach the JSON log, never stderr as plain text.
func TestRedisClientLogsAreJSON(t *testing.T) {
	srv := testkit.StartRedis(t)
	var log syncBuffer
	rdb := openRedis(t, srv.URL, zerolog.New(&log))
	srv.Stop()
	_ = rdb.Ping(t.Context()) // the pooled connection is dead: go-redis redials and says so
	_ = rdb.Ping(t.Context())
	testkit.Eventually(t, "go-redis to log its dial failure", func() bool {
		_ = rdb.Ping(t.Context())
		return strings.Contains(log.String(), "failed to dial")
	})
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("not a JSON log line: %q", line)
		}
	}
}
