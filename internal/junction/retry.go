package junction

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxDelay caps both our own backoff and a server's Retry-After, as
// Junction's SDKs do.
const maxDelay = 60 * time.Second

// retryableStatus reports whether a response status is worth another try.
func retryableStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests ||
		(status >= 500 && status <= 599)
}

// idempotentMethod reports whether repeating the request cannot do harm.
func idempotentMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// backoff returns the delay before retry number attempt (0-based): the
// server's Retry-After when given, else base·2^attempt with ±10% jitter.
func backoff(base time.Duration, attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, maxDelay)
	}
	d := base
	for i := 0; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	jitter := 0.9 + 0.2*rand.Float64()
	return min(time.Duration(float64(d)*jitter), maxDelay)
}

// parseRetryAfter reads a Retry-After header in either of its forms
// (delay-seconds or HTTP-date). Unknown forms and past dates give 0.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(value, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxDelay/time.Second) {
			return maxDelay
		}
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(value); err == nil {
		if d := at.Sub(now); d > 0 {
			return min(d, maxDelay)
		}
	}
	return 0
}

// sleepUnlessDone waits d or until ctx ends, whichever is first.
func sleepUnlessDone(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
