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
	// WebhookUnusable: signed by Junction but not an event linkbff can read.
	// ApplyWebhook reports it as an EInvalid error; observers hear this.
	WebhookUnusable WebhookResult = "unusable"
)

// ApplyWebhook applies a verified webhook body once per eventID (svix-id).
func (s *Service) ApplyWebhook(ctx context.Context, eventID string, body []byte) (WebhookResult, error) {
	ev, result, err := s.applyWebhook(ctx, eventID, body)
	switch {
	case err == nil:
		s.observer.WebhookHandled(ev.Type, result)
	case IsCode(err, EInvalid):
		s.observer.WebhookHandled(ev.Type, WebhookUnusable)
	}
	if result == WebhookApplied && ev.Type == EventConnectionCreated {
		s.confirmConnection(ctx, ev)
	}
	return result, err
}

func (s *Service) applyWebhook(ctx context.Context, eventID string, body []byte) (WebhookEvent, WebhookResult, error) {
	if eventID == "" || len(eventID) > 128 {
		return WebhookEvent{}, "", FieldErrorf("svix-id", "svix-id header is missing or too long")
	}
	ev, err := s.junction.ParseWebhookEvent(body)
	if err != nil {
		return ev, "", err
	}
	if ev.Type != EventConnectionCreated && ev.Type != EventConnectionError {
		return ev, WebhookIgnored, nil
	}
	if ev.Provider == "" || ev.JunctionUserID == "" {
		return ev, "", Errorf(EInvalid, "webhook event lacks user_id or provider")
	}
	if _, err := s.store.UserMappingByJunctionUser(ctx, ev.JunctionUserID); err != nil {
		if IsCode(err, ENotFound) {
			return ev, WebhookUnknownUser, nil
		}
		return ev, "", err
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
		return ev, "", err
	}
	if !applied {
		return ev, WebhookDuplicate, nil
	}
	s.userProviders.forget(ev.JunctionUserID)
	return ev, WebhookApplied, nil
}

// confirmConnection tells the observer of a connection Junction confirmed,
// and how long after its link session opened. Only metrics depend on it,
// so a failure to find the session is logged, not returned.
func (s *Service) confirmConnection(ctx context.Context, ev WebhookEvent) {
	now := s.now()
	ls, err := s.store.LatestLinkSession(ctx, ev.JunctionUserID, ev.Provider, now.Add(-ConfirmationWindow))
	switch {
	case err == nil:
		s.observer.ConnectionConfirmed(ev.Provider, max(now.Sub(ls.CreatedAt), 0), true)
	case IsCode(err, ENotFound):
		s.observer.ConnectionConfirmed(ev.Provider, 0, false)
	default:
		s.log.Warn().Err(err).Msg("could not find the link session of a confirmed connection")
		s.observer.ConnectionConfirmed(ev.Provider, 0, false)
	}
}
