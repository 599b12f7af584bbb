// Package tracing is linkbff's OpenTelemetry tracing, on when
// OTEL_EXPORTER_OTLP_ENDPOINT is set: a span per request named by its route
// pattern and carrying the request id, with a child span per Junction call
// and per store call. Spans never carry a token or a query string, and a
// request's path appears only as its route pattern, so a link session's id
// stays out too.
package tracing

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	noopmetric "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/linkbff/linkbff/internal/config"
	"github.com/linkbff/linkbff/internal/junction"
)

// RequestIDKey is the span attribute holding linkbff's request id, the one
// in the X-Request-Id header and the access log.
const RequestIDKey = attribute.Key("linkbff.request_id")

// Tracer makes linkbff's spans; a Tracer from Off makes none and leaves
// what it wraps unwrapped.
type Tracer struct {
	tp     trace.TracerProvider // nil when off
	tracer trace.Tracer
}

// Off is tracing switched off.
func Off() *Tracer { return &Tracer{} }

// New traces with tp (tests pass one that records spans in memory).
func New(tp trace.TracerProvider) *Tracer {
	return &Tracer{tp: tp, tracer: tp.Tracer("github.com/linkbff/linkbff")}
}

// Open exports traces to cfg's OTLP/HTTP endpoint, or returns Off when it
// has none. The function it returns flushes and stops the exporter.
func Open(ctx context.Context, cfg config.Tracing) (*Tracer, func(context.Context) error, error) {
	if cfg.Endpoint == "" {
		return Off(), func(context.Context) error { return nil }, nil
	}
	exporter, err := otlptracehttp.New(ctx,
		otlptracehttp.WithEndpointURL(cfg.Endpoint+"/v1/traces"),
		otlptracehttp.WithHeaders(cfg.Headers))
	if err != nil {
		return nil, nil, err
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exporter),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(cfg.ServiceName))),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
	)
	return New(tp), tp.Shutdown, nil
}

type originalRequest struct{}

// Handler puts a server span around h, a chi router, for every request.
// otelhttp sees a copy of the request whose path is the route pattern and
// whose query is gone; h gets the original, in the span's context. A
// caller's traceparent is continued.
func (t *Tracer) Handler(h http.Handler) http.Handler {
	if t.tp == nil {
		return h
	}
	routes, _ := h.(chi.Routes)
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		orig := r.Context().Value(originalRequest{}).(*http.Request)
		h.ServeHTTP(w, orig.WithContext(r.Context()))
		// requestID (in handlers) has set it by now.
		trace.SpanFromContext(r.Context()).SetAttributes(RequestIDKey.String(w.Header().Get("X-Request-Id")))
	})
	traced := otelhttp.NewHandler(inner, "linkbff",
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithMeterProvider(noopmetric.NewMeterProvider()),
		otelhttp.WithPropagators(propagation.TraceContext{}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := ""
		if routes != nil {
			route = routes.Find(chi.NewRouteContext(), r.Method, r.URL.Path)
		}
		clean := r.WithContext(context.WithValue(r.Context(), originalRequest{}, r))
		clean.URL = &url.URL{Path: route}
		clean.RequestURI, clean.Pattern = route, route
		traced.ServeHTTP(w, clean)
	})
}

// ObserveJunction is a junction.Observer: a client span per call, with the
// operation, the attempts and the last status, never the URL.
func (t *Tracer) ObserveJunction(ctx context.Context, op string) (context.Context, func(junction.Call)) {
	if t.tp == nil {
		return ctx, func(junction.Call) {}
	}
	ctx, span := t.tracer.Start(ctx, "junction "+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("junction.operation", op)))
	return ctx, func(c junction.Call) {
		span.SetAttributes(attribute.Int("junction.attempts", c.Attempts))
		if c.StatusCode != 0 {
			span.SetAttributes(semconv.HTTPResponseStatusCode(c.StatusCode))
		}
		if c.Err != nil {
			// The kind of failure only: the error's text names the path.
			var jerr *junction.Error
			reason := "failed"
			switch {
			case errors.Is(c.Err, context.Canceled):
				reason = "canceled"
			case errors.Is(c.Err, context.DeadlineExceeded):
				reason = "timeout"
			case errors.As(c.Err, &jerr) && jerr.StatusCode != 0:
				reason = "status " + http.StatusText(jerr.StatusCode)
			}
			span.SetStatus(codes.Error, reason)
		}
		span.End()
	}
}
