package emulator

import (
	"time"
)

// state is the users and their connections. Guarded by Emulator.mu; link
// tokens live apart, in a tokenStore.
type state struct {
	usersByID       map[string]*user
	usersByClientID map[string]*user
	// userOrder keeps users in creation order for stable pagination.
	userOrder []*user
}

func newState() state {
	return state{
		usersByID:       map[string]*user{},
		usersByClientID: map[string]*user{},
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

// deleteUserLocked removes a user and its connections; its link tokens
// become invalid with it (see checkToken).
func (e *Emulator) deleteUserLocked(u *user) {
	delete(e.state.usersByID, u.id)
	delete(e.state.usersByClientID, u.clientUserID)
	for i, candidate := range e.state.userOrder {
		if candidate == u {
			e.state.userOrder = append(e.state.userOrder[:i], e.state.userOrder[i+1:]...)
			break
		}
	}
}

// userExists reports whether the user id is known.
func (e *Emulator) userExists(id string) bool {
	_, ok := e.knownUserID(id)
	return ok
}

// knownUserID returns the stored id string of a known user.
func (e *Emulator) knownUserID(id string) (string, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if u, ok := e.state.usersByID[id]; ok {
		return u.id, true
	}
	return "", false
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

// upsertConnection records a successful connection, replacing an errored
// or older one for the same provider (a reconnect), and returns a copy.
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

// UserCount reports how many users exist (for tests that count Junction
// users, e.g. "concurrent first requests create exactly one").
func (e *Emulator) UserCount() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.state.usersByID)
}
