package tracing

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/linkbff/linkbff/internal/linking"
)

// Store puts a client span around every call to s; system is the store's
// dialect ("sqlite" or "postgres"). Arguments (user ids, session ids) are
// never recorded, only the operation.
func (t *Tracer) Store(s linking.Store, system string) linking.Store {
	if t.tp == nil {
		return s
	}
	db := semconv.DBSystemNameSQLite
	if system == "postgres" {
		db = semconv.DBSystemNamePostgreSQL
	}
	return &tracedStore{next: s, tracer: t.tracer, system: db}
}

type tracedStore struct {
	next   linking.Store
	tracer trace.Tracer
	system attribute.KeyValue
}

// traced runs one store call in a span; ENotFound is an answer, not a
// failure.
func traced[T any](s *tracedStore, ctx context.Context, op string, call func(context.Context) (T, error)) (T, error) {
	ctx, span := s.tracer.Start(ctx, "store "+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(s.system, semconv.DBOperationName(op)))
	defer span.End()
	v, err := call(ctx)
	if err != nil && !linking.IsCode(err, linking.ENotFound) {
		span.SetStatus(codes.Error, string(linking.ErrorCodeOf(err)))
	}
	return v, err
}

// none adapts a call that returns only an error.
func none(call func(context.Context) error) func(context.Context) (struct{}, error) {
	return func(ctx context.Context) (struct{}, error) { return struct{}{}, call(ctx) }
}

func (s *tracedStore) UserMappingByAppUser(ctx context.Context, appUserID string) (linking.UserMapping, error) {
	return traced(s, ctx, "UserMappingByAppUser", func(ctx context.Context) (linking.UserMapping, error) {
		return s.next.UserMappingByAppUser(ctx, appUserID)
	})
}

func (s *tracedStore) UserMappingByJunctionUser(ctx context.Context, junctionUserID string) (linking.UserMapping, error) {
	return traced(s, ctx, "UserMappingByJunctionUser", func(ctx context.Context) (linking.UserMapping, error) {
		return s.next.UserMappingByJunctionUser(ctx, junctionUserID)
	})
}

func (s *tracedStore) SaveUserMapping(ctx context.Context, m linking.UserMapping) (linking.UserMapping, error) {
	return traced(s, ctx, "SaveUserMapping", func(ctx context.Context) (linking.UserMapping, error) {
		return s.next.SaveUserMapping(ctx, m)
	})
}

func (s *tracedStore) DeleteAppUser(ctx context.Context, appUserID string, events ...*linking.Event) error {
	_, err := traced(s, ctx, "DeleteAppUser", none(func(ctx context.Context) error { return s.next.DeleteAppUser(ctx, appUserID, events...) }))
	return err
}

func (s *tracedStore) ForgetJunctionUser(ctx context.Context, m linking.UserMapping) error {
	_, err := traced(s, ctx, "ForgetJunctionUser", none(func(ctx context.Context) error { return s.next.ForgetJunctionUser(ctx, m) }))
	return err
}

func (s *tracedStore) CreateLinkSession(ctx context.Context, ls linking.LinkSession) error {
	_, err := traced(s, ctx, "CreateLinkSession", none(func(ctx context.Context) error { return s.next.CreateLinkSession(ctx, ls) }))
	return err
}

func (s *tracedStore) LinkSession(ctx context.Context, id string) (linking.LinkSession, error) {
	return traced(s, ctx, "LinkSession", func(ctx context.Context) (linking.LinkSession, error) {
		return s.next.LinkSession(ctx, id)
	})
}

func (s *tracedStore) CompleteLinkSession(ctx context.Context, id string, o linking.Outcome, at time.Time, events ...*linking.Event) (linking.LinkSession, error) {
	return traced(s, ctx, "CompleteLinkSession", func(ctx context.Context) (linking.LinkSession, error) {
		return s.next.CompleteLinkSession(ctx, id, o, at, events...)
	})
}

func (s *tracedStore) LatestLinkSession(ctx context.Context, junctionUserID, provider string, since time.Time) (linking.LinkSession, error) {
	return traced(s, ctx, "LatestLinkSession", func(ctx context.Context) (linking.LinkSession, error) {
		return s.next.LatestLinkSession(ctx, junctionUserID, provider, since)
	})
}

func (s *tracedStore) ApplyConnectionEvent(ctx context.Context, eventID string, c linking.ReportedConnection, events ...*linking.Event) (bool, error) {
	return traced(s, ctx, "ApplyConnectionEvent", func(ctx context.Context) (bool, error) {
		return s.next.ApplyConnectionEvent(ctx, eventID, c, events...)
	})
}

func (s *tracedStore) RecordWebhookEvent(ctx context.Context, eventID string, events ...*linking.Event) (bool, error) {
	return traced(s, ctx, "RecordWebhookEvent", func(ctx context.Context) (bool, error) {
		return s.next.RecordWebhookEvent(ctx, eventID, events...)
	})
}

func (s *tracedStore) ReportedConnections(ctx context.Context, junctionUserID string) ([]linking.ReportedConnection, error) {
	return traced(s, ctx, "ReportedConnections", func(ctx context.Context) ([]linking.ReportedConnection, error) {
		return s.next.ReportedConnections(ctx, junctionUserID)
	})
}

func (s *tracedStore) DeleteReportedConnection(ctx context.Context, junctionUserID, provider string, events ...*linking.Event) error {
	_, err := traced(s, ctx, "DeleteReportedConnection", none(func(ctx context.Context) error {
		return s.next.DeleteReportedConnection(ctx, junctionUserID, provider, events...)
	}))
	return err
}

func (s *tracedStore) Prune(ctx context.Context, eventsBefore, sessionsBefore time.Time) error {
	_, err := traced(s, ctx, "Prune", none(func(ctx context.Context) error { return s.next.Prune(ctx, eventsBefore, sessionsBefore) }))
	return err
}
