package junction

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Connection webhook event types.
const (
	EventConnectionCreated = "provider.connection.created"
	EventConnectionError   = "provider.connection.error"
)

// WebhookEvent is a Junction webhook delivery, flattened to what the domain
// needs. Fields the event type does not carry are empty.
type WebhookEvent struct {
	Type   string // event_type
	UserID string // Junction user id
	// Provider is the slug: data.provider is an object on created events and
	// a plain string on error events; data.source.slug is the fallback.
	Provider       string
	ExternalUserID string
	ErrorType      string // error events only
	Message        string // error events only
}

// ParseWebhookEvent parses a webhook body whose signature has already been
// verified. A malformed envelope is an error; an unknown event type
// parses fine with the fields it shares with known ones.
func ParseWebhookEvent(body []byte) (WebhookEvent, error) {
	var envelope struct {
		EventType json.RawMessage `json:"event_type"`
		UserID    json.RawMessage `json:"user_id"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return WebhookEvent{}, fmt.Errorf("webhook body is not a JSON object: %w", err)
	}
	event := WebhookEvent{Type: jsonString(envelope.EventType), UserID: jsonString(envelope.UserID)}
	if event.Type == "" {
		return WebhookEvent{}, errors.New("webhook event_type is missing")
	}
	known := event.Type == EventConnectionCreated || event.Type == EventConnectionError

	var data map[string]json.RawMessage
	if raw := bytes.TrimSpace(envelope.Data); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(raw, &data); err != nil && known {
			return WebhookEvent{}, fmt.Errorf("webhook data is not an object: %w", err)
		}
	}
	event.fillFromData(data)

	if known && event.UserID == "" {
		return WebhookEvent{}, errors.New("webhook user_id is missing in envelope and data")
	}
	return event, nil
}

// fillFromData reads the data fields best-effort: a field of an unexpected
// type is left empty rather than failing the event.
func (e *WebhookEvent) fillFromData(data map[string]json.RawMessage) {
	if data == nil {
		return
	}
	if e.UserID == "" {
		e.UserID = jsonString(data["user_id"])
	}
	e.ExternalUserID = jsonString(data["external_user_id"])
	e.ErrorType = jsonString(data["error_type"])
	e.Message = jsonString(data["message"])
	e.Provider = jsonString(data["provider"])
	if e.Provider == "" {
		e.Provider = providerSlug(data["provider"])
	}
	if e.Provider == "" {
		e.Provider = providerSlug(data["source"])
	}
}

// providerSlug reads the slug of a provider object ({name, slug, logo}).
func providerSlug(raw json.RawMessage) string {
	var fields map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &fields) != nil {
		return ""
	}
	return jsonString(fields["slug"])
}
