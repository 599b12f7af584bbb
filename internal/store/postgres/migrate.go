package postgres

import (
	"context"
	"embed"

	"github.com/jackc/pgx/v5"
	"github.com/linkbff/linkbff/internal/store/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey names the pg_advisory_lock that serialises migrations
// across replicas starting at once.
const migrationLockKey int64 = 0x6c696e6b626666 // "linkbff"

// migrate applies pending migrations on a dedicated connection holding the
// advisory lock. Closing that connection releases the lock even when an
// unlock never got through.
func migrate(ctx context.Context, cfg *pgx.ConnConfig) error {
	migrations, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return wrapErr("load migrations", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return wrapErr("connect for migrations", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		return wrapErr("lock migrations", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey) //nolint:errcheck // Close releases it anyway

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     NOT NULL PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return wrapErr("create schema_migrations", err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return wrapErr("read schema_migrations", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return wrapErr("read schema_migrations", err)
	}
	for _, v := range versions {
		applied[int(v)] = true
	}

	for _, m := range migrations {
		if applied[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version)
			return err
		})
		if err != nil {
			return wrapErr("migration "+m.Name, err)
		}
	}
	return nil
}
