// Package postgres opens linkbff's store on PostgreSQL, for several replicas
// sharing one database: first-writer-wins rules are INSERT … ON CONFLICT
// statements, and migrations run under an advisory lock.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey names the pg_advisory_lock that serialises migrations
// across replicas starting at once.
const migrationLockKey int64 = 0x6c696e6b626666 // "linkbff"

// streamLockClass is the first key of the per-user stream locks ("lnke").
const streamLockClass = "1819175781"

var dialect = store.Dialect{
	Name:                 "postgres",
	NumberedPlaceholders: true,
	// Truncated to the microseconds timestamptz keeps (PostgreSQL would
	// round instead), so both backends store the same instant.
	EncodeTime:     func(t time.Time) any { return t.UTC().Truncate(time.Microsecond) },
	TimeColumnType: "timestamptz",
	// pgx prepares each statement once per connection and caches it
	// (QueryExecModeCacheStatement, set in Open): a query is one round
	// trip, where database/sql's Prepare would add one per transaction.
	PrepareStatements: false,
	Classify:          classify,
	RetryOnce:         connectionLost,
	SkipLocked:        " FOR UPDATE SKIP LOCKED",
	// A Seq is drawn when its row is inserted but seen when its transaction
	// commits: without this, two of a user's events committing in the other
	// order would let a resuming stream skip the first. Keyed apart from the
	// migration lock by its first half.
	LockStream: `SELECT pg_advisory_xact_lock(` + streamLockClass + `, hashtext(?))`,
	Migrations: migrationFiles,
	LockMigrations: func(ctx context.Context, conn *sql.Conn) (func(), error) {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
			return nil, err
		}
		// The connection is closed right after, which releases the lock
		// even when this unlock never got through.
		return func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey)
		}, nil
	},
}

// Open connects to url (a postgres:// URL or key=value DSN; pool_* and runtime
// parameters such as search_path are honoured) and applies pending
// migrations.
func Open(ctx context.Context, url string) (*store.Store, error) {
	// pgxpool's parser knows the pool_* parameters (pool_max_conns, …),
	// which the pool of database/sql then follows.
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("postgres: invalid database URL")
	}
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	db := stdlib.OpenDB(*cfg.ConnConfig)
	maxConns := poolSize(url, cfg.MaxConns)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxLifetime(cfg.MaxConnLifetime)
	db.SetConnMaxIdleTime(cfg.MaxConnIdleTime)
	s, err := store.New(ctx, db, db, dialect)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// defaultPoolSize is how many connections a replica opens unless the URL
// says (pool_max_conns). pgxpool's own default, max(4, CPUs), made every
// request beyond four wait for a connection while the others waited for
// their commits: 16 doubled the warm token path's throughput on two cores,
// and three replicas still stay well inside PostgreSQL's default
// max_connections of 100.
const defaultPoolSize = 16

// poolSize is pool_max_conns when the URL sets it, else defaultPoolSize.
func poolSize(url string, parsed int32) int {
	if strings.Contains(url, "pool_max_conns") {
		return int(parsed)
	}
	return defaultPoolSize
}

// classify: 23505 is a uniqueness clash; a lost or refused connection means
// the database is out of reach for now.
func classify(err error) linking.ErrorCode {
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505":
		return linking.EConflict
	case connectionLost(err), pgconn.Timeout(err), errors.Is(err, driver.ErrBadConn), brokenConnection(err):
		return linking.EUnavailable
	}
	return ""
}

// brokenConnection: the connection broke mid-statement. The database is out
// of reach, but the statement may have run, so it is not retried.
func brokenConnection(err error) bool {
	var netErr net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &netErr)
}

// connectionLost: SQLSTATE classes 08 (connection exception) and 57P (the
// server is shutting down, or an administrator terminated the backend, as
// pg_terminate_backend does), a failed dial, or a request that never left.
// A statement that failed this way committed nothing.
func connectionLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	var connectErr *pgconn.ConnectError
	return errors.As(err, &connectErr) || pgconn.SafeToRetry(err)
}
