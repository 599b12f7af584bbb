// Package handlers is linkbff's HTTP layer: routes, request decoding,
// response encoding, and the one place where domain errors become HTTP
// statuses.
package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/events"
	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/ratelimit"
)

// TokenVerifier checks an app's bearer token.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (auth.Principal, error)
}

// ReadyCheck is one dependency /readyz reports on.
type ReadyCheck struct {
	Name  string
	Check func(context.Context) error
	// Optional marks a dependency linkbff works without (Redis: limits fail
	// open): its failure shows as "degraded" but keeps linkbff ready, so an
	// outage of it does not take every replica out of the load balancer.
	Optional bool
}

// Deps is everything the HTTP layer needs, wired by cmd/server.
type Deps struct {
	Log      zerolog.Logger
	Linking  *linking.Service
	Verifier TokenVerifier
	// Webhooks verifies Svix signatures; nil disables the webhook route.
	Webhooks WebhookVerifier
	// DevIssuer and Emulator exist only in dev mode.
	DevIssuer *auth.DevIssuer
	Emulator  http.Handler
	// Demo serves the demo app at /; nil when disabled.
	Demo               http.Handler
	ReadyChecks        []ReadyCheck
	CORSAllowedOrigins []string
	UserLimiter        ratelimit.Limiter
	IPLimiter          ratelimit.Limiter
	TrustedProxyHeader string
	// Requests hears of every answered request (metrics); nil for none.
	Requests RequestObserver
	// Streams holds this replica's live event streams (GET /v1/events).
	Streams        *events.Hub
	StreamSettings StreamSettings
	// AdminAPIKey opens /admin/v1 to the app's backend; "" leaves it off.
	AdminAPIKey string
}

// RequestObserver hears of each request once it is answered, as the access
// log sees it.
type RequestObserver interface {
	ObserveRequest(ctx context.Context, req AnsweredRequest)
}

// AnsweredRequest is one request as the access log records it. Route is
// chi's pattern, never the raw path.
type AnsweredRequest struct {
	Route, Method, RequestID string
	Status                   int
	Elapsed                  time.Duration
}

// WebhookVerifier checks a delivery's Svix signature (svix.Webhook does).
type WebhookVerifier interface {
	Verify(payload []byte, headers http.Header) error
}

// RequestDeadline bounds every request; the server's write timeout must be
// longer. Junction's webhooks want an answer within 15 s, well inside it.
const RequestDeadline = 20 * time.Second

// New returns linkbff's HTTP handler.
func New(d Deps) http.Handler {
	r := chi.NewRouter()
	r.Use(requestID, accessLog(d.Log, d.Requests), recoverPanics(d.Log), securityHeaders, requestDeadline(RequestDeadline, EventStreamPath))
	addRoutes(r, d)
	return r
}
