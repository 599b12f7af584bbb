package store

import (
	"context"
	"sort"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
)

// ApplyConnectionEvent records eventID and upserts c in one transaction; a
// seen eventID changes nothing and reports applied=false. A concurrent insert
// of the same id waits for the first transaction and then does nothing, so
// exactly one caller applies, and stores events. The event's received time
// is c.UpdatedAt, the domain's clock.
func (s *Store) ApplyConnectionEvent(ctx context.Context, eventID string, c linking.ReportedConnection, events ...*linking.Event) (bool, error) {
	updatedAt := s.d.EncodeTime(nowIfZero(c.UpdatedAt))
	applied := false
	err := s.inTx(ctx, "apply connection event", func(tx handle) error {
		res, err := tx.exec(ctx, s.q.insertEvent, eventID, updatedAt)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		if _, err := tx.exec(ctx, s.q.upsertConnection,
			c.JunctionUserID, c.Provider, c.Status, c.ErrorType, c.ErrorMessage, c.ExternalUserID,
			s.encodeNullable(c.ConnectedAt), updatedAt); err != nil {
			return err
		}
		applied = true
		return s.insertEvents(ctx, tx, events)
	})
	return applied, err
}

// ReportedConnections lists a Junction user's connections ordered by
// provider (byte order, whatever the database's collation).
func (s *Store) ReportedConnections(ctx context.Context, junctionUserID string) (out []linking.ReportedConnection, err error) {
	err = s.run(ctx, "connections", func() error {
		out, err = s.reportedConnections(ctx, junctionUserID)
		return err
	})
	return out, err
}

func (s *Store) reportedConnections(ctx context.Context, junctionUserID string) ([]linking.ReportedConnection, error) {
	rows, err := s.read().query(ctx, s.q.connectionsOf, junctionUserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []linking.ReportedConnection{}
	for rows.Next() {
		var c linking.ReportedConnection
		var connectedAt, updatedAt dbTime
		if err := rows.Scan(&c.JunctionUserID, &c.Provider, &c.Status, &c.ErrorType,
			&c.ErrorMessage, &c.ExternalUserID, &connectedAt, &updatedAt); err != nil {
			return nil, err
		}
		c.ConnectedAt, c.UpdatedAt = connectedAt.ptr(), updatedAt.t
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out, nil
}

// DeleteReportedConnection removes one connection (absent is not an error)
// and stores events, in one transaction.
func (s *Store) DeleteReportedConnection(ctx context.Context, junctionUserID, provider string, events ...*linking.Event) error {
	return s.inTx(ctx, "delete connection", func(tx handle) error {
		if _, err := tx.exec(ctx, s.q.deleteConnection, junctionUserID, provider); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, events)
	})
}

// Prune deletes webhook event ids received before eventsBefore and link
// sessions created before sessionsBefore.
func (s *Store) Prune(ctx context.Context, eventsBefore, sessionsBefore time.Time) error {
	return s.inTx(ctx, "prune", func(tx handle) error {
		if _, err := tx.exec(ctx, s.q.pruneEvents, s.d.EncodeTime(eventsBefore)); err != nil {
			return err
		}
		_, err := tx.exec(ctx, s.q.pruneSessions, s.d.EncodeTime(sessionsBefore))
		return err
	})
}
