package events

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/linking"
)

// PostgresBus carries events with LISTEN/NOTIFY on the database the
// replicas share: nothing else to run. Its channel is named after the
// schema, so deployments sharing a database in different schemas do not
// hear each other.
type PostgresBus struct {
	cfg     *pgxpool.Config
	pool    *pgxpool.Pool // publishes
	channel string
	log     zerolog.Logger
}

// OpenPostgres connects to the database at url (as DATABASE_URL is given).
func OpenPostgres(ctx context.Context, url string, log zerolog.Logger) (*PostgresBus, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("events: invalid database URL")
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("events: find the schema: %w", err)
	}
	channel := "linkbff_events"
	if schema != "public" {
		channel += "_" + schema
	}
	if len(channel) > 63 { // PostgreSQL truncates identifiers
		channel = channel[:63]
	}
	return &PostgresBus{cfg: cfg, pool: pool, channel: channel, log: log.With().Str("component", "events").Logger()}, nil
}

func (b *PostgresBus) Name() string { return "postgres" }

// Publish notifies every listener of each event (payloads are small: no
// Junction body travels).
func (b *PostgresBus) Publish(ctx context.Context, events []linking.Event) error {
	for _, e := range events {
		payload, err := encodeNotice(e)
		if err != nil {
			return err
		}
		if _, err := b.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, b.channel, string(payload)); err != nil {
			return err
		}
	}
	return nil
}

// Listen holds one connection LISTENing until ctx ends, reconnecting
// after failures. Each time it starts listening it calls resync, since
// notices sent while it was not are lost.
func (b *PostgresBus) Listen(ctx context.Context, deliver func(linking.Event), resync func()) {
	for failures := 0; ctx.Err() == nil; {
		err := b.listen(ctx, deliver, func() {
			resync()
			if failures > 0 {
				b.log.Info().Msg("event bus reconnected; live streams catch up from the store")
			}
			failures = 0
		})
		if ctx.Err() != nil {
			return
		}
		failures++
		b.log.Warn().Err(err).Msg("event bus (LISTEN) lost its connection; reconnecting")
		if !sleep(ctx, backoff(failures)) {
			return
		}
	}
}

func (b *PostgresBus) listen(ctx context.Context, deliver func(linking.Event), listening func()) error {
	conn, err := pgx.ConnectConfig(ctx, b.cfg.ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{b.channel}.Sanitize()); err != nil {
		return err
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		e, err := decodeNotice([]byte(n.Payload))
		if err != nil {
			b.log.Warn().Err(err).Msg("unreadable event notice")
			continue
		}
		deliver(e)
	}
}

// Close closes the publishing pool; Listen ends with its context.
func (b *PostgresBus) Close() error {
	b.pool.Close()
	return nil
}
