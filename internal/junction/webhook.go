package junction

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/linkbff/linkbff/internal/apperr"
)

// Connection webhook event types.
const (
	EventConnectionCreated = "provider.connection.created"
	EventConnectionError   = "provider.connection.error"
)

// WebhookEvent is a Junction webhook delivery, flattened to what the domain
// needs. Fields the event type does not carry are empty.
type WebhookEvent struct {
	Type         string // event_type
	UserID       string // Junction user id
	ClientUserID string
	TeamID       string
	// Provider is the slug: data.provider is an object on created events and
	// a plain string on error events; data.source.slug is the fallback.
	Provider       string
	ProviderName   string // created events only
	ProviderLogo   string // created events only
	ExternalUserID string
	ErrorType      string // error events only
	Message        string // error events only
	ErrorDetails   string // error events only
}

// ParseWebhookEvent parses a webhook body whose signature has already been
// verified. A malformed envelope is apperr.Invalid; an unknown event type
// parses fine with the fields it shares with known ones.
func ParseWebhookEvent(body []byte) (WebhookEvent, error) {
	var envelope struct {
		EventType    json.RawMessage `json:"event_type"`
		UserID       json.RawMessage `json:"user_id"`
		ClientUserID json.RawMessage `json:"client_user_id"`
		TeamID       json.RawMessage `json:"team_id"`
		Data         json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return WebhookEvent{}, apperr.Wrap(apperr.Invalid, err, "webhook body is not a JSON object")
	}
	event := WebhookEvent{
		Type:         jsonString(envelope.EventType),
		UserID:       jsonString(envelope.UserID),
		ClientUserID: jsonString(envelope.ClientUserID),
		TeamID:       jsonString(envelope.TeamID),
	}
	if event.Type == "" {
		return WebhookEvent{}, apperr.InvalidField("event_type", "webhook event_type is missing")
	}
	known := event.Type == EventConnectionCreated || event.Type == EventConnectionError

	var data map[string]json.RawMessage
	if raw := bytes.TrimSpace(envelope.Data); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(raw, &data); err != nil && known {
			return WebhookEvent{}, apperr.Wrap(apperr.Invalid, err, "webhook data is not an object")
		}
	}
	event.fillFromData(data)

	if known && event.UserID == "" {
		return WebhookEvent{}, apperr.Wrap(apperr.Invalid, errors.New("no user_id in envelope or data"), "webhook user_id is missing")
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
	e.ErrorDetails = jsonString(data["error_details"])
	if e.ErrorDetails == "" && len(data["error_details"]) > 0 && !bytes.Equal(data["error_details"], []byte("null")) {
		// The schema says string; keep whatever else arrives, bounded.
		e.ErrorDetails = snippet(string(data["error_details"]))
	}

	if slug := jsonString(data["provider"]); slug != "" {
		e.Provider = slug
	} else if p, ok := providerObject(data["provider"]); ok {
		e.Provider, e.ProviderName, e.ProviderLogo = p.Slug, p.Name, p.Logo
	}
	if source, ok := providerObject(data["source"]); ok {
		if e.Provider == "" {
			e.Provider = source.Slug
		}
		if e.ProviderName == "" && e.Provider == source.Slug {
			e.ProviderName, e.ProviderLogo = source.Name, source.Logo
		}
	}
}

type providerWire struct {
	Name string
	Slug string
	Logo string
}

func providerObject(raw json.RawMessage) (providerWire, bool) {
	var fields map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &fields) != nil || fields == nil {
		return providerWire{}, false
	}
	p := providerWire{
		Name: jsonString(fields["name"]),
		Slug: jsonString(fields["slug"]),
		Logo: jsonString(fields["logo"]),
	}
	return p, p.Slug != ""
}
