package junction

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/linkbff/linkbff/internal/apperr"
)

// Error is what every failed call to Junction becomes: a non-2xx response,
// a transport failure (StatusCode 0) or a 2xx body that could not be decoded.
// Methods return it wrapped in an *apperr.Error, so errors.As finds both.
type Error struct {
	StatusCode int
	Method     string
	// Path is the request path without its query; it never holds a secret.
	Path string
	// Detail is Junction's human-readable explanation, or a truncated raw
	// snippet when the body had an unknown shape.
	Detail string
	// ErrorType is detail.error_type when Junction sent one.
	ErrorType string
	// UserID is detail.user_id of the 400 "client user id already exists".
	UserID     string
	RetryAfter time.Duration

	createdOn time.Time // detail.created_on of the conflict, when present
	cause     error     // transport-level cause, kept for errors.Is
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "junction: %s %s: ", e.Method, e.Path)
	switch {
	case e.StatusCode == 0:
		b.WriteString("request failed")
	case e.StatusCode >= 200 && e.StatusCode <= 299:
		fmt.Fprintf(&b, "unexpected response to status %d", e.StatusCode)
	default:
		fmt.Fprintf(&b, "status %d", e.StatusCode)
		if text := http.StatusText(e.StatusCode); text != "" {
			b.WriteString(" " + text)
		}
	}
	if e.ErrorType != "" {
		fmt.Fprintf(&b, " [%s]", e.ErrorType)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// Unwrap exposes the transport cause (e.g. context.DeadlineExceeded).
func (e *Error) Unwrap() error { return e.cause }

// AppCode classifies the failure for the domain. A 401/403 means our own
// API key is wrong, which is an operator problem, hence Internal.
func (e *Error) AppCode() apperr.Code {
	switch s := e.StatusCode; {
	case s == http.StatusNotFound:
		return apperr.NotFound
	case s == http.StatusBadRequest || s == http.StatusUnprocessableEntity:
		return apperr.Invalid
	case s == http.StatusConflict:
		return apperr.Conflict
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return apperr.Internal
	case s == http.StatusTooManyRequests:
		return apperr.RateLimited
	case s == 0, s == http.StatusRequestTimeout, s >= 500, s >= 200 && s <= 299:
		return apperr.Unavailable
	default:
		return apperr.Internal
	}
}

// appError wraps e with its code and a message safe for API callers;
// Junction's own words stay in the wrapped error, for logs.
func (e *Error) appError() *apperr.Error {
	code := e.AppCode()
	var message string
	switch code {
	case apperr.NotFound:
		message = "not found at Junction"
	case apperr.Invalid:
		message = "Junction rejected the request"
	case apperr.Conflict:
		message = "Junction reported a conflict"
	case apperr.RateLimited:
		message = "Junction is rate limiting requests"
	case apperr.Unavailable:
		message = "Junction is unavailable"
	default:
		message = "Junction request failed"
	}
	ae := apperr.Wrap(code, e, "%s", message)
	if code == apperr.RateLimited || code == apperr.Unavailable {
		ae.RetryAfter = e.RetryAfter
	}
	return ae
}

// IsNotFound reports whether err is (or wraps) a Junction 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}
