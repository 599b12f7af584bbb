package emulator

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// POST /v2/link/connect/demo, as Junction's sandbox documents it: the demo
// provider shows in the user's providers and sends the created webhook.
func TestConnectDemoProvider(t *testing.T) {
	sink := newWebhookSink(t)
	h := newHarness(t, sink.configure)
	u := h.createUser(uuid.NewString())

	for _, slug := range []string{"apple_health_kit", "fitbit"} {
		r := h.team("POST", "/v2/link/connect/demo", map[string]any{"user_id": u.UserID, "provider": slug})
		expectStatus(t, r, http.StatusOK)
		assertResponseMatchesSpec(t, "POST", "/v2/link/connect/demo", 200, r.Body)
		var status wireDemoConnectionStatus
		r.JSON(t, &status)
		if !status.Success || status.Detail != "Connected user "+u.UserID+" to provider "+slug {
			t.Fatalf("demo connect answered %s", r.Body)
		}
		got := sink.next(t)
		sink.verify(t, got)
		assertWebhookMatchesSpec(t, "provider.connection.created", got.body)
		var event wireConnectionCreatedEvent
		if err := json.Unmarshal(got.body, &event); err != nil || event.UserID != u.UserID || event.Data.Provider.Slug != slug {
			t.Fatalf("webhook for %s: %s (%v)", slug, got.body, err)
		}
	}
	r := h.team("GET", "/v2/user/providers/"+u.UserID, nil)
	assertResponseMatchesSpec(t, "GET", "/v2/user/providers/{user_id}", 200, r.Body)
	var got wireConnectedProviders
	r.JSON(t, &got)
	if len(got.Providers) != 2 || got.Providers[0].Slug != "apple_health_kit" || got.Providers[1].Slug != "fitbit" ||
		got.Providers[0].Status != statusConnected {
		t.Fatalf("providers after demo connections: %s", r.Body)
	}
}

func TestConnectDemoProviderErrors(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("demo-errors")
	tests := []struct {
		name       string
		body       any
		wantStatus int
	}{
		{"not a demo provider", map[string]any{"user_id": u.UserID, "provider": "garmin"}, http.StatusUnprocessableEntity},
		{"missing provider", map[string]any{"user_id": u.UserID}, http.StatusUnprocessableEntity},
		{"user_id not a uuid", map[string]any{"user_id": "alice", "provider": "oura"}, http.StatusUnprocessableEntity},
		{"malformed JSON", `{"user_id":`, http.StatusUnprocessableEntity},
		{"unknown user", map[string]any{"user_id": uuid.NewString(), "provider": "oura"}, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.team("POST", "/v2/link/connect/demo", tt.body)
			expectStatus(t, r, tt.wantStatus)
			if tt.wantStatus == http.StatusUnprocessableEntity {
				assertResponseMatchesSpec(t, "POST", "/v2/link/connect/demo", 422, r.Body)
			}
		})
	}
	expectStatus(t, h.Do("POST", "/v2/link/connect/demo", map[string]any{"user_id": u.UserID, "provider": "oura"}), http.StatusUnauthorized)

	production := newHarness(t, func(c *Config) { c.Env = "production" })
	pu := production.createUser("demo-production")
	r := production.team("POST", "/v2/link/connect/demo", map[string]any{"user_id": pu.UserID, "provider": "oura"})
	expectStatus(t, r, http.StatusBadRequest)
}
