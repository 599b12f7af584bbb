// Package metrics is linkbff's Prometheus instrumentation: HTTP requests by
// route pattern, Junction calls, webhooks, rate-limit decisions, the health
// of the database and Redis, and the Link funnel. It plugs into the parts it
// watches through their own hooks (an HTTP middleware, the Junction client's
// observers, linking's Observer port, decorators of the rate limiters and of
// the webhook verifier), so none of them imports Prometheus.
//
// Every label value is bounded: route patterns (never raw paths), known
// methods, error types and event types, provider slugs; never a user id, a
// token or a session id.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "linkbff"

// Metrics holds linkbff's collectors in a registry of its own, so several
// servers in one process (as in tests) do not share counts.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec

	junctionCalls    *prometheus.CounterVec
	junctionDuration *prometheus.HistogramVec
	junctionRetries  *prometheus.CounterVec

	webhooks   *prometheus.CounterVec
	rateLimits *prometheus.CounterVec
	health     *healthCollector

	linkTokens       *prometheus.CounterVec
	callbacks        *prometheus.CounterVec
	confirmed        *prometheus.CounterVec
	linkToConnection prometheus.Histogram

	forwarded      *prometheus.CounterVec
	streamsOpen    prometheus.Gauge
	streamsRefused *prometheus.CounterVec
}

// latencyBuckets span a fast store read to the 20 s request deadline.
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20}

// New registers every collector, the Go runtime's and the process's too.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: counter("http_requests_total",
			"HTTP requests answered, by route pattern, method and status.", "route", "method", "status"),
		requestDuration: histogram("http_request_duration_seconds",
			"Time to answer an HTTP request, by route pattern and method.", latencyBuckets, "route", "method"),
		junctionCalls: counter("junction_calls_total",
			"Calls to Junction's API, retries included, by operation and outcome (2xx, 4xx, 429, 5xx, timeout, network, bad_response, canceled).", "operation", "outcome"),
		junctionDuration: histogram("junction_call_duration_seconds",
			"Time a call to Junction took, retries and their waits included, by operation.", latencyBuckets, "operation"),
		junctionRetries: counter("junction_retries_total",
			"Requests to Junction repeated after a retryable failure, by operation.", "operation"),
		webhooks: counter("webhooks_total",
			"Junction webhook deliveries, by event type and outcome (applied, forwarded, duplicate, unknown_user, ignored, unusable, rejected_signature).", "event_type", "outcome"),
		rateLimits: counter("rate_limit_decisions_total",
			"Rate-limit decisions, by route pattern, limiter backend (memory, redis) and decision (allowed, limited, error).", "route", "backend", "decision"),
		health: &healthCollector{desc: prometheus.NewDesc(namespace+"_dependency_up",
			"Whether a dependency answered its check at scrape time (1) or not (0).", []string{"dependency"}, nil)},
		linkTokens: counter("link_tokens_total",
			"Link tokens minted: users who opened Link, by provider (picker: the user chooses in Link).", "provider"),
		callbacks: counter("link_callbacks_total",
			"Link outcomes recorded at the callback (first one per session), by status and Junction's error_type (other: an unknown type).", "status", "error_type"),
		confirmed: counter("connections_confirmed_total",
			"Connections Junction confirmed by webhook, by provider and whether a link session led to them (via: link, other).", "provider", "via"),
		linkToConnection: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "link_to_connection_seconds",
			Help:    "Time from minting a link token to Junction confirming the connection it led to.",
			Buckets: []float64{5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200},
		}),
		forwarded: counter("forwarded_deliveries_total",
			"Attempts to deliver an event to the app's backend (APP_WEBHOOK_URL), by outcome (delivered, retrying, failed: the last attempt failed).", "outcome"),
		streamsOpen: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "event_streams_open",
			Help: "Live event streams (GET /v1/events) this replica holds open."}),
		streamsRefused: counter("event_streams_refused_total",
			"Event streams refused at a cap, by reason (per_user: EVENT_STREAMS_PER_USER, total: EVENT_STREAMS_MAX).", "reason"),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(m.own()...)
	return m
}

func counter(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
}

func histogram(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets}, labels)
}

// own are linkbff's collectors.
func (m *Metrics) own() []prometheus.Collector {
	return []prometheus.Collector{
		m.requests, m.requestDuration,
		m.junctionCalls, m.junctionDuration, m.junctionRetries,
		m.webhooks, m.rateLimits, m.health,
		m.linkTokens, m.callbacks, m.confirmed, m.linkToConnection,
		m.forwarded, m.streamsOpen, m.streamsRefused,
	}
}

// Handler serves the metrics for Prometheus, in OpenMetrics when asked, so
// latency exemplars carry trace ids.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		Timeout:           10 * time.Second,
	}))
	return mux
}
