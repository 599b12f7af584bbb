package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/linkbff/linkbff/internal/store"
)

// ApplyConnectionEvent records eventID and upserts c in one transaction;
// a seen eventID changes nothing and reports applied=false. A concurrent
// insert of the same id waits for the first transaction and then does
// nothing, so exactly one caller applies. The event's received time is
// c.UpdatedAt, the domain's clock.
func (s *Store) ApplyConnectionEvent(ctx context.Context, eventID string, c store.Connection) (bool, error) {
	updatedAt := toDB(nowIfZero(c.UpdatedAt))
	applied := false
	err := s.inTx(ctx, "apply connection event", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO webhook_events (event_id, received_at)
			VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING`, eventID, updatedAt)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		// LEAST ignores NULLs: the earliest ConnectedAt that either side knows.
		if _, err := tx.Exec(ctx, `INSERT INTO connections
			(junction_user_id, provider, status, error_type, error_message, external_user_id, connected_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (junction_user_id, provider) DO UPDATE SET
				status = EXCLUDED.status,
				error_type = EXCLUDED.error_type,
				error_message = EXCLUDED.error_message,
				external_user_id = COALESCE(NULLIF(EXCLUDED.external_user_id, ''), connections.external_user_id),
				connected_at = LEAST(connections.connected_at, EXCLUDED.connected_at),
				updated_at = EXCLUDED.updated_at`,
			c.JunctionUserID, c.Provider, c.Status, c.ErrorType, c.ErrorMessage, c.ExternalUserID,
			toDBNullable(c.ConnectedAt), updatedAt); err != nil {
			return err
		}
		applied = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return applied, nil
}

// Connections lists a Junction user's connections ordered by provider
// (byte order, as in SQLite, whatever the database collation).
func (s *Store) Connections(ctx context.Context, junctionUserID string) ([]store.Connection, error) {
	rows, err := s.pool.Query(ctx, `SELECT junction_user_id, provider, status, error_type,
			error_message, external_user_id, connected_at, updated_at
		FROM connections WHERE junction_user_id = $1 ORDER BY provider COLLATE "C"`, junctionUserID)
	if err != nil {
		return nil, wrapErr("connections", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Connection, error) {
		var c store.Connection
		err := row.Scan(&c.JunctionUserID, &c.Provider, &c.Status, &c.ErrorType,
			&c.ErrorMessage, &c.ExternalUserID, &c.ConnectedAt, &c.UpdatedAt)
		c.ConnectedAt = fromDBNullable(c.ConnectedAt)
		c.UpdatedAt = c.UpdatedAt.UTC()
		return c, err
	})
	if err != nil {
		return nil, wrapErr("connections", err)
	}
	if out == nil {
		out = []store.Connection{}
	}
	return out, nil
}

// DeleteConnection removes one connection; absent is not an error.
func (s *Store) DeleteConnection(ctx context.Context, junctionUserID, provider string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM connections WHERE junction_user_id = $1 AND provider = $2`,
		junctionUserID, provider); err != nil {
		return wrapErr("delete connection", err)
	}
	return nil
}

// Prune deletes webhook event ids received before eventsBefore and link
// sessions created before sessionsBefore.
func (s *Store) Prune(ctx context.Context, eventsBefore, sessionsBefore time.Time) error {
	return s.inTx(ctx, "prune", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM webhook_events WHERE received_at < $1`, toDB(eventsBefore)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM link_sessions WHERE created_at < $1`, toDB(sessionsBefore))
		return err
	})
}
