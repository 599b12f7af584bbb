package junction

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// failingThen answers the first n requests with status (and Retry-After
// when set), then serves success.
func failingThen(n int32, status int, retryAfter, success string) (http.HandlerFunc, *atomic.Int32) {
	var count atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if count.Add(1) <= n {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			writeJSON(w, status, `{"detail":"try later"}`)
			return
		}
		writeJSON(w, 200, success)
	}, &count
}

func TestRetriesThenSucceeds(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		call       func(*Client) error
		wantDelays []time.Duration // nil: check only the count, within jitter bounds
	}{
		{"429 honours Retry-After seconds", 429, "2", resolveUser, []time.Duration{2 * time.Second, 2 * time.Second}},
		{"429 Retry-After capped at 60s", 429, "3600", resolveUser, []time.Duration{time.Minute, time.Minute}},
		{"503 backs off exponentially", 503, "", resolveUser, nil},
		{"408 retried", 408, "", resolveUser, nil},
		{"500 on POST /v2/user retried", 500, "", createUser, nil},
		{"502 on POST /v2/link/token retried", 502, "", linkToken, nil},
		{"504 on DELETE retried", 504, "", func(c *Client) error { return c.DeleteUser(context.Background(), "u-1") }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler, count := failingThen(2, tt.status, tt.retryAfter, `{"user_id":"u-1","link_token":"t"}`)
			f := newFakeJunction(t, handler)
			c, rec := newTestClient(t, f, func(cfg *Config) { cfg.BaseBackoff = 100 * time.Millisecond })
			if err := tt.call(c); err != nil {
				t.Fatalf("err = %v", err)
			}
			if got := count.Load(); got != 3 {
				t.Fatalf("%d attempts, want 3", got)
			}
			delays := rec.recorded()
			if len(delays) != 2 {
				t.Fatalf("delays = %v", delays)
			}
			if tt.wantDelays != nil {
				if delays[0] != tt.wantDelays[0] || delays[1] != tt.wantDelays[1] {
					t.Fatalf("delays = %v, want %v", delays, tt.wantDelays)
				}
				return
			}
			for i, d := range delays {
				base := 100 * time.Millisecond << i
				if d < base*9/10 || d > base*11/10 {
					t.Fatalf("delay %d = %s, want %s ±10%%", i, d, base)
				}
			}
			// The body is re-sent on every attempt.
			reqs := f.recorded()
			for _, r := range reqs[1:] {
				if r.Body != reqs[0].Body {
					t.Fatalf("retry body %q differs from first %q", r.Body, reqs[0].Body)
				}
			}
		})
	}
}

func resolveUser(c *Client) error {
	_, err := c.ResolveUser(context.Background(), "cu-1")
	return err
}
func createUser(c *Client) error {
	_, err := c.CreateUser(context.Background(), "cu-1")
	return err
}
func linkToken(c *Client) error {
	_, err := c.LinkToken(context.Background(), LinkTokenRequest{UserID: "u-1"})
	return err
}

func TestRetriesTransportErrorThenSucceeds(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, userJSON) })
	var attempts atomic.Int32
	flaky := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if attempts.Add(1) == 1 {
			return nil, errors.New("connection reset by peer")
		}
		return f.Client().Transport.RoundTrip(r)
	})
	c, rec := newTestClient(t, f, func(cfg *Config) { cfg.HTTPClient = &http.Client{Transport: flaky} })
	got, err := c.ResolveUser(context.Background(), "cu-1")
	if err != nil || got != wantUser {
		t.Fatalf("ResolveUser = %+v, %v", got, err)
	}
	if attempts.Load() != 2 || len(rec.recorded()) != 1 {
		t.Fatalf("attempts = %d, sleeps = %v", attempts.Load(), rec.recorded())
	}
}

// A 200 whose body does not parse (garbled or cut short on the way) is
// tried again where the call is safe to repeat, and reported as Malformed
// where it is not.
func TestGarbledSuccessIsRetriedWhenSafe(t *testing.T) {
	garbledOnce := func() (http.HandlerFunc, *atomic.Int32) {
		var n atomic.Int32
		return func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				writeJSON(w, 200, `{"user_id": "unterminated`)
				return
			}
			writeJSON(w, 200, `{"user_id":"u-1","link_token":"t","sign_in_token":"s","client_user_id":"cu-1"}`)
		}, &n
	}
	for name, call := range map[string]func(*Client) error{"create user": createUser, "link token": linkToken} {
		handler, count := garbledOnce()
		c, rec := newTestClient(t, newFakeJunction(t, handler))
		if err := call(c); err != nil || count.Load() != 2 || len(rec.recorded()) != 1 {
			t.Errorf("%s: err %v after %d attempts, sleeps %v; want success on the second", name, err, count.Load(), rec.recorded())
		}
	}
	handler, count := garbledOnce()
	c, _ := newTestClient(t, newFakeJunction(t, handler))
	_, err := c.SignInToken(context.Background(), "u-1")
	if je := asJunctionError(t, err); !je.Malformed() || je.Retryable() || count.Load() != 1 {
		t.Fatalf("sign-in token: %+v after %d attempts; want one attempt, Malformed", je, count.Load())
	}
}

func TestNoRetry(t *testing.T) {
	tests := []struct {
		name   string
		status int
		call   func(*Client) error
	}{
		{"400", 400, resolveUser},
		{"404", 404, resolveUser},
		{"422", 422, resolveUser},
		{"401", 401, resolveUser},
		{"503 on sign_in_token POST", 503, func(c *Client) error {
			_, err := c.SignInToken(context.Background(), "u-1")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler, count := failingThen(100, tt.status, "", "{}")
			f := newFakeJunction(t, handler)
			c, rec := newTestClient(t, f)
			if err := tt.call(c); err == nil {
				t.Fatal("want an error")
			}
			if count.Load() != 1 || len(rec.recorded()) != 0 {
				t.Fatalf("attempts = %d, sleeps = %v; want 1 attempt, no sleep", count.Load(), rec.recorded())
			}
		})
	}
}

func TestRetriesStopAtMaxRetries(t *testing.T) {
	for _, maxRetries := range []int{-1, 1, 3, 5} {
		handler, count := failingThen(100, 503, "", "{}")
		f := newFakeJunction(t, handler)
		c, _ := newTestClient(t, f, func(cfg *Config) { cfg.MaxRetries = maxRetries })
		err := resolveUser(c)
		if je := asJunctionError(t, err); je.StatusCode != 503 || !je.Retryable() {
			t.Fatalf("MaxRetries %d: junction error = %+v, want a retryable 503", maxRetries, je)
		}
		want := int32(max(maxRetries, 0) + 1)
		if count.Load() != want {
			t.Fatalf("MaxRetries %d: %d attempts, want %d", maxRetries, count.Load(), want)
		}
	}
}

func TestRateLimitedAfterRetriesCarriesRetryAfter(t *testing.T) {
	handler, _ := failingThen(100, 429, "9", "{}")
	f := newFakeJunction(t, handler)
	c, _ := newTestClient(t, f, func(cfg *Config) { cfg.MaxRetries = 1 })
	err := resolveUser(c)
	if je := asJunctionError(t, err); je.StatusCode != 429 || je.RetryAfter != 9*time.Second || !je.Retryable() {
		t.Fatalf("junction error = %+v, want a retryable 429 with Retry-After 9s", je)
	}
}

func TestContextCanceledDuringBackoff(t *testing.T) {
	handler, count := failingThen(100, 503, "", "{}")
	f := newFakeJunction(t, handler)
	c, _ := newTestClient(t, f, func(cfg *Config) { cfg.BaseBackoff = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The real sleep, with an hour to wait: only cancellation can end it.
	c.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepUnlessDone(ctx, d)
	}
	_, err := c.ResolveUser(ctx, "cu-1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var je *Error
	if errors.As(err, &je) {
		t.Fatalf("cancellation should pass through, got junction error %+v", je)
	}
	if count.Load() != 1 {
		t.Fatalf("%d attempts after cancel", count.Load())
	}
}

func TestCallerDeadlineIsARetryableTimeout(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, userJSON) })
	c, _ := newTestClient(t, f)
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	_, err := c.ResolveUser(ctx, "cu-1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want one wrapping context.DeadlineExceeded", err)
	}
	if je := asJunctionError(t, err); je.StatusCode != 0 || !je.Retryable() || je.Path != "/v2/user/resolve/cu-1" {
		t.Fatalf("junction error = %+v", je)
	}
}

func TestPerAttemptTimeoutIsRetriedThenReported(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c, rec := newTestClient(t, f, func(cfg *Config) {
		cfg.Timeout = 20 * time.Millisecond
		cfg.MaxRetries = 1
	})
	_, err := c.ResolveUser(context.Background(), "cu-1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want one wrapping context.DeadlineExceeded", err)
	}
	if je := asJunctionError(t, err); je.StatusCode != 0 || !je.Retryable() || je.Path != "/v2/user/resolve/cu-1" {
		t.Fatalf("junction error = %+v", je)
	}
	if len(rec.recorded()) != 1 {
		t.Fatalf("sleeps = %v, want one retry", rec.recorded())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"3", 3 * time.Second},
		{" 45 ", 45 * time.Second},
		{"61", time.Minute},
		{"99999999999999999999", 0},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(time.Hour).Format(http.TimeFormat), time.Minute},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.value, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.value, got, tt.want)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	for attempt := range 12 {
		want := min(time.Second<<attempt, maxDelay)
		for range 50 {
			d := backoff(time.Second, attempt, 0)
			if d < want*9/10 || d > min(want*11/10, maxDelay) {
				t.Fatalf("attempt %d: delay %s outside %s ±10%% (cap 60s)", attempt, d, want)
			}
		}
	}
	if d := backoff(time.Second, 0, 5*time.Second); d != 5*time.Second {
		t.Fatalf("Retry-After not used: %s", d)
	}
}

// A Retry-After longer than the caller can wait ends the call at once with
// Junction's answer, instead of sleeping past the caller's deadline.
func TestNoRetryPastTheCallersDeadline(t *testing.T) {
	handler, count := failingThen(100, 429, "60", "{}")
	f := newFakeJunction(t, handler)
	c, sleeps := newTestClient(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.ResolveUser(ctx, "cu-1")
	if je := asJunctionError(t, err); je.StatusCode != 429 || je.RetryAfter != 60*time.Second {
		t.Fatalf("junction error = %+v, want Junction's 429 with Retry-After 60s", je)
	}
	if count.Load() != 1 || len(sleeps.recorded()) != 0 {
		t.Fatalf("%d attempts and sleeps %v; want 1 attempt, no sleep", count.Load(), sleeps.recorded())
	}
}
