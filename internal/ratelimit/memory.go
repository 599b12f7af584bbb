package ratelimit

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// memory keeps one token bucket per key, in this process only.
type memory struct {
	limit rate.Limit
	burst int
	idle  time.Duration
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	limiter  *rate.Limiter
	lastSeen time.Time
}

// NewMemory returns an in-process limiter.
func NewMemory(l Limit) Limiter { return newMemory(l, time.Now) }

func newMemory(l Limit, now func() time.Time) Limiter {
	if l.Disabled() {
		return unlimited{}
	}
	return &memory{
		limit:   rate.Limit(float64(l.Requests) / l.Per.Seconds()),
		burst:   l.Requests,
		idle:    l.Per, // a bucket idle for a whole period is full again: forget it
		now:     now,
		buckets: map[string]*bucket{},
	}
}

func (m *memory) Allow(_ context.Context, key string) (Decision, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	b, ok := m.buckets[key]
	if !ok {
		b = &bucket{limiter: rate.NewLimiter(m.limit, m.burst)}
		m.buckets[key] = b
	}
	b.lastSeen = now
	r := b.limiter.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return Decision{RetryAfter: delay}, nil
	}
	return Decision{Allowed: true}, nil
}

// sweep drops idle buckets so memory stays bounded by the active keys.
func (m *memory) sweep(now time.Time) {
	if now.Sub(m.lastSweep) < m.idle {
		return
	}
	m.lastSweep = now
	for k, b := range m.buckets {
		if now.Sub(b.lastSeen) >= m.idle {
			delete(m.buckets, k)
		}
	}
}
