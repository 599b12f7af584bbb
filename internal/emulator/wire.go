package emulator

import (
	"net/http"
	"time"
)

// Wire structs mirror the schemas of Junction's OpenAPI document; field
// names and nullability follow it exactly (pointers are nullable fields).

type wireProvider struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
	Logo string `json:"logo"`
}

type wireConnectedSource struct {
	Provider  wireProvider `json:"provider"`
	CreatedOn string       `json:"created_on"`
	Source    wireProvider `json:"source"`
}

type wireFallbackTimeZone struct {
	ID         string `json:"id"`
	SourceSlug string `json:"source_slug"`
	UpdatedAt  string `json:"updated_at"`
}

type wireFallbackBirthDate struct {
	Value      string `json:"value"`
	SourceSlug string `json:"source_slug"`
	UpdatedAt  string `json:"updated_at"`
}

type wireUser struct {
	UserID            string                 `json:"user_id"`
	TeamID            string                 `json:"team_id"`
	ClientUserID      string                 `json:"client_user_id"`
	CreatedOn         string                 `json:"created_on"`
	ConnectedSources  []wireConnectedSource  `json:"connected_sources"`
	FallbackTimeZone  *wireFallbackTimeZone  `json:"fallback_time_zone"`
	FallbackBirthDate *wireFallbackBirthDate `json:"fallback_birth_date"`
	IngestionStart    *string                `json:"ingestion_start"`
	IngestionEnd      *string                `json:"ingestion_end"`
}

type wireUsersPage struct {
	Users  []wireUser `json:"users"`
	Total  int        `json:"total"`
	Offset int        `json:"offset"`
	Limit  int        `json:"limit"`
}

type wireConflict struct {
	Detail wireConflictDetail `json:"detail"`
}

type wireConflictDetail struct {
	ErrorType    string `json:"error_type"`
	ErrorMessage string `json:"error_message"`
	UserID       string `json:"user_id"`
	CreatedOn    string `json:"created_on"`
}

type wireSuccess struct {
	Success bool `json:"success"`
}

type wireSignInToken struct {
	UserID      string `json:"user_id"`
	SignInToken string `json:"sign_in_token"`
}

type wireScopeRequirements struct {
	Required []string `json:"required"`
	Optional []string `json:"optional"`
}

type wireScopeGrants struct {
	UserGranted wireScopeRequirements `json:"user_granted"`
	UserDenied  wireScopeRequirements `json:"user_denied"`
}

type wireResourceAvailability struct {
	Status            string           `json:"status"`
	ScopeRequirements *wireScopeGrants `json:"scope_requirements"`
}

type wireConnectionErrorDetails struct {
	ErrorType    string `json:"error_type"`
	ErrorMessage string `json:"error_message"`
	ErroredAt    string `json:"errored_at"`
}

type wireProviderWithStatus struct {
	Name                 string                              `json:"name"`
	Slug                 string                              `json:"slug"`
	Logo                 string                              `json:"logo"`
	CreatedOn            string                              `json:"created_on"`
	Status               string                              `json:"status"`
	ExternalUserID       *string                             `json:"external_user_id"`
	ErrorDetails         *wireConnectionErrorDetails         `json:"error_details"`
	ResourceAvailability map[string]wireResourceAvailability `json:"resource_availability"`
}

type wireConnectedProviders struct {
	Providers []wireProviderWithStatus `json:"providers"`
}

type wireLinkToken struct {
	LinkToken  string `json:"link_token"`
	LinkWebURL string `json:"link_web_url"`
}

type wireProviderDetailed struct {
	Name               string   `json:"name"`
	Slug               string   `json:"slug"`
	Description        string   `json:"description"`
	Logo               *string  `json:"logo"`
	AuthType           *string  `json:"auth_type"`
	SupportedResources []string `json:"supported_resources"`
}

// wireSource is the Source schema, what the OAuth link endpoint returns.
type wireSource struct {
	Name            string  `json:"name"`
	Slug            string  `json:"slug"`
	Description     string  `json:"description"`
	Logo            string  `json:"logo"`
	Group           *string `json:"group"`
	OAuthURL        *string `json:"oauth_url"`
	AuthType        *string `json:"auth_type"`
	SourceType      *string `json:"source_type"`
	IsActive        *bool   `json:"is_active"`
	BackfillNumDays *int    `json:"backfill_num_days"`
	ID              int     `json:"id"`
}

type wireSourceLink struct {
	ID             int            `json:"id"`
	Name           string         `json:"name"`
	Slug           string         `json:"slug"`
	Description    string         `json:"description"`
	Logo           string         `json:"logo"`
	OAuthURL       *string        `json:"oauth_url"`
	AuthType       *string        `json:"auth_type"`
	FormComponents map[string]any `json:"form_components"`
}

// Webhook envelopes (the spec's webhooks section).

type wireConnectionCreatedEvent struct {
	EventType    string                    `json:"event_type"`
	UserID       string                    `json:"user_id"`
	ClientUserID string                    `json:"client_user_id"`
	TeamID       string                    `json:"team_id"`
	Data         wireConnectionCreatedData `json:"data"`
}

type wireConnectionCreatedData struct {
	UserID               string                              `json:"user_id"`
	Source               wireProvider                        `json:"source"`
	Provider             wireProvider                        `json:"provider"`
	ExternalUserID       *string                             `json:"external_user_id"`
	ResourceAvailability map[string]wireResourceAvailability `json:"resource_availability"`
}

type wireConnectionErrorEvent struct {
	EventType    string                  `json:"event_type"`
	UserID       string                  `json:"user_id"`
	ClientUserID string                  `json:"client_user_id"`
	TeamID       string                  `json:"team_id"`
	Data         wireConnectionErrorData `json:"data"`
}

type wireConnectionErrorData struct {
	Provider     string `json:"provider"`
	UserID       string `json:"user_id"`
	Message      string `json:"message"`
	ErrorType    string `json:"error_type"`
	ErrorDetails string `json:"error_details"`
}

// formatTime renders timestamps like Junction does: RFC 3339 with an
// explicit +00:00 offset.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000-07:00")
}

func ptr[T any](v T) *T { return &v }

// logoURL is where the emulator serves a provider's generated logo.
func (e *Emulator) logoURL(r *http.Request, slug string) string {
	return e.baseURL(r) + "/logos/" + slug + ".svg"
}

func (e *Emulator) wireProviderOf(r *http.Request, p provider) wireProvider {
	return wireProvider{Name: p.name, Slug: p.slug, Logo: e.logoURL(r, p.slug)}
}

// resourceAvailability says every supported resource is available; the
// emulator does not model scopes the user declined.
func resourceAvailability(p provider) map[string]wireResourceAvailability {
	out := make(map[string]wireResourceAvailability, len(p.resources))
	for _, res := range p.resources {
		out[res] = wireResourceAvailability{
			Status: "available",
			ScopeRequirements: &wireScopeGrants{
				UserGranted: wireScopeRequirements{Required: []string{res}, Optional: []string{}},
				UserDenied:  wireScopeRequirements{Required: []string{}, Optional: []string{}},
			},
		}
	}
	return out
}

// userToWire renders u. Caller holds e.mu.
func (e *Emulator) userToWire(r *http.Request, u *user) wireUser {
	w := wireUser{
		UserID:           u.id,
		TeamID:           e.cfg.TeamID,
		ClientUserID:     u.clientUserID,
		CreatedOn:        formatTime(u.createdOn),
		ConnectedSources: []wireConnectedSource{},
	}
	for _, slug := range u.connectionOrder {
		c := u.connections[slug]
		p, _ := findProvider(slug)
		wp := e.wireProviderOf(r, p)
		w.ConnectedSources = append(w.ConnectedSources, wireConnectedSource{Provider: wp, CreatedOn: formatTime(c.createdOn), Source: wp})
	}
	if u.fallbackTimeZone != "" {
		w.FallbackTimeZone = &wireFallbackTimeZone{ID: u.fallbackTimeZone, SourceSlug: "manual", UpdatedAt: formatTime(u.createdOn)}
	}
	if u.fallbackBirthDate != "" {
		w.FallbackBirthDate = &wireFallbackBirthDate{Value: u.fallbackBirthDate, SourceSlug: "manual", UpdatedAt: formatTime(u.createdOn)}
	}
	if u.ingestionStart != "" {
		w.IngestionStart = ptr(u.ingestionStart)
	}
	if u.ingestionEnd != "" {
		w.IngestionEnd = ptr(u.ingestionEnd)
	}
	return w
}

func (e *Emulator) connectionToWire(r *http.Request, c *connection) wireProviderWithStatus {
	p, _ := findProvider(c.slug)
	w := wireProviderWithStatus{
		Name:                 p.name,
		Slug:                 p.slug,
		Logo:                 e.logoURL(r, p.slug),
		CreatedOn:            formatTime(c.createdOn),
		Status:               c.status,
		ResourceAvailability: resourceAvailability(p),
	}
	if c.externalUserID != "" {
		w.ExternalUserID = ptr(c.externalUserID)
	}
	if d := c.errorDetails; d != nil {
		w.ErrorDetails = &wireConnectionErrorDetails{ErrorType: d.errorType, ErrorMessage: d.message, ErroredAt: formatTime(d.erroredAt)}
	}
	return w
}

type wireDemoConnectionStatus struct {
	Success bool   `json:"success"`
	Detail  string `json:"detail"`
}
