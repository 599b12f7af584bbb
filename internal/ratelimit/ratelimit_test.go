package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    Limit
		wantErr bool
	}{
		{"20/min", Limit{20, time.Minute}, false},
		{"5/s", Limit{5, time.Second}, false},
		{"100/h", Limit{100, time.Hour}, false},
		{" 7/Minute ", Limit{7, time.Minute}, false},
		{"off", Limit{}, false},
		{"0", Limit{}, false},
		{"", Limit{}, true},
		{"20", Limit{}, true},
		{"-1/min", Limit{}, true},
		{"20/fortnight", Limit{}, true},
		{"lots/min", Limit{}, true},
	}
	for _, tc := range tests {
		got, err := ParseLimit(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseLimit(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

// countAllowed fires n concurrent requests for key and counts admissions.
func countAllowed(t *testing.T, limiters []Limiter, key string, n int) int {
	t.Helper()
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := limiters[i%len(limiters)].Allow(context.Background(), key)
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				allowed.Add(1)
			} else if d.RetryAfter <= 0 {
				t.Errorf("denied without RetryAfter: %+v", d)
			}
		}()
	}
	wg.Wait()
	return int(allowed.Load())
}

func TestMemoryAdmitsExactlyTheLimit(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l := newMemory(Limit{10, time.Minute}, clock)
	if got := countAllowed(t, []Limiter{l}, "user:a", 100); got != 10 {
		t.Fatalf("admitted %d of 100, want 10", got)
	}
	if got := countAllowed(t, []Limiter{l}, "user:b", 5); got != 5 {
		t.Fatalf("another key is limited too: %d", got)
	}
	mu.Lock()
	now = now.Add(6 * time.Second) // one token back at 10/min
	mu.Unlock()
	if got := countAllowed(t, []Limiter{l}, "user:a", 10); got != 1 {
		t.Fatalf("after 6s admitted %d, want 1", got)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if got := countAllowed(t, []Limiter{l}, "user:a", 20); got != 10 {
		t.Fatalf("after a full period admitted %d, want 10", got)
	}
	if n := len(l.(*memory).buckets); n != 1 {
		t.Fatalf("idle buckets were not swept: %d remain", n)
	}
}

func TestDisabledLimitAllowsEverything(t *testing.T) {
	if got := countAllowed(t, []Limiter{NewMemory(Limit{})}, "k", 1000); got != 1000 {
		t.Fatalf("disabled limit admitted %d of 1000", got)
	}
}

// redisURL returns TEST_REDIS_URL or skips loudly.
func redisURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		t.Skip("TEST_REDIS_URL not set: Redis rate limit tests SKIPPED")
	}
	return url
}

// randomPrefix keeps parallel or repeated test runs out of each other's keys.
func randomPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "linkbff-test:" + hex.EncodeToString(b[:]) + ":"
}

func TestRedisLimitIsSharedAcrossClients(t *testing.T) {
	url := redisURL(t)
	prefix := randomPrefix()
	var limiters []Limiter
	for range 3 { // three replicas, three connections
		client, err := OpenRedis(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = client.Close() })
		limiters = append(limiters, NewRedis(client, prefix, Limit{10, time.Minute}))
	}
	if got := countAllowed(t, limiters, "user:a", 100); got != 10 {
		t.Fatalf("3 replicas admitted %d of 100, want 10", got)
	}
	if got := countAllowed(t, limiters, "user:b", 3); got != 3 {
		t.Fatalf("another key is limited too: admitted %d of 3", got)
	}
}

func TestRedisDeniesWithRetryAfterAndPrefixIsolates(t *testing.T) {
	client, err := OpenRedis(t.Context(), redisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	limit := Limit{2, time.Hour}
	first := NewRedis(client, randomPrefix(), limit)
	for range 2 {
		if d, err := first.Allow(t.Context(), "ip:1"); err != nil || !d.Allowed {
			t.Fatalf("Allow = %+v, %v; want allowed", d, err)
		}
	}
	d, err := first.Allow(t.Context(), "ip:1")
	if err != nil || d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 30*time.Minute {
		t.Fatalf("third request: %+v, %v; want denied, retry within 30m (2/h)", d, err)
	}
	other := NewRedis(client, randomPrefix(), limit)
	if d, err := other.Allow(t.Context(), "ip:1"); err != nil || !d.Allowed {
		t.Fatalf("a different prefix shares state: %+v, %v", d, err)
	}
	if got := countAllowed(t, []Limiter{NewRedis(client, randomPrefix(), Limit{})}, "k", 50); got != 50 {
		t.Fatalf("disabled Redis limit admitted %d of 50", got)
	}
}

func TestOpenRedisHidesPassword(t *testing.T) {
	for _, url := range []string{
		"redis://:s3cretpass@127.0.0.1:1/0",          // nothing listens
		"redis://user:s3cretpass@127.0.0.1:1/notadb", // unparseable database
		"http://:s3cretpass@127.0.0.1:6379/0",        // wrong scheme
	} {
		_, err := OpenRedis(t.Context(), url)
		if err == nil {
			t.Fatalf("OpenRedis succeeded for a bad URL")
		}
		if strings.Contains(err.Error(), "s3cretpass") {
			t.Fatalf("error leaks the password: %v", err)
		}
	}
}
