package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/linkbff/linkbff/internal/apperr"
	"github.com/linkbff/linkbff/internal/store"
)

// CreateLinkSession stores a new session; a duplicate ID is a Conflict.
func (s *Store) CreateLinkSession(ctx context.Context, ls store.LinkSession) error {
	_, err := s.writer.ExecContext(ctx, `INSERT INTO link_sessions
		(id, app_user_id, junction_user_id, provider, return_to, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		ls.ID, ls.AppUserID, ls.JunctionUserID, ls.Provider, ls.ReturnTo, toDB(nowIfZero(ls.CreatedAt)))
	if isUniqueViolation(err) {
		return apperr.New(apperr.Conflict, "link session already exists")
	}
	if err != nil {
		return wrapErr("create link session", err)
	}
	return nil
}

func linkSession(ctx context.Context, q queryer, id string) (store.LinkSession, error) {
	var ls store.LinkSession
	var status, errorType string
	var createdAt int64
	var completedAt sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT id, app_user_id, junction_user_id, provider, return_to,
			created_at, status, error_type, completed_at
		FROM link_sessions WHERE id = ?`, id).
		Scan(&ls.ID, &ls.AppUserID, &ls.JunctionUserID, &ls.Provider, &ls.ReturnTo,
			&createdAt, &status, &errorType, &completedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return store.LinkSession{}, apperr.New(apperr.NotFound, "link session not found")
	}
	if err != nil {
		return store.LinkSession{}, err
	}
	ls.CreatedAt = fromDB(createdAt)
	if ls.CompletedAt = fromDBNullable(completedAt); ls.CompletedAt != nil {
		ls.Outcome = &store.Outcome{Status: status, ErrorType: errorType}
	}
	return ls, nil
}

// LinkSession returns a session by id, or NotFound.
func (s *Store) LinkSession(ctx context.Context, id string) (store.LinkSession, error) {
	ls, err := linkSession(ctx, s.reader, id)
	if err != nil {
		return store.LinkSession{}, wrapErr("link session", err)
	}
	return ls, nil
}

// CompleteLinkSession records o unless an outcome is already recorded and
// returns the session as stored: the first outcome wins.
func (s *Store) CompleteLinkSession(ctx context.Context, id string, o store.Outcome, at time.Time) (store.LinkSession, error) {
	var stored store.LinkSession
	err := s.inTx(ctx, "complete link session", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE link_sessions
			SET status = ?, error_type = ?, completed_at = ?
			WHERE id = ? AND completed_at IS NULL`,
			o.Status, o.ErrorType, toDB(nowIfZero(at)), id); err != nil {
			return err
		}
		var err error
		stored, err = linkSession(ctx, tx, id)
		return err
	})
	if err != nil {
		return store.LinkSession{}, err
	}
	return stored, nil
}
