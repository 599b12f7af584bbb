package emulator

import (
	"time"
)

// state is everything the emulator remembers. Guarded by Emulator.mu.
type state struct {
	usersByID       map[string]*user
	usersByClientID map[string]*user
	// userOrder keeps users in creation order for stable pagination.
	userOrder []*user
	tokens    map[string]*linkToken
	// attempts records webhook delivery attempts for /_emulator/deliveries.
	attempts []deliveryAttempt
	// closed stops new webhook deliveries after Close.
	closed bool
}

func newState() state {
	return state{
		usersByID:       map[string]*user{},
		usersByClientID: map[string]*user{},
		tokens:          map[string]*linkToken{},
	}
}

type user struct {
	id                string
	clientUserID      string
	createdOn         time.Time
	fallbackTimeZone  string // IANA id; empty = none
	fallbackBirthDate string // YYYY-MM-DD; empty = none
	ingestionStart    string
	ingestionEnd      string
	// connections by provider slug, plus their order of first connection.
	connections     map[string]*connection
	connectionOrder []string
}

type connection struct {
	slug           string
	createdOn      time.Time
	status         string // "connected" | "error"
	externalUserID string
	errorDetails   *connectionErrorDetails
}

type connectionErrorDetails struct {
	errorType string
	message   string
	erroredAt time.Time
}

const (
	statusConnected = "connected"
	statusError     = "error"
)

type linkToken struct {
	token             string
	userID            string
	provider          string // empty = let the user pick
	redirectURL       string // empty = show a result page instead of redirecting
	filterOnProviders []string
	onError           string
	onClose           string
	expiresAt         time.Time
	consumed          bool
}

// tokenStatus is what checking a link token found.
type tokenStatus int

const (
	tokenValid tokenStatus = iota
	tokenInvalid
	tokenExpired
	tokenConsumed
)

// errorType is the redirect error_type for a failed token check.
func (s tokenStatus) errorType() string {
	switch s {
	case tokenExpired:
		return "token_expired"
	case tokenConsumed:
		return "token_consumed"
	default:
		return "invalid_token"
	}
}

// checkTokenLocked looks a token up. The returned copy is safe to use after
// the lock is released. Caller holds e.mu.
func (e *Emulator) checkTokenLocked(raw string) (linkToken, tokenStatus) {
	t, ok := e.state.tokens[raw]
	if !ok || raw == "" {
		return linkToken{}, tokenInvalid
	}
	switch {
	case t.consumed:
		return *t, tokenConsumed
	case !e.now().Before(t.expiresAt):
		return *t, tokenExpired
	default:
		return *t, tokenValid
	}
}

// checkToken looks a token up without changing it.
func (e *Emulator) checkToken(raw string) (linkToken, tokenStatus) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.checkTokenLocked(raw)
}

// consumeToken marks a valid token used. Of several racing callers exactly
// one gets tokenValid; the others see tokenConsumed.
func (e *Emulator) consumeToken(raw string) (linkToken, tokenStatus) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, status := e.checkTokenLocked(raw)
	if status == tokenValid {
		e.state.tokens[raw].consumed = true
	}
	return t, status
}

// tokenRetention is how long spent tokens are remembered, so that a late
// visit is told "expired" or "consumed" rather than "invalid".
const tokenRetention = 24 * time.Hour

// pruneTokensLocked forgets tokens long past their expiry, bounding memory of
// a long-running development emulator. Caller holds e.mu.
func (e *Emulator) pruneTokensLocked() {
	cutoff := e.now().Add(-tokenRetention)
	for raw, t := range e.state.tokens {
		if t.expiresAt.Before(cutoff) {
			delete(e.state.tokens, raw)
		}
	}
}

// deleteUserLocked removes a user, its connections and its link tokens.
func (e *Emulator) deleteUserLocked(u *user) {
	delete(e.state.usersByID, u.id)
	delete(e.state.usersByClientID, u.clientUserID)
	for i, candidate := range e.state.userOrder {
		if candidate == u {
			e.state.userOrder = append(e.state.userOrder[:i], e.state.userOrder[i+1:]...)
			break
		}
	}
	for raw, t := range e.state.tokens {
		if t.userID == u.id {
			delete(e.state.tokens, raw)
		}
	}
}

// removeConnection forgets one provider connection of u.
func (u *user) removeConnection(slug string) {
	delete(u.connections, slug)
	for i, s := range u.connectionOrder {
		if s == slug {
			u.connectionOrder = append(u.connectionOrder[:i], u.connectionOrder[i+1:]...)
			break
		}
	}
}

// upsertConnection records a successful connection, replacing an errored
// or older one for the same provider (a reconnect), and returns a copy.
// connectionFor returns the user's connection to slug, adding it (in
// listing order) when the user has none yet.
func (u *user) connectionFor(slug string, now time.Time) *connection {
	c, ok := u.connections[slug]
	if !ok {
		c = &connection{slug: slug, createdOn: now}
		u.connections[slug] = c
		u.connectionOrder = append(u.connectionOrder, slug)
	}
	return c
}

func (u *user) upsertConnection(slug string, now time.Time) connection {
	c := u.connectionFor(slug, now)
	if c.externalUserID == "" {
		c.externalUserID = "emu-" + slug + "-" + randomHex(4)
	}
	c.createdOn = now
	c.status = statusConnected
	c.errorDetails = nil
	return *c
}
