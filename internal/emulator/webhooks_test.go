package emulator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
)

// connectVia runs the hosted Link flow to approval for slug.
func (h *harness) connectVia(userID, slug string) {
	h.t.Helper()
	lt := h.linkToken(map[string]any{"user_id": userID, "redirect_url": redirectTarget})
	params := redirectParams(h.t, h.Do("GET", h.buttonURL(h.consentURL(lt, slug), "approve"), nil), redirectTarget)
	if params.Get("state") != "success" {
		h.t.Fatalf("connect %s: %v", slug, params)
	}
}

func (h *harness) deliveries() []deliveryAttempt {
	h.t.Helper()
	r := h.team("GET", "/_emulator/deliveries", nil)
	expectStatus(h.t, r, http.StatusOK)
	var out []deliveryAttempt
	r.JSON(h.t, &out)
	return out
}

// waitForAttempts polls the delivery log until n attempts are recorded: a
// receiver sees a request before the sender has read the answer.
func (h *harness) waitForAttempts(n int) []deliveryAttempt {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		attempts := h.deliveries()
		if len(attempts) >= n || time.Now().After(deadline) {
			return attempts
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConnectionCreatedWebhook(t *testing.T) {
	sink := newWebhookSink(t)
	teamID := uuid.NewString()
	h := newHarness(t, func(c *Config) { sink.configure(c); c.TeamID = teamID })
	// The spec declares the envelope's client_user_id a uuid.
	clientUserID := uuid.NewString()
	u := h.createUser(clientUserID)
	h.connectVia(u.UserID, "withings")

	got := sink.next(t)
	sink.verify(t, got)
	assertWebhookMatchesSpec(t, "provider.connection.created", got.body)
	var event wireConnectionCreatedEvent
	if err := json.Unmarshal(got.body, &event); err != nil {
		t.Fatal(err)
	}
	if event.EventType != "provider.connection.created" || event.UserID != u.UserID || event.ClientUserID != clientUserID ||
		event.TeamID != teamID || event.Data.Provider.Slug != "withings" || event.Data.Source != event.Data.Provider ||
		event.Data.ExternalUserID == nil || event.Data.ResourceAvailability["weight"].Status != "available" {
		t.Fatalf("event = %s", got.body)
	}
	if id := got.header.Get("svix-id"); len(id) < 5 || id[:4] != "msg_" {
		t.Errorf("svix-id = %q", id)
	}
	if _, err := strconv.ParseInt(got.header.Get("svix-timestamp"), 10, 64); err != nil {
		t.Errorf("svix-timestamp = %q", got.header.Get("svix-timestamp"))
	}
}

func TestWebhookRetriesWithSameID(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
	}{
		{"server error", []int{http.StatusInternalServerError}},
		{"redirect is a failure", []int{http.StatusFound}},
		{"two failures", []int{http.StatusServiceUnavailable, http.StatusBadRequest}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := newWebhookSink(t, tt.statuses...)
			h := newHarness(t, sink.configure)
			u := h.createUser(uuid.NewString())
			h.connectVia(u.UserID, "oura")

			first := sink.next(t)
			sink.verify(t, first)
			for range tt.statuses {
				next := sink.next(t)
				sink.verify(t, next)
				if next.header.Get("svix-id") != first.header.Get("svix-id") || string(next.body) != string(first.body) {
					t.Fatalf("retry changed the message: %s vs %s", next.header.Get("svix-id"), first.header.Get("svix-id"))
				}
			}
			attempts := h.waitForAttempts(len(tt.statuses) + 1)
			if len(attempts) != len(tt.statuses)+1 {
				t.Fatalf("attempts = %+v", attempts)
			}
			for i, a := range attempts {
				last := i == len(attempts)-1
				if a.Attempt != i+1 || a.Delivered != last || a.SvixID != first.header.Get("svix-id") || a.EventType != "provider.connection.created" {
					t.Fatalf("attempt %d = %+v", i, a)
				}
				if !last && a.StatusCode != tt.statuses[i] {
					t.Fatalf("attempt %d status %d, want %d", i, a.StatusCode, tt.statuses[i])
				}
			}
		})
	}
}

func TestWebhookGivesUpAfterSchedule(t *testing.T) {
	sink := newWebhookSink(t, 500, 500, 500, 500, 500)
	h := newHarness(t, func(c *Config) {
		sink.configure(c)
		c.RetrySchedule = []time.Duration{time.Millisecond}
	})
	u := h.createUser(uuid.NewString())
	h.connectVia(u.UserID, "oura")
	sink.next(t)
	sink.next(t)
	if attempts := h.waitForAttempts(2); len(attempts) != 2 || attempts[1].Delivered || attempts[1].StatusCode != 500 {
		t.Fatalf("want two failed attempts, got %+v", attempts)
	}
	h.emu.Close() // a third attempt in flight would be recorded as canceled
	if attempts := h.deliveries(); len(attempts) != 2 {
		t.Fatalf("delivery went on past the schedule: %+v", attempts)
	}
}

func TestCloseCancelsPendingRetries(t *testing.T) {
	sink := newWebhookSink(t, http.StatusInternalServerError)
	h := newHarness(t, func(c *Config) {
		sink.configure(c)
		c.RetrySchedule = []time.Duration{time.Hour}
	})
	u := h.createUser(uuid.NewString())
	h.connectVia(u.UserID, "oura")
	sink.next(t)
	h.emu.Close() // would block for an hour if the retry were not canceled
	if attempts := h.deliveries(); len(attempts) != 1 {
		t.Fatalf("attempts = %+v", attempts)
	}
	// After Close nothing new is sent.
	h.connectVia(u.UserID, "fitbit")
	select {
	case got := <-sink.received:
		t.Fatalf("delivered after Close: %s", got.body)
	default:
	}
}

func TestConnectionErrorControl(t *testing.T) {
	sink := newWebhookSink(t)
	h := newHarness(t, sink.configure)
	u := h.createUser(uuid.NewString())
	h.connectVia(u.UserID, "garmin")
	sink.next(t) // provider.connection.created

	r := h.team("POST", "/_emulator/connection-error", map[string]any{
		"user_id": u.UserID, "provider": "garmin", "error_type": "deregistered_per_provider", "message": "Deregistered at Garmin.",
	})
	expectStatus(t, r, http.StatusOK)
	assertSchema(t, "ClientFacingProviderWithStatus", r.Body)

	got := sink.next(t)
	sink.verify(t, got)
	assertWebhookMatchesSpec(t, "provider.connection.error", got.body)
	var event wireConnectionErrorEvent
	if err := json.Unmarshal(got.body, &event); err != nil {
		t.Fatal(err)
	}
	if event.EventType != "provider.connection.error" || event.Data.Provider != "garmin" ||
		event.Data.ErrorType != "deregistered_per_provider" || event.Data.Message != "Deregistered at Garmin." {
		t.Fatalf("event = %s", got.body)
	}

	providers := h.team("GET", "/v2/user/providers/"+u.UserID, nil)
	assertResponseMatchesSpec(t, "GET", "/v2/user/providers/{user_id}", 200, providers.Body)
	var listed wireConnectedProviders
	providers.JSON(t, &listed)
	if len(listed.Providers) != 1 || listed.Providers[0].Status != "error" || listed.Providers[0].ErrorDetails == nil ||
		listed.Providers[0].ErrorDetails.ErrorType != "deregistered_per_provider" {
		t.Fatalf("providers = %s", providers.Body)
	}

	// Reconnecting clears the error.
	h.connectVia(u.UserID, "garmin")
	again := h.team("GET", "/v2/user/providers/"+u.UserID, nil)
	again.JSON(t, &listed)
	if listed.Providers[0].Status != "connected" || listed.Providers[0].ErrorDetails != nil {
		t.Fatalf("after reconnect: %s", again.Body)
	}

	tests := []struct {
		name       string
		body       map[string]any
		headers    bool
		wantStatus int
	}{
		{"unknown user", map[string]any{"user_id": uuid.NewString(), "provider": "garmin"}, true, http.StatusNotFound},
		{"unknown error type", map[string]any{"user_id": u.UserID, "provider": "garmin", "error_type": "boom"}, true, http.StatusBadRequest},
		{"unknown provider", map[string]any{"user_id": u.UserID, "provider": "nope"}, true, http.StatusBadRequest},
		{"missing user_id", map[string]any{"provider": "garmin"}, true, http.StatusUnprocessableEntity},
		{"no API key", map[string]any{"user_id": u.UserID, "provider": "garmin"}, false, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.headers {
				headers = []string{"x-vital-api-key", testAPIKey}
			}
			expectStatus(t, h.Do("POST", "/_emulator/connection-error", tt.body, headers...), tt.wantStatus)
		})
	}
}

func TestDeregisterProvider(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("deregister")
	h.connectVia(u.UserID, "strava")

	r := h.team("DELETE", "/v2/user/"+u.UserID+"/strava", nil)
	expectStatus(t, r, http.StatusOK)
	assertResponseMatchesSpec(t, "DELETE", "/v2/user/{user_id}/{provider}", 200, r.Body)
	if string(r.Body) != `{"success":true}` {
		t.Fatalf("body = %s", r.Body)
	}
	if got := h.team("GET", "/v2/user/providers/"+u.UserID, nil); string(got.Body) != `{"providers":[]}` {
		t.Fatalf("providers after deregister = %s", got.Body)
	}
	expectStatus(t, h.team("DELETE", "/v2/user/"+u.UserID+"/strava", nil), http.StatusNotFound)
	expectStatus(t, h.team("DELETE", "/v2/user/"+uuid.NewString()+"/strava", nil), http.StatusNotFound)
	bad := h.team("DELETE", "/v2/user/"+u.UserID+"/nope", nil)
	expectStatus(t, bad, http.StatusUnprocessableEntity)
	assertResponseMatchesSpec(t, "DELETE", "/v2/user/{user_id}/{provider}", 422, bad.Body)
}
