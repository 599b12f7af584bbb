// Package store defines the persistence the linking domain needs. Two
// implementations live below it (sqlite, postgres) and pass one shared test
// suite (storetest). Errors are *apperr.Error: NotFound when a row is absent.
package store

import (
	"context"
	"time"
)

// UserMapping ties an app user (the JWT's user claim) to a Junction user.
// Both ids are unique: one app user has at most one Junction user and the
// other way round.
type UserMapping struct {
	AppUserID      string
	JunctionUserID string
	ClientUserID   string // the client_user_id sent to Junction
	CreatedAt      time.Time
}

// Outcome is what a Link flow ended with, as the user's browser reported it.
type Outcome struct {
	Status    string // "connected" | "cancelled" | "error"
	ErrorType string // Junction's raw error_type; empty on success
}

// LinkSession is one attempt to connect a provider, created when a link
// token is minted and completed once by the callback.
type LinkSession struct {
	ID             string // random 128-bit, hex
	AppUserID      string
	JunctionUserID string
	Provider       string // empty when the user picks in the widget
	ReturnTo       string // empty when the callback should render a page
	CreatedAt      time.Time
	Outcome        *Outcome   // nil until completed
	CompletedAt    *time.Time // nil until completed
}

// Connection is what webhooks told us about one provider of one Junction user.
type Connection struct {
	JunctionUserID string
	Provider       string // slug
	Status         string // "connected" | "error"
	ErrorType      string // set when Status is "error"
	ErrorMessage   string
	ExternalUserID string
	ConnectedAt    *time.Time // when it was first seen connected
	UpdatedAt      time.Time  // when the last event was applied
}

// Store is the persistence the domain needs.
type Store interface {
	// UserMappingByAppUser returns the mapping for an app user, or NotFound.
	UserMappingByAppUser(ctx context.Context, appUserID string) (UserMapping, error)
	// UserMappingByJunctionUser returns the mapping for a Junction user, or NotFound.
	UserMappingByJunctionUser(ctx context.Context, junctionUserID string) (UserMapping, error)
	// SaveUserMapping inserts m unless a mapping for m.AppUserID exists, and
	// returns the stored mapping either way (the first writer wins, so
	// concurrent callers across processes agree). A different app user already
	// mapped to m.JunctionUserID is a Conflict.
	SaveUserMapping(ctx context.Context, m UserMapping) (UserMapping, error)
	// DeleteAppUser removes the mapping, link sessions and connections of an
	// app user. Deleting an unknown user is not an error.
	DeleteAppUser(ctx context.Context, appUserID string) error

	// CreateLinkSession stores a new session; a duplicate ID is a Conflict.
	CreateLinkSession(ctx context.Context, s LinkSession) error
	// LinkSession returns a session by id, or NotFound.
	LinkSession(ctx context.Context, id string) (LinkSession, error)
	// CompleteLinkSession records the outcome unless one is already recorded,
	// and returns the session as stored: the first outcome wins.
	// NotFound when the session does not exist.
	CompleteLinkSession(ctx context.Context, id string, o Outcome, at time.Time) (LinkSession, error)

	// ApplyConnectionEvent records eventID (a webhook's svix-id) and upserts c
	// in one transaction. If eventID was seen before it changes nothing and
	// returns applied=false. Safe under concurrent calls from many processes.
	// An upsert keeps the earliest ConnectedAt.
	ApplyConnectionEvent(ctx context.Context, eventID string, c Connection) (applied bool, err error)
	// Connections lists a Junction user's connections, ordered by provider.
	Connections(ctx context.Context, junctionUserID string) ([]Connection, error)
	// DeleteConnection removes one connection; absent is not an error.
	DeleteConnection(ctx context.Context, junctionUserID, provider string) error

	// Prune deletes webhook event ids received before eventsBefore and link
	// sessions created before sessionsBefore.
	Prune(ctx context.Context, eventsBefore, sessionsBefore time.Time) error

	// Ping checks the database is reachable.
	Ping(ctx context.Context) error
	Close() error
}
