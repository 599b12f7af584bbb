package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/linkbff/linkbff/internal/junction"
	"github.com/linkbff/linkbff/internal/linking"
)

// sessionStore is a linking.Store that knows one session.
type sessionStore struct{ linking.Store }

func (sessionStore) LinkSession(context.Context, string) (linking.LinkSession, error) {
	return linking.LinkSession{ID: "s"}, nil
}

func (sessionStore) UserMappingByAppUser(context.Context, string) (linking.UserMapping, error) {
	return linking.UserMapping{}, linking.Errorf(linking.ENotFound, "no mapping")
}

// One request makes a server span named by its route pattern, with the
// request id, and child spans for its store and Junction calls; no
// attribute holds the session id from the path or anything of the query.
func TestSpanTreeOfOneRequest(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tr := New(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	st := tr.Store(sessionStore{}, "postgres")

	r := chi.NewRouter()
	r.Route("/link", func(r chi.Router) {
		r.Get("/callback/{session_id}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Id", "req-42")
			_, _ = st.LinkSession(r.Context(), chi.URLParam(r, "session_id"))
			_, _ = st.UserMappingByAppUser(r.Context(), "alice")
			_, end := tr.ObserveJunction(r.Context(), "link_token")
			end(junction.Call{Operation: "link_token", Attempts: 2, StatusCode: 503, Err: &junction.Error{StatusCode: 503}})
			w.WriteHeader(http.StatusSeeOther)
		})
	})
	const session, secret = "0123456789abcdef0123456789abcdef", "tok_SECRET"
	req := httptest.NewRequest(http.MethodGet, "/link/callback/"+session+"?state=error&error="+secret, nil)
	tr.Handler(r).ServeHTTP(httptest.NewRecorder(), req)

	spans := rec.Ended()
	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byName[s.Name()] = s
		for _, a := range s.Attributes() {
			if v := a.Value.String(); strings.Contains(v, session) || strings.Contains(v, secret) || strings.Contains(v, "state=") {
				t.Errorf("span %s attribute %s = %q leaks the path or query", s.Name(), a.Key, v)
			}
		}
	}
	root, ok := byName["GET /link/callback/{session_id}"]
	if !ok || len(spans) != 4 {
		t.Fatalf("spans: %v", names(spans))
	}
	attrs := map[string]string{}
	for _, a := range root.Attributes() {
		attrs[string(a.Key)] = a.Value.String()
	}
	if attrs[string(RequestIDKey)] != "req-42" || attrs["http.route"] != "/link/callback/{session_id}" || attrs["http.response.status_code"] != "303" {
		t.Errorf("server span attributes: %v", attrs)
	}
	for _, name := range []string{"store LinkSession", "store UserMappingByAppUser", "junction link_token"} {
		child, ok := byName[name]
		if !ok || child.Parent().SpanID() != root.SpanContext().SpanID() || child.SpanContext().TraceID() != root.SpanContext().TraceID() {
			t.Errorf("%s is not a child of the request span: %v", name, names(spans))
		}
	}
	if got := byName["store UserMappingByAppUser"].Status().Code.String(); got != "Unset" {
		t.Errorf("a not-found answer marked the store span %s", got)
	}
	if got := byName["junction link_token"].Status(); got.Code.String() != "Error" || got.Description != "status Service Unavailable" {
		t.Errorf("junction span status = %+v", got)
	}
}

// Off wraps nothing.
func TestOffWrapsNothing(t *testing.T) {
	st := sessionStore{}
	h := http.NotFoundHandler()
	off := Off()
	if off.Store(st, "sqlite") != linking.Store(st) || off.Handler(h) == nil {
		t.Fatal("tracing off still wraps the store")
	}
	if ctx, end := off.ObserveJunction(t.Context(), "providers"); ctx != t.Context() || end == nil {
		t.Fatal("tracing off changed the context")
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}

// Behind the traced handler an event stream still reaches its
// connection's write deadline and can flush, or the server's write timeout
// would cut it.
func TestTracedHandlerKeepsTheConnectionReachable(t *testing.T) {
	tr := New(sdktrace.NewTracerProvider())
	r := chi.NewRouter()
	errs := make(chan error, 2)
	r.Get("/v1/events", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		errs <- rc.SetWriteDeadline(time.Now().Add(time.Second))
		errs <- rc.Flush()
	})
	srv := httptest.NewServer(tr.Handler(r))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, what := range []string{"SetWriteDeadline", "Flush"} {
		if err := <-errs; err != nil {
			t.Errorf("%s behind the traced handler: %v", what, err)
		}
	}
}
