// Package ratelimit limits requests per key (a user, an IP). Limits are
// token buckets (GCRA): up to N at once, refilled at N per period. They live
// in memory by default and in Redis when several replicas must share them.
package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limit is N requests per period; Requests 0 disables limiting.
type Limit struct {
	Requests int
	Per      time.Duration
}

// Disabled reports whether the limit lets everything through.
func (l Limit) Disabled() bool { return l.Requests <= 0 }

var units = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "second": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute,
	"h": time.Hour, "hour": time.Hour,
}

// ParseLimit reads "20/min", "5/s", "100/h"; "0" or "off" disables.
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "off" || s == "0" {
		return Limit{}, nil
	}
	count, unit, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(count)
	per, known := units[unit]
	if !ok || err != nil || n <= 0 || !known {
		return Limit{}, fmt.Errorf("%q is not a rate such as 20/min, 5/s or 100/h (or off)", s)
	}
	return Limit{Requests: n, Per: per}, nil
}

// Decision is a limiter's answer for one request.
type Decision struct {
	Allowed    bool
	RetryAfter time.Duration // > 0 when not allowed
}

// Limiter decides whether a request under key may proceed.
type Limiter interface {
	Allow(ctx context.Context, key string) (Decision, error)
}

type unlimited struct{}

func (unlimited) Allow(context.Context, string) (Decision, error) {
	return Decision{Allowed: true}, nil
}
