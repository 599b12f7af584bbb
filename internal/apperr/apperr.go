// Package apperr defines the error codes the domain speaks. Each layer
// returns *Error with a code; internal/handlers maps codes to HTTP status in
// one place. The Message is safe to show to an API caller; the wrapped Err is
// for logs only.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error. Its string value is what API callers see in
// {"error":{"code":...}}.
type Code string

const (
	Invalid         Code = "invalid_request"
	Unauthenticated Code = "unauthenticated"
	Forbidden       Code = "forbidden"
	NotFound        Code = "not_found"
	Conflict        Code = "conflict"
	TooLarge        Code = "payload_too_large"
	RateLimited     Code = "rate_limited"
	Unavailable     Code = "upstream_unavailable"
	Internal        Code = "internal"
)

// Error is an error with a code and a caller-safe message.
type Error struct {
	Code    Code
	Message string
	// Field names the request field at fault, when there is one.
	Field string
	// RetryAfter is set for RateLimited and Unavailable when known.
	RetryAfter time.Duration
	// Err is the cause; never shown to callers.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a formatted caller-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidField reports a bad request field by name.
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a code and caller-safe message to a cause.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
