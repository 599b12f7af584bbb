package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"time"

	"github.com/linkbff/linkbff/internal/store/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies each pending migration in its own IMMEDIATE transaction,
// rechecking inside it, so processes opening one file at once apply each
// version exactly once.
func migrate(ctx context.Context, db *sql.DB) error {
	migrations, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return wrapErr("load migrations", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return wrapErr("create schema_migrations", err)
	}
	for _, m := range migrations {
		if err := applyMigration(ctx, db, m); err != nil {
			return wrapErr("migration "+m.Name, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration.Migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var applied int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&applied); err != nil {
		return err
	}
	if applied > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.Version, toDB(time.Now())); err != nil {
		return err
	}
	return tx.Commit()
}
