package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/ratelimit"
)

type ctxKey int

const requestIDKey ctxKey = iota

var incomingRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID takes a sane X-Request-Id from the caller or makes one, and
// echoes it so app developers can quote it.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !incomingRequestID.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// accessLog writes one line per request and tells observe of it. It logs
// the path only: query strings carry link tokens and callback details, which
// stay out of logs.
func accessLog(log zerolog.Logger, observe RequestObserver) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			answered := AnsweredRequest{
				Route: chi.RouteContext(r.Context()).RoutePattern(), Method: r.Method,
				RequestID: requestIDFrom(r.Context()), Status: status, Elapsed: time.Since(start),
			}
			ev := log.Info()
			if sc := trace.SpanContextFromContext(r.Context()); sc.HasTraceID() {
				ev = ev.Str("trace_id", sc.TraceID().String())
			}
			ev.Str("request_id", answered.RequestID).
				Str("method", r.Method).
				Str("path", r.URL.Path).
				Str("route", answered.Route).
				Int("status", status).
				Int("bytes", ww.BytesWritten()).
				Dur("duration", answered.Elapsed).
				Str("remote", r.RemoteAddr).
				Msg("request")
			if observe != nil {
				observe.ObserveRequest(r.Context(), answered)
			}
		})
	}
}

func recoverPanics(log zerolog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error().Str("request_id", requestIDFrom(r.Context())).Interface("panic", v).Msg("handler panicked")
					encodeError(w, r, log, linking.Errorf(linking.EInternal, "internal error"))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// requestDeadline bounds the work done for one request, Junction calls and
// their retries included, so callers get an answer (not a dropped
// connection) before the server's write timeout. Streams (the paths in
// streams) are no requests of that kind and bound themselves.
func requestDeadline(d time.Duration, streams ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if slices.Contains(streams, r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// demoCSP lets the demo run only its own files; provider logos may come
// from Junction's CDN.
const demoCSP = "default-src 'self'; img-src 'self' https: data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func contentSecurityPolicy(policy string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", policy)
			next.ServeHTTP(w, r)
		})
	}
}

// corsFor allows exact origins only; no origins means no cross-origin
// caller at all. Bearer tokens travel in a header, so credentials (cookies)
// are never allowed.
func corsFor(origins []string) func(http.Handler) http.Handler {
	var refuseAll func(*http.Request, string) bool
	if len(origins) == 0 {
		// go-chi/cors reads an empty list as "any origin"; a func that
		// refuses everything is how it says "none".
		refuseAll = func(*http.Request, string) bool { return false }
	}
	return cors.Handler(cors.Options{
		AllowedOrigins:   origins,
		AllowOriginFunc:  refuseAll,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodDelete},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "X-Request-Id", "Last-Event-ID"},
		ExposedHeaders:   []string{"X-Request-Id", "Retry-After"},
		AllowCredentials: false,
		MaxAge:           600,
	})
}

// requireUser verifies the bearer token and puts the principal in context.
func requireUser(log zerolog.Logger, v TokenVerifier) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, err := auth.BearerToken(r)
			if err == nil {
				var p auth.Principal
				if p, err = v.Verify(r.Context(), token); err == nil {
					next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
					return
				}
			}
			encodeError(w, r, log, err)
		})
	}
}

// userID is the authenticated app user; requireUser guarantees one.
func userID(r *http.Request) string {
	p, _ := auth.PrincipalFrom(r.Context())
	return p.UserID
}

// budget spends one request of the caller's budget: nil while it lasts, an
// ERateLimited error (with RetryAfter) once it is spent.
type budget func(w http.ResponseWriter, r *http.Request) error

// budgetOf is l's budget per key(r). A limiter failure lets the request
// through: rate limits protect Junction's quota, not correctness (the Redis
// limiter fails open by itself and logs its outages).
func budgetOf(log zerolog.Logger, l ratelimit.Limiter, key func(*http.Request) string) budget {
	if l == nil {
		return func(http.ResponseWriter, *http.Request) error { return nil }
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		d, err := l.Allow(r.Context(), key(r))
		switch {
		case err != nil:
			log.Warn().Err(err).Str("request_id", requestIDFrom(r.Context())).Msg("rate limiter unavailable; request allowed")
		case !d.Allowed:
			w.Header().Set("X-RateLimit-Remaining", "0")
			return &linking.Error{Code: linking.ERateLimited, Message: "too many requests, retry after " + strconv.Itoa(int(d.RetryAfter.Seconds()+0.999)) + "s", RetryAfter: d.RetryAfter}
		}
		return nil
	}
}

// limitBy answers 429 with Retry-After once b is spent.
func limitBy(log zerolog.Logger, b budget) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := b(w, r); err != nil {
				encodeError(w, r, log, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func userKey(r *http.Request) string { return "user:" + userID(r) }

// ipKey reads the client IP from the one trusted source: the configured
// proxy header (set by your load balancer), else the TCP peer. It never
// trusts X-Forwarded-For on its own.
func ipKey(route, trustedHeader string) func(*http.Request) string {
	return func(r *http.Request) string {
		if trustedHeader != "" {
			if v := r.Header.Get(trustedHeader); v != "" {
				// A proxy that appends puts the client it saw last.
				parts := strings.Split(v, ",")
				if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
					return route + ":ip:" + ip.String()
				}
			}
		}
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		return route + ":ip:" + host
	}
}
