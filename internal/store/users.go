package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/linkbff/linkbff/internal/linking"
)

func scanMapping(r *sql.Row) (linking.UserMapping, error) {
	var m linking.UserMapping
	var createdAt dbTime
	err := r.Scan(&m.AppUserID, &m.JunctionUserID, &m.ClientUserID, &createdAt)
	if errors.Is(err, sql.ErrNoRows) {
		return linking.UserMapping{}, linking.Errorf(linking.ENotFound, "user mapping not found")
	}
	m.CreatedAt = createdAt.t
	return m, err
}

// UserMappingByAppUser returns the mapping for an app user, or ENotFound.
func (s *Store) UserMappingByAppUser(ctx context.Context, appUserID string) (m linking.UserMapping, err error) {
	err = s.run(ctx, "user mapping by app user", func() error {
		m, err = scanMapping(s.read().queryRow(ctx, s.q.mappingByAppUser, appUserID))
		return err
	})
	return m, err
}

// UserMappingByJunctionUser returns the mapping for a Junction user, or ENotFound.
func (s *Store) UserMappingByJunctionUser(ctx context.Context, junctionUserID string) (m linking.UserMapping, err error) {
	err = s.run(ctx, "user mapping by junction user", func() error {
		m, err = scanMapping(s.read().queryRow(ctx, s.q.mappingByJunctionUser, junctionUserID))
		return err
	})
	return m, err
}

// SaveUserMapping inserts m unless the app user is already mapped and
// returns the stored mapping; a Junction user mapped to another app user is
// an EConflict. In one transaction: the insert waits for a concurrent one of
// the same keys to finish, and the reads that follow see its outcome.
func (s *Store) SaveUserMapping(ctx context.Context, m linking.UserMapping) (linking.UserMapping, error) {
	var stored linking.UserMapping
	args := []any{m.AppUserID, m.JunctionUserID, m.ClientUserID, s.d.EncodeTime(nowIfZero(m.CreatedAt))}
	err := s.inTx(ctx, "save user mapping", func(tx handle) error {
		if _, err := tx.exec(ctx, s.q.insertMapping, args...); err != nil {
			return err
		}
		var err error
		if stored, err = scanMapping(tx.queryRow(ctx, s.q.mappingByAppUser, m.AppUserID)); !linking.IsCode(err, linking.ENotFound) {
			return err
		}
		// Not inserted and not there: either the Junction user belongs to
		// another app user, or the row we lost to was deleted meanwhile.
		if _, err := scanMapping(tx.queryRow(ctx, s.q.mappingByJunctionUser, m.JunctionUserID)); !linking.IsCode(err, linking.ENotFound) {
			if err == nil {
				err = linking.Errorf(linking.EConflict, "the Junction user is already mapped to another app user")
			}
			return err
		}
		if _, err := tx.exec(ctx, s.q.insertMappingStrict, args...); err != nil {
			return err
		}
		stored = m
		stored.CreatedAt = nowIfZero(m.CreatedAt)
		return nil
	})
	if err != nil {
		return linking.UserMapping{}, err
	}
	return stored, nil
}

// DeleteAppUser removes the mapping, link sessions, connections and events
// (but those pending delivery) of an app user and stores events, in one
// transaction; an unknown user is not an error.
func (s *Store) DeleteAppUser(ctx context.Context, appUserID string, events ...*linking.Event) error {
	return s.inTx(ctx, "delete app user", func(tx handle) error {
		for _, q := range []string{s.q.deleteUserConnections, s.q.deleteMapping, s.q.deleteUserSessions, s.eq.deleteUserEvents} {
			if _, err := tx.exec(ctx, q, appUserID); err != nil {
				return err
			}
		}
		return s.insertEvents(ctx, tx, events)
	})
}

// ForgetJunctionUser removes m and its Junction user's connections in one
// transaction, only while m.AppUserID is still mapped to m.JunctionUserID.
func (s *Store) ForgetJunctionUser(ctx context.Context, m linking.UserMapping) error {
	return s.inTx(ctx, "forget junction user", func(tx handle) error {
		res, err := tx.exec(ctx, s.q.forgetMapping, m.AppUserID, m.JunctionUserID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = tx.exec(ctx, s.q.deleteConnectionsOf, m.JunctionUserID)
		return err
	})
}
