package linking

import (
	"context"
	"errors"
	"time"
)

// Store is the persistence the domain needs. Methods that take events store
// them in the transaction of their change and set each stored event's Seq.
// Failures are *Error: ENotFound
// when a row is absent, EConflict on a uniqueness clash, EUnavailable when the
// database cannot be reached, EInternal otherwise.
type Store interface {
	// UserMappingByAppUser returns the mapping for an app user, or ENotFound.
	UserMappingByAppUser(ctx context.Context, appUserID string) (UserMapping, error)
	// UserMappingByJunctionUser returns the mapping for a Junction user, or ENotFound.
	UserMappingByJunctionUser(ctx context.Context, junctionUserID string) (UserMapping, error)
	// SaveUserMapping inserts m unless a mapping for m.AppUserID exists, and
	// returns the stored mapping either way (the first writer wins, so
	// concurrent callers across processes agree). A different app user already
	// mapped to m.JunctionUserID is an EConflict.
	SaveUserMapping(ctx context.Context, m UserMapping) (UserMapping, error)
	// DeleteAppUser removes the mapping, link sessions, connections and
	// events (but those still pending delivery) of an app user, and stores
	// events, in one transaction. Deleting an unknown user is not an error.
	DeleteAppUser(ctx context.Context, appUserID string, events ...*Event) error
	// ForgetJunctionUser removes m and the connections reported for its
	// Junction user, only if m.AppUserID is still mapped to
	// m.JunctionUserID; otherwise it changes nothing.
	ForgetJunctionUser(ctx context.Context, m UserMapping) error

	// CreateLinkSession stores a new session; a duplicate ID is an EConflict.
	CreateLinkSession(ctx context.Context, s LinkSession) error
	// LinkSession returns a session by id, or ENotFound.
	LinkSession(ctx context.Context, id string) (LinkSession, error)
	// CompleteLinkSession records the outcome unless one is already recorded,
	// and returns the session as stored: the first outcome wins. Events are
	// stored in the same transaction, only when this call recorded the
	// outcome. ENotFound when the session does not exist.
	CompleteLinkSession(ctx context.Context, id string, o Outcome, at time.Time, events ...*Event) (LinkSession, error)
	// LatestLinkSession returns the newest session of a Junction user for
	// provider, or for the user's pick in Link (no provider), created at or
	// after since; ENotFound when there is none.
	LatestLinkSession(ctx context.Context, junctionUserID, provider string, since time.Time) (LinkSession, error)

	// ApplyConnectionEvent records eventID (a webhook's svix-id), upserts c
	// and stores events in one transaction. If eventID was seen before it
	// changes nothing and returns applied=false. Safe under concurrent calls
	// from many processes. An upsert keeps the earliest ConnectedAt.
	ApplyConnectionEvent(ctx context.Context, eventID string, c ReportedConnection, events ...*Event) (applied bool, err error)
	// RecordWebhookEvent records eventID and stores events in one
	// transaction, for a webhook that changes no connection; recorded=false
	// when eventID was seen before.
	RecordWebhookEvent(ctx context.Context, eventID string, events ...*Event) (recorded bool, err error)
	// ReportedConnections lists a Junction user's connections as webhooks
	// reported them, ordered by provider.
	ReportedConnections(ctx context.Context, junctionUserID string) ([]ReportedConnection, error)
	// DeleteReportedConnection forgets one connection (absent is not an
	// error) and stores events, in one transaction.
	DeleteReportedConnection(ctx context.Context, junctionUserID, provider string, events ...*Event) error

	// Prune deletes webhook event ids received before eventsBefore and link
	// sessions created before sessionsBefore.
	Prune(ctx context.Context, eventsBefore, sessionsBefore time.Time) error
}

// Junction is the part of Junction's API the domain uses, in the domain's
// words. Its failures are *Error, classified once by the adapter:
//   - EInvalid (with Field) only for what the app can act on: a provider
//     Junction does not offer, or that cannot be connected the way asked;
//   - ENotFound wrapping ErrUnknownJunctionUser when the Junction user is gone,
//     or ErrProviderNotConnected from Disconnect;
//   - EUpstreamUnavailable (with RetryAfter) for Junction's 429, 5xx and
//     timeouts;
//   - EUpstream for anything else Junction refused: linkbff sent it, so it is
//     linkbff's fault, not the app's.
type Junction interface {
	// CreateUser creates the Junction user for clientUserID, or adopts the
	// one that exists already.
	CreateUser(ctx context.Context, clientUserID string) (JunctionUser, error)
	// DeleteUser deletes a Junction user and all its connections.
	DeleteUser(ctx context.Context, junctionUserID string) error
	// LinkToken mints a single-use Link token.
	LinkToken(ctx context.Context, req LinkTokenRequest) (LinkToken, error)
	// OAuthLink resolves one OAuth provider's consent URL within the Link
	// session of linkToken.
	OAuthLink(ctx context.Context, linkToken, provider string) (OAuthLink, error)
	// Connections lists a Junction user's connections as Junction sees them:
	// the truth, unlike the Link redirect.
	Connections(ctx context.Context, junctionUserID string) ([]Connection, error)
	// Disconnect deregisters one provider of a Junction user.
	Disconnect(ctx context.Context, junctionUserID, provider string) error
	// Providers lists the providers the team can offer.
	Providers(ctx context.Context) ([]Provider, error)
	// SignInToken mints a token for Junction's mobile SDKs.
	SignInToken(ctx context.Context, junctionUserID string) (SignInToken, error)
	// ParseWebhookEvent reads a webhook body whose signature was verified.
	// A body it cannot use is an EInvalid.
	ParseWebhookEvent(body []byte) (WebhookEvent, error)
}

// Conditions the Junction port reports inside ENotFound errors.
var (
	ErrUnknownJunctionUser  = errors.New("the Junction user does not exist")
	ErrProviderNotConnected = errors.New("the provider is not connected")
)

// JunctionUser is the Junction user created (or adopted) for an app user.
type JunctionUser struct {
	ID string
	// Adopted is true when the user existed already.
	Adopted bool
}

// LinkTokenRequest asks Junction for a link token.
type LinkTokenRequest struct {
	JunctionUserID    string
	Provider          string   // optional: skip the widget's provider list
	FilterOnProviders []string // optional: the providers the widget shows
	RedirectURL       string
	// RedirectOnError and RedirectOnClose send failed and closed attempts to
	// RedirectURL too, instead of leaving the user in the widget.
	RedirectOnError bool
	RedirectOnClose bool
}

// Webhook event types the domain acts on.
const (
	EventConnectionCreated = "provider.connection.created"
	EventConnectionError   = "provider.connection.error"
)

// WebhookEvent is a verified Junction webhook, reduced to what the domain
// uses. Fields the event type does not carry are empty.
type WebhookEvent struct {
	Type           string
	JunctionUserID string
	Provider       string // slug
	ExternalUserID string
	ErrorType      string // error events only
	Message        string // error events only
}
