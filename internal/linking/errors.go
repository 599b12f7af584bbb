package linking

import (
	"errors"
	"fmt"
	"time"
)

// ErrorCode classifies a failure in the domain's words. Its string is what
// API callers see in {"error":{"code":...}}; internal/handlers maps each code
// to an HTTP status in one place.
type ErrorCode string

const (
	EInvalid         ErrorCode = "invalid_request"   // the caller sent something wrong
	EUnauthenticated ErrorCode = "unauthenticated"   // no valid credentials
	EForbidden       ErrorCode = "forbidden"         // valid credentials, not allowed
	ENotFound        ErrorCode = "not_found"         // no such thing (for this caller)
	EConflict        ErrorCode = "conflict"          // it exists already, or changed meanwhile
	ETooLarge        ErrorCode = "payload_too_large" // the request body is too big
	ERateLimited     ErrorCode = "rate_limited"      // this caller spent its budget
	// EUpstreamUnavailable: Junction is down, slow or throttling us (its
	// 429/5xx/timeouts). Worth retrying after RetryAfter.
	EUpstreamUnavailable ErrorCode = "upstream_unavailable"
	// EUpstream: Junction refused what linkbff sent (its other 4xx). That is
	// linkbff's fault, not the caller's, and retrying will not help.
	EUpstream ErrorCode = "upstream_error"
	// EUnavailable: linkbff's own dependencies (its database) are out of
	// reach. Worth retrying after RetryAfter.
	EUnavailable ErrorCode = "unavailable"
	EInternal    ErrorCode = "internal"
)

// Error is a failure with a code and a message that is safe to show to an
// API caller. The cause (Err) is for logs only.
type Error struct {
	Code    ErrorCode
	Message string
	// Field names the request field at fault, when there is one.
	Field string
	// RetryAfter is set for the retryable codes when known.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an error with a code and a formatted caller-safe message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf reports a bad request field by name.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// WrapError attaches a code and caller-safe message to a cause.
func WrapError(code ErrorCode, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCodeOf returns the code of the first *Error in err's chain, EInternal
// for any other error, and "" for nil.
func ErrorCodeOf(err error) ErrorCode {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// IsCode reports whether err carries code.
func IsCode(err error, code ErrorCode) bool { return err != nil && ErrorCodeOf(err) == code }

// AsError returns the first *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// WithField names the request field at fault and returns e.
func (e *Error) WithField(field string) *Error {
	e.Field = field
	return e
}
