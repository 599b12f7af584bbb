package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/linkbff/linkbff/internal/apperr"
	"github.com/linkbff/linkbff/internal/store"
)

// CreateLinkSession stores a new session; a duplicate ID is a Conflict.
func (s *Store) CreateLinkSession(ctx context.Context, ls store.LinkSession) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO link_sessions
		(id, app_user_id, junction_user_id, provider, return_to, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		ls.ID, ls.AppUserID, ls.JunctionUserID, ls.Provider, ls.ReturnTo, toDB(nowIfZero(ls.CreatedAt)))
	if isUniqueViolation(err) {
		return apperr.New(apperr.Conflict, "link session already exists")
	}
	if err != nil {
		return wrapErr("create link session", err)
	}
	return nil
}

// LinkSession returns a session by id, or NotFound.
func (s *Store) LinkSession(ctx context.Context, id string) (store.LinkSession, error) {
	var ls store.LinkSession
	var status, errorType string
	var completedAt *time.Time
	err := s.pool.QueryRow(ctx, `SELECT id, app_user_id, junction_user_id, provider, return_to,
			created_at, status, error_type, completed_at
		FROM link_sessions WHERE id = $1`, id).
		Scan(&ls.ID, &ls.AppUserID, &ls.JunctionUserID, &ls.Provider, &ls.ReturnTo,
			&ls.CreatedAt, &status, &errorType, &completedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.LinkSession{}, apperr.New(apperr.NotFound, "link session not found")
	}
	if err != nil {
		return store.LinkSession{}, wrapErr("link session", err)
	}
	ls.CreatedAt = ls.CreatedAt.UTC()
	if ls.CompletedAt = fromDBNullable(completedAt); ls.CompletedAt != nil {
		ls.Outcome = &store.Outcome{Status: status, ErrorType: errorType}
	}
	return ls, nil
}

// CompleteLinkSession records o unless an outcome is already recorded and
// returns the session as stored: the first outcome wins. A racing UPDATE
// waits for the first one's row lock, then rechecks completed_at and skips;
// the read after it sees the winner.
func (s *Store) CompleteLinkSession(ctx context.Context, id string, o store.Outcome, at time.Time) (store.LinkSession, error) {
	if _, err := s.pool.Exec(ctx, `UPDATE link_sessions
		SET status = $2, error_type = $3, completed_at = $4
		WHERE id = $1 AND completed_at IS NULL`,
		id, o.Status, o.ErrorType, toDB(nowIfZero(at))); err != nil {
		return store.LinkSession{}, wrapErr("complete link session", err)
	}
	return s.LinkSession(ctx, id)
}
