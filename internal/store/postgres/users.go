package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/linkbff/linkbff/internal/apperr"
	"github.com/linkbff/linkbff/internal/store"
)

const mappingColumns = `app_user_id, junction_user_id, client_user_id, created_at`

// saveAttempts bounds the retries when the row SaveUserMapping lost to is
// deleted before it can be read back.
const saveAttempts = 3

func scanMapping(row pgx.Row) (store.UserMapping, error) {
	var m store.UserMapping
	err := row.Scan(&m.AppUserID, &m.JunctionUserID, &m.ClientUserID, &m.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.UserMapping{}, apperr.New(apperr.NotFound, "user mapping not found")
	}
	if err != nil {
		return store.UserMapping{}, err
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return m, nil
}

// UserMappingByAppUser returns the mapping for an app user, or NotFound.
func (s *Store) UserMappingByAppUser(ctx context.Context, appUserID string) (store.UserMapping, error) {
	m, err := scanMapping(s.pool.QueryRow(ctx,
		`SELECT `+mappingColumns+` FROM user_mappings WHERE app_user_id = $1`, appUserID))
	if err != nil {
		return store.UserMapping{}, wrapErr("user mapping by app user", err)
	}
	return m, nil
}

// UserMappingByJunctionUser returns the mapping for a Junction user, or NotFound.
func (s *Store) UserMappingByJunctionUser(ctx context.Context, junctionUserID string) (store.UserMapping, error) {
	m, err := scanMapping(s.pool.QueryRow(ctx,
		`SELECT `+mappingColumns+` FROM user_mappings WHERE junction_user_id = $1`, junctionUserID))
	if err != nil {
		return store.UserMapping{}, wrapErr("user mapping by junction user", err)
	}
	return m, nil
}

// SaveUserMapping inserts m unless the app user is already mapped and returns
// the stored mapping; a Junction user mapped to another app user is a Conflict.
//
// ON CONFLICT without a target covers both unique keys: with a target on
// app_user_id alone, two racing inserts of the same pair could still fail on
// junction_user_id. The read that follows, in a new snapshot, sees the winner.
func (s *Store) SaveUserMapping(ctx context.Context, m store.UserMapping) (store.UserMapping, error) {
	createdAt := toDB(nowIfZero(m.CreatedAt))
	for range saveAttempts {
		if _, err := s.pool.Exec(ctx, `INSERT INTO user_mappings (`+mappingColumns+`)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			m.AppUserID, m.JunctionUserID, m.ClientUserID, createdAt); err != nil {
			return store.UserMapping{}, wrapErr("save user mapping", err)
		}
		stored, err := s.UserMappingByAppUser(ctx, m.AppUserID)
		if !apperr.Is(err, apperr.NotFound) {
			return stored, err
		}
		// Not inserted and not there: either the Junction user belongs to
		// someone else, or the row we lost to was deleted meanwhile.
		if _, err := s.UserMappingByJunctionUser(ctx, m.JunctionUserID); err == nil {
			return store.UserMapping{}, apperr.New(apperr.Conflict, "the Junction user is already mapped to another app user")
		} else if !apperr.Is(err, apperr.NotFound) {
			return store.UserMapping{}, err
		}
	}
	return store.UserMapping{}, apperr.New(apperr.Conflict, "the user mapping changed concurrently; retry")
}

// DeleteAppUser removes the mapping, link sessions and connections of an app
// user in one transaction; an unknown user is not an error.
func (s *Store) DeleteAppUser(ctx context.Context, appUserID string) error {
	return s.inTx(ctx, "delete app user", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM connections WHERE junction_user_id IN
			(SELECT junction_user_id FROM user_mappings WHERE app_user_id = $1)`, appUserID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_mappings WHERE app_user_id = $1`, appUserID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM link_sessions WHERE app_user_id = $1`, appUserID)
		return err
	})
}
