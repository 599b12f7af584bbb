package linking

import "time"

// UserMapping ties an app user (the JWT's user claim) to a Junction user.
// Both ids are unique: one app user has at most one Junction user and the
// other way round. It never changes once created.
type UserMapping struct {
	AppUserID      string
	JunctionUserID string
	ClientUserID   string // the client_user_id sent to Junction
	CreatedAt      time.Time
}

// Outcome statuses: how a Link attempt ended, as the user's browser said.
// Connections use StatusConnected and StatusError too.
const (
	StatusConnected = "connected"
	StatusCancelled = "cancelled"
	StatusError     = "error"
)

// Outcome is what a Link flow ended with, as the user's browser reported it.
type Outcome struct {
	Status    string // StatusConnected | StatusCancelled | StatusError
	ErrorType string // Junction's error_type; empty on success
}

// LinkSession is one attempt to connect a provider, opened when a link token
// is minted and completed once by the callback.
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

// Connection is one provider connection as the app shows it. Empty strings
// mean "not known".
type Connection struct {
	Provider       string // slug
	Name           string
	Logo           string
	Status         string // StatusConnected | StatusError
	ConnectedAt    *time.Time
	ErrorType      string // set when Status is StatusError
	ExternalUserID string
}

// ConnectionList is an app user's connections. Stale is true when Junction
// could not be asked and the list comes from webhooks alone.
type ConnectionList struct {
	Connections []Connection
	Stale       bool
}

// ReportedConnection is what Junction's webhooks told linkbff about one
// provider of one Junction user.
type ReportedConnection struct {
	JunctionUserID string
	Provider       string // slug
	Status         string // StatusConnected | StatusError
	ErrorType      string // set when Status is StatusError
	ErrorMessage   string
	ExternalUserID string
	ConnectedAt    *time.Time // when it was first seen connected
	UpdatedAt      time.Time  // when the last event was applied
}

// Provider is a provider (Fitbit, Oura, …) an app can offer its users.
type Provider struct {
	Slug               string
	Name               string
	Description        string
	Logo               string
	AuthType           string // oauth | password | email | sdk …
	SupportedResources []string
}

// LinkToken is a single-use Junction Link token and the hosted Link page
// that uses it.
type LinkToken struct {
	Token  string
	WebURL string
}

// OAuthLink is where to send a user to connect one OAuth provider directly.
type OAuthLink struct {
	URL      string
	Provider Provider
}

// SignInToken lets Junction's mobile SDKs act for a Junction user.
type SignInToken struct {
	JunctionUserID string
	Token          string
}
