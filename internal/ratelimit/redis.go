package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"github.com/rs/zerolog"
)

// A rate limit is worth a few milliseconds of a request, never a stall:
// go-redis's defaults (5 s reads, 6 s for a pool slot) would hold every
// limited request that long while Redis hangs.
const (
	redisDialTimeout = 250 * time.Millisecond
	redisIOTimeout   = 200 * time.Millisecond
	redisPoolTimeout = 250 * time.Millisecond
	// redisCallBudget bounds one limiter call, retries included, however
	// long the request itself may still run.
	redisCallBudget = 250 * time.Millisecond
)

// Redis is one Redis connection shared by several limits, behind one
// circuit breaker: when Redis fails, every limit fails open at once and
// the log says so once.
type Redis struct {
	client  *redis.Client
	breaker *breaker
}

// OpenRedis connects to url. Only a URL that cannot work is an error; a
// Redis that does not answer yet is logged, and limits fail open until it
// does. Errors and log lines never carry the URL, which may hold a password.
func OpenRedis(ctx context.Context, url string, log zerolog.Logger) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("not a valid redis:// URL")
	}
	opts.DialTimeout = redisDialTimeout
	opts.ReadTimeout = redisIOTimeout
	opts.WriteTimeout = redisIOTimeout
	opts.PoolTimeout = redisPoolTimeout
	opts.ContextTimeoutEnabled = true // request deadlines bound each call too
	opts.MaxRetries = -1              // a retry would double the wait; the breaker decides instead
	opts.DialerRetries = 1
	opts.DisableIdentity = true // no CLIENT SETINFO round trip on each dial
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	log = log.With().Str("component", "redis").Str("redis_addr", opts.Addr).Logger()
	// go-redis logs pool and dial trouble through one process-wide logger,
	// by default as plain text on stderr; route it into the JSON log.
	redis.SetLogger(redisLogger{log})

	r := &Redis{client: redis.NewClient(opts), breaker: newBreaker(log, time.Now)}
	if err := r.Ping(ctx); err != nil {
		r.breaker.trip(err)
	}
	return r, nil
}

// Ping asks Redis whether it answers, within the call budget.
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, redisCallBudget)
	defer cancel()
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis does not answer: %w", err)
	}
	return nil
}

// Close closes the connections.
func (r *Redis) Close() error { return r.client.Close() }

// Limiter returns a limit whose state lives in Redis under prefix+key,
// shared by every replica that uses the same Redis and prefix.
func (r *Redis) Limiter(prefix string, l Limit) Limiter {
	if l.Disabled() {
		return unlimited{}
	}
	return &redisLimiter{
		redis:   r,
		limiter: redis_rate.NewLimiter(r.client),
		prefix:  prefix,
		limit:   redis_rate.Limit{Rate: l.Requests, Burst: l.Requests, Period: l.Per},
	}
}

// redisLimiter shares buckets across replicas through Redis (GCRA, atomic
// in a Lua script run by redis_rate).
type redisLimiter struct {
	redis   *Redis
	limiter *redis_rate.Limiter
	prefix  string
	limit   redis_rate.Limit
}

// Allow asks Redis, unless the breaker is open. Rate limits protect
// Junction's quota, not correctness, so any Redis failure lets the request
// through; only the breaker's state changes are logged.
func (r *redisLimiter) Allow(ctx context.Context, key string) (Decision, error) {
	b := r.redis.breaker
	if !b.admit() {
		return Decision{Allowed: true}, nil
	}
	callCtx, cancel := context.WithTimeout(ctx, redisCallBudget)
	defer cancel()
	res, err := r.limiter.Allow(callCtx, r.prefix+key, r.limit)
	if ctx.Err() != nil {
		// The request ended first; that says nothing about Redis.
		b.release()
		return Decision{Allowed: true}, nil
	}
	b.record(err)
	if err != nil {
		return Decision{Allowed: true}, nil
	}
	if res.Allowed == 0 {
		retry := res.RetryAfter
		if retry <= 0 {
			retry = time.Second
		}
		return Decision{RetryAfter: retry}, nil
	}
	return Decision{Allowed: true}, nil
}

// redisLogger is go-redis's logger writing to zerolog.
type redisLogger struct{ log zerolog.Logger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Warn().Msg(fmt.Sprintf(format, v...))
}
