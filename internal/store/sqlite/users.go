package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/linkbff/linkbff/internal/apperr"
	"github.com/linkbff/linkbff/internal/store"
)

const mappingColumns = `app_user_id, junction_user_id, client_user_id, created_at`

// queryer is what both *sql.DB and *sql.Tx offer for reads.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func scanMapping(row *sql.Row) (store.UserMapping, error) {
	var m store.UserMapping
	var createdAt int64
	err := row.Scan(&m.AppUserID, &m.JunctionUserID, &m.ClientUserID, &createdAt)
	if errors.Is(err, sql.ErrNoRows) {
		return store.UserMapping{}, apperr.New(apperr.NotFound, "user mapping not found")
	}
	if err != nil {
		return store.UserMapping{}, err
	}
	m.CreatedAt = fromDB(createdAt)
	return m, nil
}

func mappingByAppUser(ctx context.Context, q queryer, appUserID string) (store.UserMapping, error) {
	return scanMapping(q.QueryRowContext(ctx,
		`SELECT `+mappingColumns+` FROM user_mappings WHERE app_user_id = ?`, appUserID))
}

// UserMappingByAppUser returns the mapping for an app user, or NotFound.
func (s *Store) UserMappingByAppUser(ctx context.Context, appUserID string) (store.UserMapping, error) {
	m, err := mappingByAppUser(ctx, s.reader, appUserID)
	if err != nil {
		return store.UserMapping{}, wrapErr("user mapping by app user", err)
	}
	return m, nil
}

// UserMappingByJunctionUser returns the mapping for a Junction user, or NotFound.
func (s *Store) UserMappingByJunctionUser(ctx context.Context, junctionUserID string) (store.UserMapping, error) {
	m, err := scanMapping(s.reader.QueryRowContext(ctx,
		`SELECT `+mappingColumns+` FROM user_mappings WHERE junction_user_id = ?`, junctionUserID))
	if err != nil {
		return store.UserMapping{}, wrapErr("user mapping by junction user", err)
	}
	return m, nil
}

// SaveUserMapping inserts m unless the app user is already mapped and returns
// the stored mapping; a Junction user mapped to another app user is a Conflict.
func (s *Store) SaveUserMapping(ctx context.Context, m store.UserMapping) (store.UserMapping, error) {
	var stored store.UserMapping
	err := s.inTx(ctx, "save user mapping", func(tx *sql.Tx) error {
		// DO NOTHING on any unique key: the lookup below tells a repeat
		// (the app user is mapped) from a clash (the Junction user is taken).
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_mappings (`+mappingColumns+`)
			VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			m.AppUserID, m.JunctionUserID, m.ClientUserID, toDB(nowIfZero(m.CreatedAt))); err != nil {
			return err
		}
		var err error
		stored, err = mappingByAppUser(ctx, tx, m.AppUserID)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.New(apperr.Conflict, "the Junction user is already mapped to another app user")
		}
		return err
	})
	if err != nil {
		return store.UserMapping{}, err
	}
	return stored, nil
}

// DeleteAppUser removes the mapping, link sessions and connections of an app
// user in one transaction; an unknown user is not an error.
func (s *Store) DeleteAppUser(ctx context.Context, appUserID string) error {
	return s.inTx(ctx, "delete app user", func(tx *sql.Tx) error {
		m, err := mappingByAppUser(ctx, tx, appUserID)
		switch {
		case err == nil:
			if _, err := tx.ExecContext(ctx, `DELETE FROM connections WHERE junction_user_id = ?`, m.JunctionUserID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM user_mappings WHERE app_user_id = ?`, appUserID); err != nil {
				return err
			}
		case !apperr.Is(err, apperr.NotFound):
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM link_sessions WHERE app_user_id = ?`, appUserID)
		return err
	})
}
