package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/linking"
)

// RedisBus carries events with Redis pub/sub, for replicas that share
// Redis but not PostgreSQL.
type RedisBus struct {
	client  *redis.Client
	channel string
	log     zerolog.Logger
}

// OpenRedis connects to url (REDIS_URL) and publishes on channel, which
// names the deployment: two deployments sharing a Redis must not hear each
// other's users.
func OpenRedis(url, channel string, log zerolog.Logger) (*RedisBus, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("events: invalid Redis URL") // the error may quote the password
	}
	// Publishing runs inside requests: it must not wait long on a Redis
	// that is away.
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = time.Second, time.Second, time.Second
	opts.MaxRetries = 1
	return &RedisBus{client: redis.NewClient(opts), channel: channel, log: log.With().Str("component", "events").Logger()}, nil
}

func (b *RedisBus) Name() string { return "redis" }

// RedisChannel names a deployment's channel after its public URL, which
// all its replicas share and other deployments do not.
func RedisChannel(publicURL string) string {
	sum := sha256.Sum256([]byte(publicURL))
	return "linkbff:events:" + hex.EncodeToString(sum[:8])
}

// Publish sends each event to every subscribed replica.
func (b *RedisBus) Publish(ctx context.Context, events []linking.Event) error {
	for _, e := range events {
		payload, err := encodeNotice(e)
		if err != nil {
			return err
		}
		if err := b.client.Publish(ctx, b.channel, payload).Err(); err != nil {
			return err
		}
	}
	return nil
}

// Listen subscribes until ctx ends. go-redis reconnects and subscribes
// again after a failure; each (re)subscription calls resync, since
// messages published meanwhile are lost.
func (b *RedisBus) Listen(ctx context.Context, deliver func(linking.Event), resync func()) {
	sub := b.client.Subscribe(ctx, b.channel)
	// A Receive blocked on the socket does not heed ctx; closing does.
	stop := context.AfterFunc(ctx, func() { _ = sub.Close() })
	defer stop()
	for failures := 0; ; {
		msg, err := sub.Receive(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			if failures == 1 {
				b.log.Warn().Err(err).Msg("event bus (Redis) lost its connection; reconnecting")
			}
			if !sleep(ctx, backoff(failures)) {
				return
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				resync()
				if failures > 0 {
					b.log.Info().Msg("event bus reconnected; live streams catch up from the store")
				}
				failures = 0
			}
		case *redis.Message:
			e, err := decodeNotice([]byte(m.Payload))
			if err != nil {
				b.log.Warn().Err(err).Msg("unreadable event notice")
				continue
			}
			deliver(e)
		}
	}
}

func (b *RedisBus) Close() error { return b.client.Close() }
