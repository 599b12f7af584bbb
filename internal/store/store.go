// Package store keeps the linking domain's state in a SQL database. One
// implementation serves both backends, so every write has the same
// transaction boundaries and every failure the same classification; a
// Dialect holds what differs (placeholders, time encoding, error classes,
// migration locking, the schema). Open a store with store/sqlite or
// store/postgres.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
)

// Dialect is what a backend contributes.
type Dialect struct {
	Name string
	// NumberedPlaceholders turns the ? placeholders the queries are written
	// with into $1, $2, …
	NumberedPlaceholders bool
	// EncodeTime turns a time into the value stored; reads accept either an
	// int64 of unix microseconds or a time.Time.
	EncodeTime func(time.Time) any
	// TimeColumnType is the SQL type of timestamps, for schema_migrations.
	TimeColumnType string
	// GroupCommit batches concurrent link session inserts into shared
	// transactions: for a database with one writer connection, where
	// commits queue anyway.
	GroupCommit bool
	// PrepareStatements prepares each statement once per connection through
	// database/sql; off when the driver caches statements itself.
	PrepareStatements bool
	// Classify tells EConflict (a uniqueness clash) and EUnavailable (the
	// database cannot be reached, or is too busy) from other failures,
	// which it reports as "".
	Classify func(error) linking.ErrorCode
	// RetryOnce reports a failure worth one more try on a new connection:
	// the connection was lost, and nothing was committed. nil: never.
	RetryOnce func(error) bool
	// SkipLocked ends a locking read that skips rows other transactions
	// hold (" FOR UPDATE SKIP LOCKED"), so replicas claiming work never
	// wait for each other nor claim the same rows; "" where writers are
	// serialised anyway (SQLite).
	SkipLocked string
	// LockStream, run with an app user's id before that user's streamed
	// events are inserted, holds other such inserts until the transaction
	// ends, so one user's events commit in Seq order and a stream resuming
	// after the highest Seq it saw misses none; "" where writers are
	// serialised anyway (SQLite).
	LockStream string
	// Migrations holds the schema as migrations/NNNN_description.sql files.
	Migrations fs.FS
	// LockMigrations serialises migrations across processes on conn and
	// returns the unlock; nil when each migration's transaction suffices.
	LockMigrations func(ctx context.Context, conn *sql.Conn) (unlock func(), err error)
}

// Store implements linking.Store on a SQL database.
type Store struct {
	writer *sql.DB
	reader *sql.DB // may be the same as writer
	d      Dialect
	q      queries
	eq     eventQueries
	stmts  statementCache
	// sessionInserts batches CreateLinkSession; nil without GroupCommit.
	sessionInserts *groupCommit
}

var _ linking.Store = (*Store)(nil)

// New applies pending migrations through writer and returns the store.
// Reads go to reader, which may be writer itself.
func New(ctx context.Context, writer, reader *sql.DB, d Dialect) (*Store, error) {
	s := &Store{writer: writer, reader: reader, d: d, q: newQueries(d), eq: newEventQueries(d), stmts: statementCache{}}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	if d.PrepareStatements {
		if err := s.stmts.prepare(ctx, s.q.all(), writer, reader); err != nil {
			s.stmts.close()
			return nil, s.wrapErr("prepare statements", err)
		}
	}
	if d.GroupCommit {
		s.sessionInserts = newGroupCommit(s, s.q.insertSession)
	}
	return s, nil
}

// ReaderStats is the read pool's database/sql statistics.
func (s *Store) ReaderStats() sql.DBStats { return s.reader.Stats() }

// System names the database: "sqlite" or "postgres".
func (s *Store) System() string { return s.d.Name }

// Ping checks the database can be reached.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.writer.PingContext(ctx); err != nil {
		return s.wrapErr("ping", err)
	}
	if s.reader != s.writer {
		if err := s.reader.PingContext(ctx); err != nil {
			return s.wrapErr("ping reader", err)
		}
	}
	return nil
}

// Close closes the database handles.
func (s *Store) Close() error {
	if s.sessionInserts != nil {
		s.sessionInserts.close()
	}
	s.stmts.close()
	var readerErr error
	if s.reader != s.writer {
		readerErr = s.reader.Close()
	}
	return errors.Join(readerErr, s.writer.Close())
}

// unavailableRetryAfter is what callers are told to wait when the database
// is out of reach: long enough for a pool to reconnect.
const unavailableRetryAfter = 2 * time.Second

// wrapErr turns a driver error into a *linking.Error whose message is safe
// to show; the cause, named by op, is kept for logs. Errors that already
// carry a code pass through.
func (s *Store) wrapErr(op string, err error) error {
	if _, ok := linking.AsError(err); ok || errors.Is(err, context.Canceled) {
		return err
	}
	cause := fmt.Errorf("%s %s: %w", s.d.Name, op, err)
	switch s.d.Classify(err) {
	case linking.EConflict:
		return linking.WrapError(linking.EConflict, cause, "the record exists already")
	case linking.EUnavailable:
		e := linking.WrapError(linking.EUnavailable, cause, "the database is unavailable, try again shortly")
		e.RetryAfter = unavailableRetryAfter
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		e := linking.WrapError(linking.EUnavailable, cause, "the database did not answer in time, try again shortly")
		e.RetryAfter = unavailableRetryAfter
		return e
	}
	return linking.WrapError(linking.EInternal, cause, "storage failure")
}

// run runs fn, once more when it failed in a way the dialect says is safe
// to retry (a pool connection killed under it, say), and names op in the
// error.
func (s *Store) run(ctx context.Context, op string, fn func() error) error {
	err := fn()
	if err != nil && ctx.Err() == nil && s.d.RetryOnce != nil && s.d.RetryOnce(err) && !errors.As(err, new(commitError)) {
		// Idle connections share the fate of the one that broke (a failover,
		// a restart, pg_terminate_backend): drop them all so the retry, and
		// the requests after it, dial afresh.
		s.dropIdleConnections()
		err = fn()
	}
	if err != nil {
		return s.wrapErr(op, err)
	}
	return nil
}

func (s *Store) dropIdleConnections() {
	maxIdle := s.writer.Stats().MaxOpenConnections
	s.writer.SetMaxIdleConns(-1) // closes every idle connection
	s.writer.SetMaxIdleConns(maxIdle)
}

// commitError marks a failed COMMIT: whether it took effect is unknown, so
// it is never retried.
type commitError struct{ error }

func (e commitError) Unwrap() error { return e.error }

// inTx runs fn in a writer transaction, committing when fn returns nil,
// once more when the dialect says the failure is safe to retry.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx handle) error) error {
	return s.run(ctx, op, func() error { return s.inTxOnce(ctx, fn) })
}

// inTxOnce runs fn in one writer transaction; a failed COMMIT comes back
// as a commitError.
func (s *Store) inTxOnce(ctx context.Context, fn func(tx handle) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(handle{s: s, db: s.writer, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return commitError{err}
	}
	return nil
}

// rebind writes a query for the dialect: ? becomes $n where needed.
func rebind(d Dialect, query string) string {
	if !d.NumberedPlaceholders {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// dbTime reads a timestamp stored either way (see Dialect.EncodeTime).
type dbTime struct {
	t     time.Time
	valid bool
}

func (v *dbTime) Scan(src any) error {
	switch x := src.(type) {
	case nil:
		*v = dbTime{}
	case int64:
		*v = dbTime{t: time.UnixMicro(x).UTC(), valid: true}
	case time.Time:
		*v = dbTime{t: x.UTC(), valid: true}
	default:
		return fmt.Errorf("timestamp of type %T", src)
	}
	return nil
}

func (v dbTime) ptr() *time.Time {
	if !v.valid {
		return nil
	}
	t := v.t
	return &t
}

// encodeNullable stores nil as NULL.
func (s *Store) encodeNullable(t *time.Time) any {
	if t == nil {
		return nil
	}
	return s.d.EncodeTime(*t)
}

// nowIfZero lets callers leave a timestamp unset.
func nowIfZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}
