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

// stmt is query's prepared statement, bound to h's transaction if any, or
// nil when the dialect runs statements unprepared.
func (h handle) stmt(ctx context.Context, query string) *sql.Stmt {
	st := h.s.stmts[stmtKey{h.db, query}]
	if st != nil && h.tx != nil {
		return h.tx.StmtContext(ctx, st)
	}
	return st
}

// unprepared is what runs a statement that was not prepared.
func (h handle) unprepared() interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
} {
	if h.tx != nil {
		return h.tx
	}
	return h.db
}

func (h handle) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := h.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return h.unprepared().ExecContext(ctx, query, args...)
}

func (h handle) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := h.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return h.unprepared().QueryContext(ctx, query, args...)
}

func (h handle) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := h.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return h.unprepared().QueryRowContext(ctx, query, args...)
}
