package store

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migration is one versioned schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads every migrations/NNNN_description.sql file of fsys,
// in version order.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	seen := map[int]string{}
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		version, err := strconv.Atoi(prefix)
		if !ok || err != nil || version <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %q: name must be a positive version, _ and a description ending in .sql", e.Name())
		}
		if other, dup := seen[version]; dup {
			return nil, fmt.Errorf("migrations %q and %q share version %d", other, e.Name(), version)
		}
		seen[version] = e.Name()
		body, err := fs.ReadFile(fsys, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: version, name: e.Name(), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrate applies each pending migration in its own transaction, rechecking
// inside it, on one connection holding the dialect's migration lock, so
// processes starting at once apply each version exactly once.
func (s *Store) migrate(ctx context.Context) error {
	migrations, err := loadMigrations(s.d.Migrations)
	if err != nil {
		return fmt.Errorf("%s: load migrations: %w", s.d.Name, err)
	}
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return s.wrapErr("connect for migrations", err)
	}
	defer conn.Close()
	if s.d.LockMigrations != nil {
		unlock, err := s.d.LockMigrations(ctx, conn)
		if err != nil {
			return s.wrapErr("lock migrations", err)
		}
		defer unlock()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_at `+s.d.TimeColumnType+` NOT NULL
	)`); err != nil {
		return s.wrapErr("create schema_migrations", err)
	}
	applied := rebind(s.d, `SELECT count(*) FROM schema_migrations WHERE version = ?`)
	record := rebind(s.d, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`)
	for _, m := range migrations {
		err := func() error {
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback() //nolint:errcheck // a no-op after Commit
			var n int
			if err := tx.QueryRowContext(ctx, applied, m.version).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, record, m.version, s.d.EncodeTime(time.Now())); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			return s.wrapErr("migration "+m.name, err)
		}
	}
	return nil
}
