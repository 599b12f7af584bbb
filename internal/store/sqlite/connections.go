package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/linkbff/linkbff/internal/store"
)

// ApplyConnectionEvent records eventID and upserts c in one transaction;
// a seen eventID changes nothing and reports applied=false. The event's
// received time is c.UpdatedAt, the domain's clock.
func (s *Store) ApplyConnectionEvent(ctx context.Context, eventID string, c store.Connection) (bool, error) {
	updatedAt := nowIfZero(c.UpdatedAt)
	applied := false
	err := s.inTx(ctx, "apply connection event", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_events (event_id, received_at)
			VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING`, eventID, toDB(updatedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		// min() of two values is NULL when either is, hence the COALESCE:
		// the earliest ConnectedAt that either side knows.
		if _, err := tx.ExecContext(ctx, `INSERT INTO connections
			(junction_user_id, provider, status, error_type, error_message, external_user_id, connected_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (junction_user_id, provider) DO UPDATE SET
				status = excluded.status,
				error_type = excluded.error_type,
				error_message = excluded.error_message,
				external_user_id = COALESCE(NULLIF(excluded.external_user_id, ''), connections.external_user_id),
				connected_at = COALESCE(min(connections.connected_at, excluded.connected_at),
					connections.connected_at, excluded.connected_at),
				updated_at = excluded.updated_at`,
			c.JunctionUserID, c.Provider, c.Status, c.ErrorType, c.ErrorMessage, c.ExternalUserID,
			toDBNullable(c.ConnectedAt), toDB(updatedAt)); err != nil {
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

// Connections lists a Junction user's connections ordered by provider.
func (s *Store) Connections(ctx context.Context, junctionUserID string) ([]store.Connection, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT junction_user_id, provider, status, error_type,
			error_message, external_user_id, connected_at, updated_at
		FROM connections WHERE junction_user_id = ? ORDER BY provider`, junctionUserID)
	if err != nil {
		return nil, wrapErr("connections", err)
	}
	defer rows.Close()
	out := []store.Connection{}
	for rows.Next() {
		var c store.Connection
		var connectedAt sql.NullInt64
		var updatedAt int64
		if err := rows.Scan(&c.JunctionUserID, &c.Provider, &c.Status, &c.ErrorType,
			&c.ErrorMessage, &c.ExternalUserID, &connectedAt, &updatedAt); err != nil {
			return nil, wrapErr("connections", err)
		}
		c.ConnectedAt = fromDBNullable(connectedAt)
		c.UpdatedAt = fromDB(updatedAt)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr("connections", err)
	}
	return out, nil
}

// DeleteConnection removes one connection; absent is not an error.
func (s *Store) DeleteConnection(ctx context.Context, junctionUserID, provider string) error {
	if _, err := s.writer.ExecContext(ctx, `DELETE FROM connections WHERE junction_user_id = ? AND provider = ?`,
		junctionUserID, provider); err != nil {
		return wrapErr("delete connection", err)
	}
	return nil
}

// Prune deletes webhook event ids received before eventsBefore and link
// sessions created before sessionsBefore.
func (s *Store) Prune(ctx context.Context, eventsBefore, sessionsBefore time.Time) error {
	return s.inTx(ctx, "prune", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_events WHERE received_at < ?`, toDB(eventsBefore)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM link_sessions WHERE created_at < ?`, toDB(sessionsBefore))
		return err
	})
}
