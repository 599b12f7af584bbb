package linking

import "context"

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
		return "", FieldErrorf("svix-id", "svix-id header is missing or too long")
	}
	ev, err := s.junction.ParseWebhookEvent(body)
	if err != nil {
		return "", err
	}
	if ev.Type != EventConnectionCreated && ev.Type != EventConnectionError {
		return WebhookIgnored, nil
	}
	if ev.Provider == "" || ev.JunctionUserID == "" {
		return "", Errorf(EInvalid, "webhook event lacks user_id or provider")
	}
	if _, err := s.store.UserMappingByJunctionUser(ctx, ev.JunctionUserID); err != nil {
		if IsCode(err, ENotFound) {
			return WebhookUnknownUser, nil
		}
		return "", err
	}
	now := s.now().UTC()
	c := ReportedConnection{
		JunctionUserID: ev.JunctionUserID,
		Provider:       ev.Provider,
		ExternalUserID: ev.ExternalUserID,
		UpdatedAt:      now,
	}
	if ev.Type == EventConnectionCreated {
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
	s.userProviders.forget(ev.JunctionUserID)
	return WebhookApplied, nil
}
