package linking

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"sort"
	"time"
)

// LinkRequest is what an app asks for when it wants a link token.
type LinkRequest struct {
	Provider          string   // optional: skip the widget's provider list
	FilterOnProviders []string // optional: the providers the widget shows
	ReturnTo          string   // optional: where the callback sends the user
}

// StartLink opens a link session for the caller and mints a Junction link
// token whose redirect comes back to that session's callback.
func (s *Service) StartLink(ctx context.Context, appUserID string, req LinkRequest) (LinkToken, error) {
	if err := s.checkLinkRequest(&req); err != nil {
		return LinkToken{}, err
	}
	return s.openSession(ctx, appUserID, req)
}

// OAuthLink is StartLink for one OAuth provider, resolved to the provider's
// own consent URL so a mobile app can open it directly.
func (s *Service) OAuthLink(ctx context.Context, appUserID, provider, returnTo string) (OAuthLink, error) {
	req := LinkRequest{Provider: provider, ReturnTo: returnTo}
	if err := s.checkLinkRequest(&req); err != nil {
		return OAuthLink{}, err
	}
	token, err := s.openSession(ctx, appUserID, req)
	if err != nil {
		return OAuthLink{}, err
	}
	return s.junction.OAuthLink(ctx, token.Token, provider)
}

func (s *Service) checkLinkRequest(req *LinkRequest) error {
	if req.Provider != "" {
		if err := s.checkProvider("provider", req.Provider); err != nil {
			return err
		}
	}
	if len(req.FilterOnProviders) > 100 {
		return FieldErrorf("filter_on_providers", "filter_on_providers lists too many providers")
	}
	for _, p := range req.FilterOnProviders {
		if err := s.checkProvider("filter_on_providers", p); err != nil {
			return err
		}
	}
	if len(req.FilterOnProviders) == 0 && len(s.allowlist) > 0 {
		// Without an explicit filter the widget would offer every provider.
		for p := range s.allowlist {
			req.FilterOnProviders = append(req.FilterOnProviders, p)
		}
		sort.Strings(req.FilterOnProviders)
	}
	if req.ReturnTo != "" {
		normalised, err := s.returnURLs.Check("return_to", req.ReturnTo)
		if err != nil {
			return err
		}
		req.ReturnTo = normalised
	}
	return nil
}

// openSession mints a link token whose redirect comes back to a new link
// session, and records that session. The token is minted first, so the
// session names the Junction user it was minted for; the callback cannot
// arrive before the app has the token, which is after the session is stored.
func (s *Service) openSession(ctx context.Context, appUserID string, req LinkRequest) (LinkToken, error) {
	sessionID := newSessionID(s.now())
	var token LinkToken
	var user UserMapping
	err := s.withJunctionUser(ctx, appUserID, func(m UserMapping) (err error) {
		user = m
		token, err = s.junction.LinkToken(ctx, LinkTokenRequest{
			JunctionUserID:    m.JunctionUserID,
			Provider:          req.Provider,
			FilterOnProviders: req.FilterOnProviders,
			RedirectURL:       s.publicURL + "/link/callback/" + sessionID,
			// Every outcome, also a closed widget or a wrong password, comes
			// back to the callback so the app always learns how it ended.
			RedirectOnError: true,
			RedirectOnClose: true,
		})
		return err
	})
	if err != nil {
		return LinkToken{}, err
	}
	err = s.store.CreateLinkSession(ctx, LinkSession{
		ID:             sessionID,
		AppUserID:      appUserID,
		JunctionUserID: user.JunctionUserID,
		Provider:       req.Provider,
		ReturnTo:       req.ReturnTo,
		CreatedAt:      s.now().UTC(),
	})
	if err != nil {
		return LinkToken{}, err
	}
	s.observer.LinkStarted(req.Provider)
	return token, nil
}

// newSessionID is 48 bits of milliseconds since the epoch then 80 random
// bits, in hex. The random part keeps it unguessable; the time prefix makes
// ids increase, so a new session lands at the end of the stores' id index
// instead of on a random page: a group commit of N sessions then writes a
// few index pages, not N (the profile's biggest item was those writes).
func newSessionID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (8 * (5 - i)))
	}
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

var sessionIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Callback is what Junction's redirect carries to the callback URL.
type Callback struct {
	State     string // "success" | "error"
	ErrorType string // with state=error
}

var errorTypePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// normalise turns the redirect's parameters into an outcome. Junction's list
// of error types is open-ended, so unknown types are kept as they are when
// they look like an identifier and recorded as "unknown" otherwise.
func (c Callback) normalise() (Outcome, error) {
	switch c.State {
	case "success":
		return Outcome{Status: StatusConnected}, nil
	case "error":
		errorType := c.ErrorType
		if !errorTypePattern.MatchString(errorType) {
			errorType = "unknown"
		}
		if errorType == "user_cancelled" {
			return Outcome{Status: StatusCancelled, ErrorType: errorType}, nil
		}
		return Outcome{Status: StatusError, ErrorType: errorType}, nil
	default:
		return Outcome{}, FieldErrorf("state", "the callback has no valid state: expected success or error")
	}
}

// LinkResult is how a Link flow ended, as recorded on its session.
type LinkResult struct {
	Status    string // StatusConnected | StatusCancelled | StatusError
	ErrorType string // Junction's error_type; empty on success
	Provider  string // empty when the user picked in the widget
	ReturnTo  string // where the app wants the user back; empty for none
}

// CompleteLink records the outcome the browser reported on a session and
// returns the (first) recorded outcome. A reload after completion returns
// the recorded outcome; no outcome is trusted as proof of a connection:
// connections come from Junction and its webhooks.
func (s *Service) CompleteLink(ctx context.Context, sessionID string, cb Callback) (LinkResult, error) {
	notFound := Errorf(ENotFound, "this link session does not exist or has expired; start again from the app")
	if !sessionIDPattern.MatchString(sessionID) {
		return LinkResult{}, notFound
	}
	session, err := s.store.LinkSession(ctx, sessionID)
	if err != nil {
		if IsCode(err, ENotFound) {
			return LinkResult{}, notFound
		}
		return LinkResult{}, err
	}
	if session.Outcome == nil {
		if s.now().Sub(session.CreatedAt) > LinkTokenLifetime {
			return LinkResult{}, notFound
		}
		outcome, err := cb.normalise()
		if err != nil {
			return LinkResult{}, err
		}
		// Microseconds are what both stores keep, so the stored completion
		// time tells whether this call recorded the outcome or a racing one did.
		at := s.now().UTC().Truncate(time.Microsecond)
		event := s.newEvent(EventLinkCompleted, UserMapping{AppUserID: session.AppUserID, JunctionUserID: session.JunctionUserID})
		event.Provider, event.Status, event.ErrorType = session.Provider, outcome.Status, outcome.ErrorType
		if session, err = s.store.CompleteLinkSession(ctx, sessionID, outcome, at, keep(&event)...); err != nil {
			return LinkResult{}, err
		}
		if session.CompletedAt != nil && session.CompletedAt.Equal(at) {
			s.observer.CallbackRecorded(*session.Outcome)
			s.publish(ctx, &event)
		}
	}
	return LinkResult{Status: session.Outcome.Status, ErrorType: session.Outcome.ErrorType, Provider: session.Provider, ReturnTo: session.ReturnTo}, nil
}
