// Package sqlite implements store.Store on a SQLite file with the pure-Go
// modernc.org/sqlite driver, so the binary builds with CGO_ENABLED=0.
//
// Writes go through one connection, so writers in this process queue in the
// connection pool instead of fighting over SQLite's file lock; reads use a
// separate read-only pool, which WAL lets run alongside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"strings"

	"github.com/linkbff/linkbff/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is a store.Store backed by SQLite.
type Store struct {
	writer *sql.DB
	reader *sql.DB // the same as writer for in-memory databases
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at dsn and applies pending
// migrations. dsn is a file path, a "file:" URI, or ":memory:".
func Open(ctx context.Context, dsn string) (*Store, error) {
	if dsn == "" {
		return nil, errors.New("sqlite: empty dsn")
	}
	// Every writer transaction begins IMMEDIATE: it takes the write lock up
	// front (waiting up to busy_timeout) instead of failing when a read
	// upgrades to a write while another process holds the lock.
	writer, err := sql.Open("sqlite", withParams(dsn,
		"_pragma=busy_timeout(5000)",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate",
	))
	if err != nil {
		return nil, wrapErr("open", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0) // an in-memory database lives only as long as its connection

	s := &Store{writer: writer, reader: writer}
	if err := migrate(ctx, writer); err != nil {
		writer.Close()
		return nil, err
	}
	if isMemory(dsn) {
		return s, nil
	}

	reader, err := sql.Open("sqlite", withParams(dsn,
		"_pragma=busy_timeout(5000)",
		"_pragma=foreign_keys(1)",
		"_pragma=query_only(1)",
	))
	if err != nil {
		writer.Close()
		return nil, wrapErr("open reader", err)
	}
	reader.SetMaxOpenConns(max(4, runtime.NumCPU()))
	s.reader = reader
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// withParams appends driver query parameters to a path or "file:" URI.
func withParams(dsn string, params ...string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + strings.Join(params, "&")
}

// isMemory reports whether each connection to dsn would get its own private
// database, so reads must share the writer's connection.
func isMemory(dsn string) bool {
	return strings.Contains(dsn, ":memory:") || strings.Contains(dsn, "mode=memory")
}

// Ping checks both pools can reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.writer.PingContext(ctx); err != nil {
		return wrapErr("ping", err)
	}
	if err := s.reader.PingContext(ctx); err != nil {
		return wrapErr("ping reader", err)
	}
	return nil
}

// Close closes both pools.
func (s *Store) Close() error {
	var readerErr error
	if s.reader != s.writer {
		readerErr = s.reader.Close()
	}
	return errors.Join(readerErr, s.writer.Close())
}

// inTx runs fn in a writer transaction, committing when fn returns nil.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return wrapErr(op, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return wrapErr(op, err)
	}
	if err := tx.Commit(); err != nil {
		return wrapErr(op, err)
	}
	return nil
}
