package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/linkbff/linkbff/internal/apperr"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// wrapErr turns a driver error into an Internal apperr.Error whose message is
// safe to show; the cause, named by op, is kept for logs. Errors that already
// carry a code pass through.
func wrapErr(op string, err error) error {
	if _, ok := apperr.As(err); ok {
		return err
	}
	return apperr.Wrap(apperr.Internal, fmt.Errorf("sqlite %s: %w", op, err), "storage failure")
}

// isUniqueViolation reports whether err is a PRIMARY KEY or UNIQUE failure.
func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// toDB converts a time to the stored form: unix microseconds, the precision
// PostgreSQL keeps too.
func toDB(t time.Time) int64 { return t.UnixMicro() }

func fromDB(us int64) time.Time { return time.UnixMicro(us).UTC() }

func toDBNullable(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: toDB(*t), Valid: true}
}

func fromDBNullable(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromDB(v.Int64)
	return &t
}

// nowIfZero lets callers leave a timestamp unset.
func nowIfZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}
