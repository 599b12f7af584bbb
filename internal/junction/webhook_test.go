package junction

import (
	"strings"
	"testing"
)

// Payloads shaped like the OpenAPI webhooks section's events.
const (
	createdEvent = `{"event_type":"provider.connection.created","user_id":"1449752e-0d8a-40e0-9206-91ab099b2537",
"client_user_id":"cu-1","team_id":"t-1","data":{"user_id":"1449752e-0d8a-40e0-9206-91ab099b2537",
"provider":{"logo":"https://logo_url.com","name":"Fitbit","slug":"fitbit"},
"source":{"logo":"https://logo_url.com","name":"Fitbit","slug":"fitbit"},"external_user_id":"FB123",
"resource_availability":{"sleep":{"status":"unavailable","scope_requirements":{"user_granted":{"required":[],"optional":[]},"user_denied":{"required":["sleep"],"optional":[]}}}}}}`
	errorEvent = `{"event_type":"provider.connection.error","user_id":"1449752e-0d8a-40e0-9206-91ab099b2537",
"client_user_id":"cu-1","team_id":"t-1","data":{"error_details":"Failed to pull provider data","error_type":"token_refresh_failed",
"message":"We are having issues fetching information for user.","provider":"oura","user_id":"1449752e-0d8a-40e0-9206-91ab099b2537"}}`
)

func TestParseWebhookEvent(t *testing.T) {
	const uid = "1449752e-0d8a-40e0-9206-91ab099b2537"
	tests := []struct {
		name string
		body string
		want WebhookEvent
	}{
		{"created", createdEvent, WebhookEvent{Type: EventConnectionCreated, UserID: uid,
			Provider: "fitbit", ExternalUserID: "FB123"}},
		{"error", errorEvent, WebhookEvent{Type: EventConnectionError, UserID: uid,
			Provider: "oura", ErrorType: "token_refresh_failed", Message: "We are having issues fetching information for user."}},
		{"created with only deprecated source", `{"event_type":"provider.connection.created","user_id":"u","data":{"source":{"name":"Oura","slug":"oura","logo":"l"},"external_user_id":null}}`,
			WebhookEvent{Type: EventConnectionCreated, UserID: "u", Provider: "oura"}},
		{"provider object wins over source", `{"event_type":"provider.connection.created","user_id":"u","data":{"provider":{"slug":"withings"},"source":{"slug":"oura"}}}`,
			WebhookEvent{Type: EventConnectionCreated, UserID: "u", Provider: "withings"}},
		{"envelope user id wins over data", `{"event_type":"provider.connection.created","user_id":"u1","data":{"user_id":"u2","provider":{"slug":"oura"}}}`,
			WebhookEvent{Type: EventConnectionCreated, UserID: "u1", Provider: "oura"}},
		{"user id only in data", `{"event_type":"provider.connection.error","data":{"user_id":"u2","provider":"garmin","error_details":{"code":1}}}`,
			WebhookEvent{Type: EventConnectionError, UserID: "u2", Provider: "garmin"}},
		{"unknown type, no data", `{"event_type":"daily.data.sleep.created","user_id":"u","team_id":"t"}`,
			WebhookEvent{Type: "daily.data.sleep.created", UserID: "u"}},
		{"unknown type, odd data", `{"event_type":"historical.data.sleep.created","user_id":"u","data":[1,2,3]}`,
			WebhookEvent{Type: "historical.data.sleep.created", UserID: "u"}},
		{"wrong field types tolerated", `{"event_type":"provider.connection.created","user_id":"u","client_user_id":7,"data":{"provider":42,"external_user_id":{}}}`,
			WebhookEvent{Type: EventConnectionCreated, UserID: "u"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWebhookEvent([]byte(tt.body))
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseWebhookEventRejectsBadEnvelopes(t *testing.T) {
	bodies := map[string]string{
		"not json":                `{"event_type":`,
		"array":                   `[]`,
		"null":                    `null`,
		"empty":                   ``,
		"no event_type":           `{"user_id":"u","data":{}}`,
		"event_type not a string": `{"event_type":5,"user_id":"u"}`,
		"known type without user": `{"event_type":"provider.connection.created","data":{"provider":{"slug":"oura"}}}`,
		"known type, data scalar": `{"event_type":"provider.connection.error","user_id":"u","data":"oops"}`,
	}
	for name, body := range bodies {
		if _, err := ParseWebhookEvent([]byte(body)); !isWebhookError(err) {
			t.Errorf("%s: err = %v, want a webhook parse error", name, err)
		}
	}
}

// isWebhookError reports whether err is a parse failure that says what was
// wrong with the body: a plain error, never Junction's *Error.
func isWebhookError(err error) bool {
	if err == nil {
		return false
	}
	if _, isJunction := err.(*Error); isJunction {
		return false
	}
	return strings.HasPrefix(err.Error(), "webhook ")
}

func FuzzParseWebhookEvent(f *testing.F) {
	for _, s := range []string{createdEvent, errorEvent, `{"event_type":"x"}`, `{"event_type":"provider.connection.created","data":{"provider":"a","source":{"slug":1}}}`, `{}`, `[`, "\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		event, err := ParseWebhookEvent(body)
		if err != nil {
			if !isWebhookError(err) {
				t.Fatalf("error %v does not say it is about the webhook", err)
			}
			return
		}
		if event.Type == "" {
			t.Fatal("accepted an event without a type")
		}
		if (event.Type == EventConnectionCreated || event.Type == EventConnectionError) && event.UserID == "" {
			t.Fatal("accepted a connection event without a user id")
		}
	})
}
