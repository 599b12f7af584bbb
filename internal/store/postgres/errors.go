package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/linkbff/linkbff/internal/apperr"
)

const uniqueViolation = "23505"

// wrapErr turns a driver error into an Internal apperr.Error whose message is
// safe to show; the cause, named by op, is kept for logs. Errors that already
// carry a code pass through.
func wrapErr(op string, err error) error {
	if _, ok := apperr.As(err); ok {
		return err
	}
	return apperr.Wrap(apperr.Internal, fmt.Errorf("postgres %s: %w", op, err), "storage failure")
}

func isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == uniqueViolation
}

// toDB truncates to the microseconds timestamptz keeps (PostgreSQL would
// round instead), so both backends store the same instant.
func toDB(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func toDBNullable(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := toDB(*t)
	return &v
}

// fromDBNullable converts pgx's local-zone time to UTC.
func fromDBNullable(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

// nowIfZero lets callers leave a timestamp unset.
func nowIfZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}
