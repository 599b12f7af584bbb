package metrics

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/linkbff/linkbff/internal/events"
	"github.com/linkbff/linkbff/internal/forward"
	"github.com/linkbff/linkbff/internal/handlers"
	"github.com/linkbff/linkbff/internal/junction"
	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/ratelimit"
)

var _ handlers.RequestObserver = (*Metrics)(nil)

// ObserveRequest counts and times an answered request by its route pattern.
// Its latency carries the trace and request ids as an exemplar.
func (m *Metrics) ObserveRequest(ctx context.Context, req handlers.AnsweredRequest) {
	route, method := req.Route, methodOf(req.Method)
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(req.Status)).Inc()
	observe(m.requestDuration.WithLabelValues(route, method), req.Elapsed, exemplar(ctx, req.RequestID))
}

func methodOf(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}

// exemplar links a latency to its trace and request, when there is one.
func exemplar(ctx context.Context, requestID string) prometheus.Labels {
	labels := prometheus.Labels{}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		labels["trace_id"] = sc.TraceID().String()
	}
	if requestID != "" {
		labels["request_id"] = requestID
	}
	return labels
}

func observe(o prometheus.Observer, d time.Duration, ex prometheus.Labels) {
	if eo, ok := o.(prometheus.ExemplarObserver); ok && len(ex) > 0 {
		eo.ObserveWithExemplar(d.Seconds(), ex)
		return
	}
	o.Observe(d.Seconds())
}

// ObserveJunction is a junction.Observer: it counts and times each call by
// operation and outcome.
func (m *Metrics) ObserveJunction(ctx context.Context, op string) (context.Context, func(junction.Call)) {
	start := time.Now()
	return ctx, func(c junction.Call) {
		m.junctionCalls.WithLabelValues(op, junctionOutcome(c)).Inc()
		if c.Attempts > 1 {
			m.junctionRetries.WithLabelValues(op).Add(float64(c.Attempts - 1))
		}
		observe(m.junctionDuration.WithLabelValues(op), time.Since(start), exemplar(ctx, ""))
	}
}

func junctionOutcome(c junction.Call) string {
	switch {
	case c.Err == nil:
		return "2xx"
	case errors.Is(c.Err, context.Canceled):
		return "canceled"
	case errors.Is(c.Err, context.DeadlineExceeded):
		return "timeout"
	case c.StatusCode == 0:
		return "network"
	case c.StatusCode == http.StatusTooManyRequests:
		return "429"
	case c.StatusCode >= 500:
		return "5xx"
	case c.StatusCode >= 400:
		return "4xx"
	}
	return "bad_response" // a 2xx linkbff could not read
}

// The linking.Observer methods: the Link funnel.

var _ linking.Observer = (*Metrics)(nil)

// LinkStarted counts a link token minted.
func (m *Metrics) LinkStarted(provider string) {
	if provider == "" {
		provider = "picker"
	}
	m.linkTokens.WithLabelValues(providerLabel(provider)).Inc()
}

// CallbackRecorded counts a Link outcome.
func (m *Metrics) CallbackRecorded(o linking.Outcome) {
	m.callbacks.WithLabelValues(o.Status, errorTypeLabel(o.ErrorType)).Inc()
}

// WebhookHandled counts a verified delivery by what it did.
func (m *Metrics) WebhookHandled(eventType string, result linking.WebhookResult) {
	outcome := string(result)
	if result == linking.WebhookIgnored {
		outcome = "ignored"
	}
	m.webhooks.WithLabelValues(eventTypeLabel(eventType), outcome).Inc()
}

// ConnectionConfirmed counts a connection Junction confirmed and, when a
// link session led to it, times the way there.
func (m *Metrics) ConnectionConfirmed(provider string, sinceLinkStarted time.Duration, fromLink bool) {
	via := "other"
	if fromLink {
		via = "link"
		m.linkToConnection.Observe(sinceLinkStarted.Seconds())
	}
	m.confirmed.WithLabelValues(providerLabel(provider), via).Inc()
}

var slug = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// providerLabel keeps provider slugs (Junction's catalogue bounds them) and
// folds anything else into "other".
func providerLabel(p string) string {
	if slug.MatchString(p) {
		return p
	}
	return "other"
}

// knownErrorTypes are the error types Junction documents for Link's
// redirect, plus linkbff's "unknown" for a malformed one. The callback URL
// can be forged, so any other value is "other".
var knownErrorTypes = map[string]bool{
	"invalid_token": true, "token_expired": true, "token_consumed": true, "token_not_validated": true,
	"user_cancelled": true, "provider_credential_error": true, "provider_password_expired": true,
	"provider_api_error": true, "unsupported_region": true, "duplicate_connection": true,
	"required_scopes_not_granted": true, "incorrect_mfa_code": true, "unknown": true,
}

func errorTypeLabel(t string) string {
	switch {
	case t == "":
		return "none"
	case knownErrorTypes[t]:
		return t
	}
	return "other"
}

func eventTypeLabel(t string) string {
	switch t {
	case linking.EventConnectionCreated, linking.EventConnectionError:
		return t
	case "":
		return "unknown"
	}
	return "other"
}

// Limiter counts l's decisions by the route asking (read from the request
// context chi keeps) and backend.
func (m *Metrics) Limiter(l ratelimit.Limiter, backend string) ratelimit.Limiter {
	return &countingLimiter{Limiter: l, backend: backend, decisions: m.rateLimits}
}

type countingLimiter struct {
	ratelimit.Limiter
	backend   string
	decisions *prometheus.CounterVec
}

func (c *countingLimiter) Allow(ctx context.Context, key string) (ratelimit.Decision, error) {
	d, err := c.Limiter.Allow(ctx, key)
	decision := "allowed"
	switch {
	case err != nil:
		decision = "error"
	case !d.Allowed:
		decision = "limited"
	}
	route := "unmatched"
	if rctx := chi.RouteContext(ctx); rctx != nil && rctx.RoutePattern() != "" {
		route = rctx.RoutePattern()
	}
	c.decisions.WithLabelValues(route, c.backend, decision).Inc()
	return d, err
}

// WebhookVerifier checks a delivery's Svix signature (svix.Webhook does).
type WebhookVerifier interface {
	Verify(payload []byte, headers http.Header) error
}

// WebhookVerifier counts the deliveries whose signature v rejects; nil
// stays nil (the webhook route is off).
func (m *Metrics) WebhookVerifier(v WebhookVerifier) WebhookVerifier {
	if v == nil {
		return nil
	}
	return &countingVerifier{WebhookVerifier: v, webhooks: m.webhooks}
}

type countingVerifier struct {
	WebhookVerifier
	webhooks *prometheus.CounterVec
}

func (c *countingVerifier) Verify(payload []byte, headers http.Header) error {
	err := c.WebhookVerifier.Verify(payload, headers)
	if err != nil {
		c.webhooks.WithLabelValues("unknown", "rejected_signature").Inc()
	}
	return err
}

// Health reports check as linkbff_dependency_up{dependency=name}, run at
// each scrape with a short deadline.
func (m *Metrics) Health(name string, check func(context.Context) error) {
	m.health.mu.Lock()
	defer m.health.mu.Unlock()
	m.health.checks = append(m.health.checks, namedCheck{name, check})
}

type namedCheck struct {
	name  string
	check func(context.Context) error
}

type healthCollector struct {
	desc   *prometheus.Desc
	mu     sync.Mutex
	checks []namedCheck
}

func (h *healthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- h.desc }

func (h *healthCollector) Collect(ch chan<- prometheus.Metric) {
	h.mu.Lock()
	checks := append([]namedCheck(nil), h.checks...)
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			up := 1.0
			if c.check(ctx) != nil {
				up = 0
			}
			ch <- prometheus.MustNewConstMetric(h.desc, prometheus.GaugeValue, up, c.name)
		}()
	}
	wg.Wait()
}

// The forward.Observer and events.Observer methods: events for the app.

var (
	_ forward.Observer = (*Metrics)(nil)
	_ events.Observer  = (*Metrics)(nil)
)

// DeliveryAttempted counts an attempt to deliver an event to the app's
// backend by its outcome.
func (m *Metrics) DeliveryAttempted(outcome string) {
	switch outcome {
	case forward.OutcomeDelivered, forward.OutcomeRetrying, forward.OutcomeFailed:
	default:
		outcome = "other"
	}
	m.forwarded.WithLabelValues(outcome).Inc()
}

// StreamOpened counts an open event stream.
func (m *Metrics) StreamOpened() { m.streamsOpen.Inc() }

// StreamClosed counts one stream fewer.
func (m *Metrics) StreamClosed() { m.streamsOpen.Dec() }

// StreamRefused counts a stream refused at a cap.
func (m *Metrics) StreamRefused(reason string) {
	if reason != "per_user" && reason != "total" {
		reason = "other"
	}
	m.streamsRefused.WithLabelValues(reason).Inc()
}
