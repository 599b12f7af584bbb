package junction

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error is what every failed call to Junction becomes: a non-2xx response,
// a transport failure or timeout (StatusCode 0) or a 2xx body that could not
// be decoded. Its text never holds the API key or a link token.
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
	garbled   bool      // a 2xx body that is not the JSON it should be
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

// Retryable reports whether the same call may succeed later: no answer in
// time, Junction's 408 and 429, and its 5xx.
func (e *Error) Retryable() bool {
	return e.StatusCode == 0 || retryableStatus(e.StatusCode)
}

// Malformed reports whether Junction answered success with a body that
// could not be read (garbled, cut short or too large).
func (e *Error) Malformed() bool {
	return e.StatusCode >= 200 && e.StatusCode <= 299
}

// IsNotFound reports whether err is (or wraps) a Junction 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}
