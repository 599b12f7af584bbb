package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/linking"
)

// statusClientClosed is nginx's convention for a caller that hung up.
const statusClientClosed = 499

// maxJSONBody caps app API request bodies; they are a few small fields.
const maxJSONBody = 64 << 10

func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // link_web_url keeps its & readable; JSON is never HTML here
	_ = enc.Encode(v)
}

// decode reads a JSON body into v. An empty body leaves v as it is, since
// every field linkbff accepts is optional.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		// Parsed, not prefix-matched: application/jsonx is not JSON.
		if mediaType, _, err := mime.ParseMediaType(ct); err != nil || mediaType != "application/json" {
			return linking.Errorf(linking.EInvalid, "Content-Type must be application/json")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var tooLarge *http.MaxBytesError
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		// Nothing but white space may follow: not a second value, nor the
		// stray ] of `{} ]`.
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			if errors.As(err, &tooLarge) {
				return linking.Errorf(linking.ETooLarge, "request body is larger than %d bytes", maxJSONBody)
			}
			return linking.Errorf(linking.EInvalid, "request body must hold a single JSON object")
		}
		return nil
	case errors.Is(err, io.EOF):
		return nil
	case errors.As(err, &tooLarge):
		return linking.Errorf(linking.ETooLarge, "request body is larger than %d bytes", maxJSONBody)
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return linking.Errorf(linking.EInvalid, "request body is not valid JSON")
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return linking.Errorf(linking.EInvalid, "request body must be a JSON object")
	case errors.As(err, &typeErr):
		return linking.FieldErrorf(typeErr.Field, "field %s must be %s", typeErr.Field, typeErr.Type.String())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return linking.FieldErrorf(field, "unknown field %q", field)
	default:
		return linking.Errorf(linking.EInvalid, "request body is not a valid JSON object")
	}
}

// errorBody is the API's one error shape.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    linking.ErrorCode `json:"code"`
	Message string            `json:"message"`
	Field   string            `json:"field,omitempty"`
}

// HTTPStatus is the one mapping from the domain's error codes to HTTP
// statuses.
func HTTPStatus(code linking.ErrorCode) int {
	switch code {
	case linking.EInvalid:
		return http.StatusBadRequest
	case linking.EUnauthenticated:
		return http.StatusUnauthorized
	case linking.EForbidden:
		return http.StatusForbidden
	case linking.ENotFound:
		return http.StatusNotFound
	case linking.EConflict:
		return http.StatusConflict
	case linking.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case linking.ERateLimited:
		return http.StatusTooManyRequests
	case linking.EUpstream:
		return http.StatusBadGateway
	case linking.EUpstreamUnavailable, linking.EUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// encodeError writes err as {"error":{...}} and logs it once. Server-side
// failures get a generic message; their cause goes to the log only.
func encodeError(w http.ResponseWriter, r *http.Request, log zerolog.Logger, err error) {
	status, detail, e := describe(err)
	logError(log, r, status, err)
	setRetryAfter(w, status, e)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="linkbff", error="invalid_token"`)
	}
	encode(w, status, errorBody{Error: detail})
}

// defaultRetryAfter is the wait a 429 or 503 advises when its cause named
// none (Junction answered 503 without Retry-After, say): an app that is
// told to come back should always be told when.
const defaultRetryAfter = 2 * time.Second

// setRetryAfter tells a 429 or 503 when to come back, in whole seconds
// rounded up: e's own wait, else defaultRetryAfter.
func setRetryAfter(w http.ResponseWriter, status int, e *linking.Error) {
	wait := time.Duration(0)
	switch {
	case e != nil && e.RetryAfter > 0:
		wait = e.RetryAfter
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests:
		wait = defaultRetryAfter
	default:
		return
	}
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
}

// describe turns err into a status and a caller-safe body.
func describe(err error) (int, errorDetail, *linking.Error) {
	if errors.Is(err, context.Canceled) {
		// The caller went away; nobody reads this answer.
		return statusClientClosed, errorDetail{Code: linking.EUnavailable, Message: "request cancelled"}, nil
	}
	e, ok := linking.AsError(err)
	if !ok {
		return http.StatusInternalServerError, errorDetail{Code: linking.EInternal, Message: "internal error"}, nil
	}
	status := HTTPStatus(e.Code)
	detail := errorDetail{Code: e.Code, Message: e.Message, Field: e.Field}
	if status == http.StatusInternalServerError {
		detail = errorDetail{Code: linking.EInternal, Message: "internal error"}
	}
	return status, detail, e
}

func logError(log zerolog.Logger, r *http.Request, status int, err error) {
	ev := log.Debug()
	if status >= 500 {
		ev = log.Error()
	}
	ev.Str("request_id", requestIDFrom(r.Context())).Int("status", status).Err(err).Msg("request failed")
}

func handleNotFound() http.HandlerFunc {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusNotFound, errorBody{Error: errorDetail{Code: linking.ENotFound, Message: fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path)}})
	})
}

// handleMethodNotAllowed answers 405 with the Allow header RFC 9110 asks
// for, listing the methods routes has for the path.
func handleMethodNotAllowed(routes chi.Routes) http.HandlerFunc {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if routes.Match(chi.NewRouteContext(), m, path) {
				allowed = append(allowed, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		encode(w, http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "method_not_allowed", Message: fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path)}})
	})
}
