package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/linkbff/linkbff/internal/junction"
	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/ratelimit"
)

// Values an attacker controls (a forged callback's error_type, an HTTP
// method) fold into a few label values, so they cannot grow the series.
func TestLabelsStayBounded(t *testing.T) {
	m := New()
	m.CallbackRecorded(linking.Outcome{Status: linking.StatusError, ErrorType: "provider_credential_error"})
	m.CallbackRecorded(linking.Outcome{Status: linking.StatusError, ErrorType: "made_up_by_someone_1"})
	m.CallbackRecorded(linking.Outcome{Status: linking.StatusError, ErrorType: "made_up_by_someone_2"})
	m.CallbackRecorded(linking.Outcome{Status: linking.StatusConnected})
	m.LinkStarted("")
	m.LinkStarted("Not A Slug")
	m.WebhookHandled("daily.data.sleep.created", linking.WebhookIgnored)
	m.WebhookHandled("", linking.WebhookUnusable)
	for method, want := range map[string]string{"GET": "GET", "BREW": "other"} {
		if got := methodOf(method); got != want {
			t.Errorf("methodOf(%s) = %s", method, got)
		}
	}
	for labels, want := range map[[2]string]float64{
		{"error", "provider_credential_error"}: 1, {"error", "other"}: 2, {"connected", "none"}: 1,
	} {
		if got := testutil.ToFloat64(m.callbacks.WithLabelValues(labels[0], labels[1])); got != want {
			t.Errorf("callbacks%v = %v, want %v", labels, got, want)
		}
	}
	if testutil.ToFloat64(m.linkTokens.WithLabelValues("picker")) != 1 || testutil.ToFloat64(m.linkTokens.WithLabelValues("other")) != 1 {
		t.Error("link tokens are not labelled picker / other")
	}
	if testutil.ToFloat64(m.webhooks.WithLabelValues("other", "ignored")) != 1 || testutil.ToFloat64(m.webhooks.WithLabelValues("unknown", "unusable")) != 1 {
		t.Error("webhooks are not labelled other/ignored and unknown/unusable")
	}
}

func TestJunctionOutcomes(t *testing.T) {
	m := New()
	calls := []junction.Call{
		{Attempts: 1, StatusCode: 200},
		{Attempts: 3, StatusCode: 503, Err: &junction.Error{StatusCode: 503}},
		{Attempts: 1, StatusCode: 429, Err: &junction.Error{StatusCode: 429}},
		{Attempts: 1, StatusCode: 400, Err: &junction.Error{StatusCode: 400}},
		{Attempts: 2, Err: context.DeadlineExceeded},
		{Attempts: 1, Err: errors.New("connection refused")},
		{Attempts: 1, StatusCode: 200, Err: &junction.Error{StatusCode: 200}},
		{Attempts: 1, Err: context.Canceled},
	}
	for _, c := range calls {
		_, end := m.ObserveJunction(t.Context(), "link_token")
		end(c)
	}
	for _, outcome := range []string{"2xx", "5xx", "429", "4xx", "timeout", "network", "bad_response", "canceled"} {
		if got := testutil.ToFloat64(m.junctionCalls.WithLabelValues("link_token", outcome)); got != 1 {
			t.Errorf("outcome %s counted %v times", outcome, got)
		}
	}
	if got := testutil.ToFloat64(m.junctionRetries.WithLabelValues("link_token")); got != 3 {
		t.Errorf("retries = %v, want 3", got)
	}
}

type fixedLimiter struct {
	d   ratelimit.Decision
	err error
}

func (f fixedLimiter) Allow(context.Context, string) (ratelimit.Decision, error) { return f.d, f.err }

type refusingVerifier struct{}

func (refusingVerifier) Verify([]byte, http.Header) error { return errors.New("bad signature") }

func TestDecoratorsAndHealth(t *testing.T) {
	m := New()
	for _, l := range []ratelimit.Limiter{
		m.Limiter(fixedLimiter{d: ratelimit.Decision{Allowed: true}}, "redis"),
		m.Limiter(fixedLimiter{d: ratelimit.Decision{Allowed: false, RetryAfter: time.Second}}, "redis"),
		m.Limiter(fixedLimiter{err: errors.New("down")}, "redis"),
	} {
		_, _ = l.Allow(t.Context(), "user:alice")
	}
	for _, decision := range []string{"allowed", "limited", "error"} {
		if got := testutil.ToFloat64(m.rateLimits.WithLabelValues("unmatched", "redis", decision)); got != 1 {
			t.Errorf("%s counted %v times", decision, got)
		}
	}
	if m.WebhookVerifier(nil) != nil {
		t.Fatal("a nil verifier must stay nil: the webhook route is off")
	}
	_ = m.WebhookVerifier(refusingVerifier{}).Verify(nil, nil)
	if got := testutil.ToFloat64(m.webhooks.WithLabelValues("unknown", "rejected_signature")); got != 1 {
		t.Errorf("rejected signatures = %v", got)
	}

	m.Health("database", func(context.Context) error { return nil })
	m.Health("redis", func(context.Context) error { return errors.New("down") })
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{`linkbff_dependency_up{dependency="database"} 1`, `linkbff_dependency_up{dependency="redis"} 0`, "go_goroutines"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// Forwarded deliveries count by outcome; open streams go up and down.
func TestEventMetrics(t *testing.T) {
	m := New()
	for _, o := range []string{"retrying", "retrying", "delivered", "failed", "invented"} {
		m.DeliveryAttempted(o)
	}
	for outcome, want := range map[string]float64{"retrying": 2, "delivered": 1, "failed": 1, "other": 1} {
		if got := testutil.ToFloat64(m.forwarded.WithLabelValues(outcome)); got != want {
			t.Errorf("forwarded{outcome=%s} = %v, want %v", outcome, got, want)
		}
	}
	m.StreamOpened()
	m.StreamOpened()
	m.StreamClosed()
	m.StreamRefused("per_user")
	if got := testutil.ToFloat64(m.streamsOpen); got != 1 {
		t.Errorf("open streams %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.streamsRefused.WithLabelValues("per_user")); got != 1 {
		t.Errorf("refused per user %v, want 1", got)
	}
}
