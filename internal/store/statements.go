package store

import (
	"context"
	"database/sql"
)

// handle runs the store's statements on a pool or inside a transaction.
// When the dialect asks for it, every statement is prepared on both pools
// when the store opens and reused: database/sql prepares it again on each
// new connection it runs on, and inside a transaction reuses the
// connection's own.
type handle struct {
	s  *Store
	db *sql.DB
	tx *sql.Tx // nil outside a transaction
}

func (s *Store) read() handle  { return handle{s: s, db: s.reader} }
func (s *Store) write() handle { return handle{s: s, db: s.writer} }

// statementCache holds a store's prepared statements, by pool and text.
// It is filled once, before any use: preparing later, from inside a
// transaction, would wait for a connection the transaction holds.
type statementCache map[stmtKey]*sql.Stmt

type stmtKey struct {
	db    *sql.DB
	query string
}

// prepare prepares every query on each pool in dbs.
func (c statementCache) prepare(ctx context.Context, queries []*string, dbs ...*sql.DB) error {
	for _, db := range dbs {
		for _, q := range queries {
			if _, done := c[stmtKey{db, *q}]; done {
				continue
			}
			st, err := db.PrepareContext(ctx, *q)
			if err != nil {
				return err
			}
			c[stmtKey{db, *q}] = st
		}
	}
	return nil
}

func (c statementCache) close() {
	for _, st := range c {
		st.Close()
	}
}

// stmt is query ready to run on h, or nil when the dialect runs statements
// unprepared.
func (h handle) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st := h.s.stmts[stmtKey{h.db, query}]
	if st == nil || h.tx == nil {
		return st, nil
	}
	return h.tx.StmtContext(ctx, st), nil
}

func (h handle) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := h.stmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case st != nil:
		return st.ExecContext(ctx, args...)
	case h.tx != nil:
		return h.tx.ExecContext(ctx, query, args...)
	}
	return h.db.ExecContext(ctx, query, args...)
}

func (h handle) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := h.stmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case st != nil:
		return st.QueryContext(ctx, args...)
	case h.tx != nil:
		return h.tx.QueryContext(ctx, query, args...)
	}
	return h.db.QueryContext(ctx, query, args...)
}

// row is one result row, or the error that kept it from being read.
type row interface{ Scan(dest ...any) error }

type failedRow struct{ err error }

func (r failedRow) Scan(...any) error { return r.err }

func (h handle) queryRow(ctx context.Context, query string, args ...any) row {
	st, err := h.stmt(ctx, query)
	switch {
	case err != nil:
		return failedRow{err}
	case st != nil:
		return st.QueryRowContext(ctx, args...)
	case h.tx != nil:
		return h.tx.QueryRowContext(ctx, query, args...)
	}
	return h.db.QueryRowContext(ctx, query, args...)
}
