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
	// WebhookForwarded: an event linkbff does not apply itself (another
	// type, or a user it does not know) was stored for the app's backend.
	WebhookForwarded WebhookResult = "forwarded"
)

// ApplyWebhook applies a verified webhook body once per eventID (svix-id),
// and stores the event for the app's backend and the user's live stream in
// the same transaction.
func (s *Service) ApplyWebhook(ctx context.Context, eventID string, body []byte) (WebhookResult, error) {
	ev, result, event, err := s.applyWebhook(ctx, eventID, body)
	switch {
	case err == nil:
		s.observer.WebhookHandled(ev.Type, result)
	case IsCode(err, EInvalid):
		s.observer.WebhookHandled(ev.Type, WebhookUnusable)
	}
	if err == nil {
		s.publish(ctx, event)
	}
	if result == WebhookApplied && ev.Type == EventConnectionCreated {
		s.confirmConnection(ctx, ev)
	}
	return result, err
}

func (s *Service) applyWebhook(ctx context.Context, eventID string, body []byte) (WebhookEvent, WebhookResult, *Event, error) {
	if eventID == "" || len(eventID) > 128 {
		return WebhookEvent{}, "", nil, FieldErrorf("svix-id", "svix-id header is missing or too long")
	}
	ev, err := s.junction.ParseWebhookEvent(body)
	if err != nil {
		return ev, "", nil, err
	}
	connectionEvent := ev.Type == EventConnectionCreated || ev.Type == EventConnectionError
	if connectionEvent && (ev.Provider == "" || ev.JunctionUserID == "") {
		return ev, "", nil, Errorf(EInvalid, "webhook event lacks user_id or provider")
	}
	m := UserMapping{JunctionUserID: ev.JunctionUserID}
	if ev.JunctionUserID != "" && (connectionEvent || s.forward.Allows(ev.Type)) {
		switch found, err := s.store.UserMappingByJunctionUser(ctx, ev.JunctionUserID); {
		case err == nil:
			m = found
		case !IsCode(err, ENotFound):
			return ev, "", nil, err
		}
	}
	event := s.newEvent(ev.Type, m)
	event.Provider, event.Junction = ev.Provider, body
	if !connectionEvent || m.AppUserID == "" {
		result, stored, err := s.forwardOnly(ctx, eventID, ev, &event)
		return ev, result, stored, err
	}

	c := ReportedConnection{
		JunctionUserID: ev.JunctionUserID,
		Provider:       ev.Provider,
		ExternalUserID: ev.ExternalUserID,
		UpdatedAt:      event.CreatedAt,
	}
	if ev.Type == EventConnectionCreated {
		c.Status = StatusConnected
		c.ConnectedAt = &event.CreatedAt
	} else {
		c.Status = StatusError
		c.ErrorType = ev.ErrorType
		if c.ErrorType == "" {
			c.ErrorType = "unknown"
		}
		c.ErrorMessage = ev.Message
	}
	event.Status, event.ErrorType = c.Status, c.ErrorType
	applied, err := s.store.ApplyConnectionEvent(ctx, eventID, c, &event)
	if err != nil {
		return ev, "", nil, err
	}
	if !applied {
		return ev, WebhookDuplicate, nil, nil
	}
	s.userProviders.forget(ev.JunctionUserID)
	return ev, WebhookApplied, &event, nil
}

// forwardOnly handles a verified event that changes no connection (another
// type, or a user linkbff does not know): stored for the app's backend when
// it asked for the type, acknowledged and dropped otherwise.
func (s *Service) forwardOnly(ctx context.Context, eventID string, ev WebhookEvent, event *Event) (WebhookResult, *Event, error) {
	dropped := WebhookIgnored
	if ev.Type == EventConnectionCreated || ev.Type == EventConnectionError {
		dropped = WebhookUnknownUser
	}
	if !event.kept() {
		return dropped, nil, nil
	}
	recorded, err := s.store.RecordWebhookEvent(ctx, eventID, event)
	switch {
	case err != nil:
		return "", nil, err
	case !recorded:
		return WebhookDuplicate, nil, nil
	}
	return WebhookForwarded, event, nil
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
