package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
)

// CreateLinkSession stores a new session; a duplicate ID is an EConflict.
func (s *Store) CreateLinkSession(ctx context.Context, ls linking.LinkSession) error {
	args := []any{ls.ID, ls.AppUserID, ls.JunctionUserID, ls.Provider, ls.ReturnTo, s.d.EncodeTime(nowIfZero(ls.CreatedAt))}
	if s.sessionInserts != nil {
		if err := s.sessionInserts.insert(ctx, args...); err != nil {
			return s.wrapErr("create link session", err)
		}
		return nil
	}
	return s.run(ctx, "create link session", func() error {
		_, err := s.write().exec(ctx, s.q.insertSession, args...)
		return err
	})
}

func scanSession(r *sql.Row) (linking.LinkSession, error) {
	var ls linking.LinkSession
	var status, errorType string
	var createdAt, completedAt dbTime
	err := r.Scan(&ls.ID, &ls.AppUserID, &ls.JunctionUserID, &ls.Provider, &ls.ReturnTo,
		&createdAt, &status, &errorType, &completedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return linking.LinkSession{}, linking.Errorf(linking.ENotFound, "link session not found")
	}
	if err != nil {
		return linking.LinkSession{}, err
	}
	ls.CreatedAt = createdAt.t
	if ls.CompletedAt = completedAt.ptr(); ls.CompletedAt != nil {
		ls.Outcome = &linking.Outcome{Status: status, ErrorType: errorType}
	}
	return ls, nil
}

// LinkSession returns a session by id, or ENotFound.
func (s *Store) LinkSession(ctx context.Context, id string) (ls linking.LinkSession, err error) {
	err = s.run(ctx, "link session", func() error {
		ls, err = scanSession(s.read().queryRow(ctx, s.q.sessionByID, id))
		return err
	})
	return ls, err
}

// LatestLinkSession returns the newest session of junctionUserID for
// provider, or for the user's pick in Link, created at or after since.
func (s *Store) LatestLinkSession(ctx context.Context, junctionUserID, provider string, since time.Time) (ls linking.LinkSession, err error) {
	err = s.run(ctx, "latest link session", func() error {
		ls, err = scanSession(s.read().queryRow(ctx, s.q.latestSession, junctionUserID, provider, s.d.EncodeTime(since)))
		return err
	})
	return ls, err
}

// CompleteLinkSession records o unless an outcome is already recorded and
// returns the session as stored: the first outcome wins. Events are stored
// in the same transaction when this call recorded the outcome.
func (s *Store) CompleteLinkSession(ctx context.Context, id string, o linking.Outcome, at time.Time, events ...*linking.Event) (linking.LinkSession, error) {
	var stored linking.LinkSession
	err := s.inTx(ctx, "complete link session", func(tx handle) error {
		res, err := tx.exec(ctx, s.q.completeSession, o.Status, o.ErrorType, s.d.EncodeTime(nowIfZero(at)), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n > 0 {
			if err := s.insertEvents(ctx, tx, events); err != nil {
				return err
			}
		}
		stored, err = scanSession(tx.queryRow(ctx, s.q.sessionByID, id))
		return err
	})
	if err != nil {
		return linking.LinkSession{}, err
	}
	return stored, nil
}
