// Package sqlite opens linkbff's store on a SQLite file with the pure-Go
// modernc.org/sqlite driver, so the binary builds with CGO_ENABLED=0.
//
// Writes go through one connection, so writers in this process queue in the
// connection pool instead of fighting over SQLite's file lock; reads use a
// separate read-only pool, which WAL lets run alongside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// dialect is SQLite's part of the store: timestamps are INTEGER unix
// microseconds (they sort as numbers and match PostgreSQL's precision).
var dialect = store.Dialect{
	Name:           "sqlite",
	EncodeTime:     func(t time.Time) any { return t.UnixMicro() },
	TimeColumnType: "INTEGER",
	// The driver parses every statement it is handed afresh.
	PrepareStatements: true,
	// One writer connection: inserts queue for it anyway, so they share
	// commits.
	GroupCommit: true,
	Classify:    classify,
	Migrations:  migrationFiles,
	// Each migration's transaction is IMMEDIATE (see _txlock below): it
	// takes the file's write lock, which is lock enough.
}

// Open opens (creating if needed) the database at dsn and applies pending
// migrations. dsn is a file path, a "file:" URI, or ":memory:".
func Open(ctx context.Context, dsn string) (*store.Store, error) {
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
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0) // an in-memory database lives only as long as its connection

	reader := writer
	if !isMemory(dsn) {
		if reader, err = sql.Open("sqlite", withParams(dsn,
			"_pragma=busy_timeout(5000)",
			"_pragma=foreign_keys(1)",
			"_pragma=query_only(1)",
		)); err != nil {
			writer.Close()
			return nil, err
		}
		// Every reader stays open: database/sql keeps two idle by default,
		// so each read past two at once closed its connection after use and
		// the next one paid for opening the file and preparing statements
		// again (a third of the CPU when a profile ran only reads).
		readers := max(4, runtime.NumCPU())
		reader.SetMaxOpenConns(readers)
		reader.SetMaxIdleConns(readers)
	}
	s, err := store.New(ctx, writer, reader, dialect)
	if err == nil {
		err = s.Ping(ctx)
	}
	if err != nil {
		if reader != writer {
			reader.Close()
		}
		writer.Close()
		return nil, err
	}
	return s, nil
}

// classify: constraint failures are uniqueness clashes here (the schema has
// no other constraints that can fail); a busy or locked file is a database
// out of reach for now.
func classify(err error) linking.ErrorCode {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return linking.EConflict
	}
	switch e.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return linking.EUnavailable
	}
	return ""
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
