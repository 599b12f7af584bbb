package testkit

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"
)

// WebhookSecret is a Svix signing secret for tests.
const WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// SignWebhook returns the headers Svix would send body with.
func SignWebhook(t testing.TB, secret, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	wh, err := svix.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign(id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Svix-Id": {id}, "Svix-Timestamp": {fmt.Sprint(ts.Unix())}, "Svix-Signature": {sig}}
}

// VerifyWebhook checks a delivery's Svix signature as a receiver would.
func VerifyWebhook(secret string, header http.Header, body []byte) error {
	wh, err := svix.NewWebhook(secret)
	if err != nil {
		return err
	}
	return wh.Verify(body, header)
}

// HeaderPairs flattens h into the name/value pairs Send takes.
func HeaderPairs(h http.Header) []string {
	var pairs []string
	for k, v := range h {
		pairs = append(pairs, k, strings.Join(v, " "))
	}
	return pairs
}

// WebhookPath is where linkbff receives Junction's webhooks.
const WebhookPath = "/webhooks/junction"

// DeliverWebhook posts body with headers to linkbff's webhook route.
func (c *Client) DeliverWebhook(headers http.Header, body []byte) Response {
	c.T.Helper()
	return c.Do(http.MethodPost, WebhookPath, string(body), HeaderPairs(headers)...)
}

// ConnectionCreatedEvent is Junction's provider.connection.created event
// for userID and provider.
func ConnectionCreatedEvent(userID, provider string) []byte {
	b, _ := json.Marshal(map[string]any{
		"event_type": "provider.connection.created", "user_id": userID, "client_user_id": "c6a9a8a4-0000-4000-8000-000000000001",
		"team_id": "4f1b5f8e-0000-4000-8000-000000000002",
		"data": map[string]any{
			"user_id": userID, "provider": map[string]string{"name": "Fitbit", "slug": provider, "logo": "https://logo"},
			"source": map[string]string{"name": "Fitbit", "slug": provider, "logo": "https://logo"}, "external_user_id": "ext-1",
			"resource_availability": map[string]any{},
		},
	})
	return b
}
