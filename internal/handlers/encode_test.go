package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/linking"
)

func TestEncodeErrorMapsEveryCode(t *testing.T) {
	tests := []struct {
		err         error
		wantStatus  int
		wantCode    string
		wantMessage string
	}{
		{linking.FieldErrorf("provider", "bad provider"), 400, "invalid_request", "bad provider"},
		{linking.Errorf(linking.EUnauthenticated, "invalid or expired token"), 401, "unauthenticated", "invalid or expired token"},
		{linking.Errorf(linking.EForbidden, "no"), 403, "forbidden", "no"},
		{linking.Errorf(linking.ENotFound, "gone"), 404, "not_found", "gone"},
		{linking.Errorf(linking.EConflict, "twice"), 409, "conflict", "twice"},
		{linking.Errorf(linking.ETooLarge, "big"), 413, "payload_too_large", "big"},
		{&linking.Error{Code: linking.ERateLimited, Message: "slow down", RetryAfter: 1500 * time.Millisecond}, 429, "rate_limited", "slow down"},
		{linking.Errorf(linking.EUpstreamUnavailable, "Junction is unavailable"), 503, "upstream_unavailable", "Junction is unavailable"},
		{linking.WrapError(linking.EUpstream, errors.New("junction: POST /v2/link/token: status 400: bad redirect_url"), "Junction rejected linkbff's request"), 502, "upstream_error", "Junction rejected linkbff's request"},
		{&linking.Error{Code: linking.EUnavailable, Message: "the database is unavailable", RetryAfter: 2 * time.Second}, 503, "unavailable", "the database is unavailable"},
		// Internal details never reach the caller.
		{linking.WrapError(linking.EInternal, errors.New("pq: password=hunter2"), "db exploded at row 7"), 500, "internal", "internal error"},
		{errors.New("a plain error with secrets sk_us_x"), 500, "internal", "internal error"},
		{fmt.Errorf("wrapped: %w", linking.Errorf(linking.ENotFound, "gone")), 404, "not_found", "gone"},
	}
	for _, tc := range tests {
		w := httptest.NewRecorder()
		encodeError(w, httptest.NewRequest(http.MethodGet, "/", nil), zerolog.Nop(), tc.err)
		var body errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: body is not JSON: %s", tc.err, w.Body)
		}
		if w.Code != tc.wantStatus || string(body.Error.Code) != tc.wantCode || body.Error.Message != tc.wantMessage {
			t.Errorf("%v → %d %s", tc.err, w.Code, w.Body)
		}
		// 1.5 s rounds up to 2; a 429 or 503 whose cause named no wait
		// advises defaultRetryAfter; nothing else advises a wait.
		wantRetryAfter := ""
		if tc.wantStatus == 429 || tc.wantStatus == 503 {
			wantRetryAfter = strconv.Itoa(int(defaultRetryAfter / time.Second))
		}
		if got := w.Header().Get("Retry-After"); got != wantRetryAfter {
			t.Errorf("%v: Retry-After = %q, want %q", tc.err, got, wantRetryAfter)
		}
		if tc.wantStatus == 401 && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 without WWW-Authenticate")
		}
	}
	w := httptest.NewRecorder()
	encodeError(w, httptest.NewRequest(http.MethodGet, "/", nil), zerolog.Nop(), fmt.Errorf("x: %w", context.Canceled))
	if w.Code != statusClientClosed {
		t.Errorf("cancelled request → %d", w.Code)
	}
}

func TestIPKeyTrustsOnlyTheConfiguredSource(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.7:5555"
	r.Header.Set("X-Forwarded-For", "1.2.3.4")
	r.Header.Set("X-Real-IP", "5.6.7.8")
	if got := ipKey("cb", "")(r); got != "cb:ip:10.0.0.7" {
		t.Errorf("no trusted header: %s", got)
	}
	if got := ipKey("cb", "X-Real-IP")(r); got != "cb:ip:5.6.7.8" {
		t.Errorf("X-Real-IP trusted: %s", got)
	}
	r.Header.Set("X-Forwarded-For", "6.6.6.6, 9.9.9.9")
	if got := ipKey("cb", "X-Forwarded-For")(r); got != "cb:ip:9.9.9.9" {
		t.Errorf("X-Forwarded-For trusted takes the proxy-appended entry: %s", got)
	}
	r.Header.Set("X-Real-IP", "not-an-ip")
	if got := ipKey("cb", "X-Real-IP")(r); got != "cb:ip:10.0.0.7" {
		t.Errorf("garbage in the trusted header falls back to the peer: %s", got)
	}
}
