package linking

import (
	"context"

	"github.com/linkbff/linkbff/internal/apperr"
	"github.com/linkbff/linkbff/internal/junction"
	"github.com/linkbff/linkbff/internal/store"
)

// WebhookResult says what a verified delivery did; every result is
// acknowledged to Junction, since a failure would only make it retry.
type WebhookResult string

const (
	WebhookApplied     WebhookResult = "applied"
	WebhookDuplicate   WebhookResult = "duplicate"
	WebhookUnknownUser WebhookResult = "unknown_user"
	WebhookIgnored     WebhookResult = "ignored_event_type"
)

// ApplyWebhook applies a verified webhook body once per eventID (svix-id).
func (s *Service) ApplyWebhook(ctx context.Context, eventID string, body []byte) (WebhookResult, error) {
	if eventID == "" || len(eventID) > 128 {
		return "", apperr.InvalidField("svix-id", "svix-id header is missing or too long")
	}
	ev, err := junction.ParseWebhookEvent(body)
	if err != nil {
		return "", err
	}
	if ev.Type != junction.EventConnectionCreated && ev.Type != junction.EventConnectionError {
		return WebhookIgnored, nil
	}
	if ev.Provider == "" || ev.UserID == "" {
		return "", apperr.New(apperr.Invalid, "webhook event lacks user_id or provider")
	}
	if _, err := s.store.UserMappingByJunctionUser(ctx, ev.UserID); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return WebhookUnknownUser, nil
		}
		return "", err
	}
	now := s.now().UTC()
	c := store.Connection{
		JunctionUserID: ev.UserID,
		Provider:       ev.Provider,
		ExternalUserID: ev.ExternalUserID,
		UpdatedAt:      now,
	}
	if ev.Type == junction.EventConnectionCreated {
		c.Status = StatusConnected
		c.ConnectedAt = &now
	} else {
		c.Status = StatusError
		c.ErrorType = ev.ErrorType
		if c.ErrorType == "" {
			c.ErrorType = "unknown"
		}
		c.ErrorMessage = ev.Message
	}
	applied, err := s.store.ApplyConnectionEvent(ctx, eventID, c)
	if err != nil {
		return "", err
	}
	if !applied {
		return WebhookDuplicate, nil
	}
	s.userProviders.forget(ev.UserID)
	return WebhookApplied, nil
}
