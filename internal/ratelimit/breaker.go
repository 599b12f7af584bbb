package ratelimit

import (
	"sync"
	"time"

	"github.com/rs/zerolog"
)

const (
	// breakerThreshold consecutive failures open the breaker: one slow
	// answer is not an outage.
	breakerThreshold = 3
	// breakerCoolOff is how long an open breaker keeps requests off Redis
	// before one request probes it again.
	breakerCoolOff = 5 * time.Second
)

// breaker keeps requests off a Redis that fails, so a hung or dead Redis
// costs them nothing: while it is open, limits fail open. After a cool-off
// one request at a time probes Redis; a success closes the breaker. Only
// opening and closing are logged, once each.
type breaker struct {
	log     zerolog.Logger
	now     func() time.Time
	coolOff time.Duration

	mu        sync.Mutex
	failures  int // consecutive
	open      bool
	openUntil time.Time
	probing   bool
}

func newBreaker(log zerolog.Logger, now func() time.Time) *breaker {
	return &breaker{log: log, now: now, coolOff: breakerCoolOff}
}

// admit reports whether a call may go to Redis now; when it says yes, the
// caller must report the outcome with record or release.
func (b *breaker) admit() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return true
	}
	if b.probing || b.now().Before(b.openUntil) {
		return false
	}
	b.probing = true
	return true
}

// release ends an admitted call that says nothing about Redis.
func (b *breaker) release() {
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}

// record notes how an admitted call went.
func (b *breaker) record(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
	if err == nil {
		b.failures = 0
		if b.open {
			b.open = false
			b.log.Info().Msg("redis answers again: rate limits are enforced again")
		}
		return
	}
	b.failures++
	b.log.Debug().Err(err).Msg("redis call failed; request allowed")
	switch {
	case b.open:
		b.openUntil = b.now().Add(b.coolOff)
	case b.failures >= breakerThreshold:
		b.openLocked(err)
	}
}

// trip opens the breaker at once, e.g. for a Redis that does not answer
// at startup.
func (b *breaker) trip(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		b.openLocked(err)
	}
}

func (b *breaker) openLocked(err error) {
	b.open, b.openUntil = true, b.now().Add(b.coolOff)
	b.log.Warn().Err(err).Msg("redis unavailable: rate limits are not enforced until it answers again")
}
