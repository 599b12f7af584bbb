package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// redisLimiter shares buckets across replicas through Redis (GCRA, atomic
// in a Lua script run by redis_rate).
type redisLimiter struct {
	limiter *redis_rate.Limiter
	prefix  string
	limit   redis_rate.Limit
}

// NewRedis returns a limiter whose state lives in Redis under prefix+key.
func NewRedis(client *redis.Client, prefix string, l Limit) Limiter {
	if l.Disabled() {
		return unlimited{}
	}
	return &redisLimiter{
		limiter: redis_rate.NewLimiter(client),
		prefix:  prefix,
		limit:   redis_rate.Limit{Rate: l.Requests, Burst: l.Requests, Period: l.Per},
	}
}

func (r *redisLimiter) Allow(ctx context.Context, key string) (Decision, error) {
	res, err := r.limiter.Allow(ctx, r.prefix+key, r.limit)
	if err != nil {
		return Decision{}, err
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

// OpenRedis connects to url and checks Redis answers. Errors never carry
// the URL, which may hold a password.
func OpenRedis(ctx context.Context, url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("not a valid redis:// URL")
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		// The ping error names the address at most, never the password.
		return nil, fmt.Errorf("redis at %s does not answer: %w", opts.Addr, err)
	}
	return client, nil
}
