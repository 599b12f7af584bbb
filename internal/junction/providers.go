package junction

import (
	"context"
	"net/http"
	"time"
)

// ConnectedProvider is one of a user's provider connections.
type ConnectedProvider struct {
	Name string
	Slug string
	Logo string
	// Status is "connected" or "error" (Junction may add values).
	Status         string
	ExternalUserID string
	CreatedOn      time.Time
	// ErrorDetails is set only when Status is "error".
	ErrorDetails *ConnectionErrorDetails
}

// ConnectionErrorDetails says why a connection is in error.
type ConnectionErrorDetails struct {
	ErrorType    string
	ErrorMessage string
	ErroredAt    time.Time
}

// Provider is a provider the team can offer.
type Provider struct {
	Name               string
	Slug               string
	Description        string
	Logo               string
	AuthType           string
	SupportedResources []string
}

type connectedProviderWire struct {
	Name           string      `json:"name"`
	Slug           string      `json:"slug"`
	Logo           string      `json:"logo"`
	Status         string      `json:"status"`
	ExternalUserID string      `json:"external_user_id"`
	CreatedOn      lenientTime `json:"created_on"`
	ErrorDetails   *struct {
		ErrorType    string      `json:"error_type"`
		ErrorMessage string      `json:"error_message"`
		ErroredAt    lenientTime `json:"errored_at"`
	} `json:"error_details"`
}

// UserProviders lists the user's connections as Junction sees them: the
// source of truth, unlike the Link redirect.
func (c *Client) UserProviders(ctx context.Context, userID string) ([]ConnectedProvider, error) {
	if err := requireField("user_id", userID); err != nil {
		return nil, err
	}
	var out struct {
		Providers []connectedProviderWire `json:"providers"`
	}
	if err := c.do(ctx, request{op: "user_providers", method: http.MethodGet, path: escapedPath("v2", "user", "providers", userID)}, &out); err != nil {
		return nil, err
	}
	providers := make([]ConnectedProvider, 0, len(out.Providers))
	for _, w := range out.Providers {
		p := ConnectedProvider{
			Name: w.Name, Slug: w.Slug, Logo: w.Logo, Status: w.Status,
			ExternalUserID: w.ExternalUserID, CreatedOn: time.Time(w.CreatedOn),
		}
		if w.ErrorDetails != nil {
			p.ErrorDetails = &ConnectionErrorDetails{
				ErrorType:    w.ErrorDetails.ErrorType,
				ErrorMessage: w.ErrorDetails.ErrorMessage,
				ErroredAt:    time.Time(w.ErrorDetails.ErroredAt),
			}
		}
		providers = append(providers, p)
	}
	return providers, nil
}

// DeregisterProvider removes one provider connection of a user.
func (c *Client) DeregisterProvider(ctx context.Context, userID, provider string) error {
	if err := requireField("user_id", userID); err != nil {
		return err
	}
	if err := requireField("provider", provider); err != nil {
		return err
	}
	return c.do(ctx, request{op: "deregister_provider", method: http.MethodDelete, path: escapedPath("v2", "user", userID, provider)}, nil)
}

// Providers lists the providers the team can offer.
func (c *Client) Providers(ctx context.Context) ([]Provider, error) {
	var out []struct {
		Name               string   `json:"name"`
		Slug               string   `json:"slug"`
		Description        string   `json:"description"`
		Logo               string   `json:"logo"`
		AuthType           string   `json:"auth_type"`
		SupportedResources []string `json:"supported_resources"`
	}
	if err := c.do(ctx, request{op: "providers", method: http.MethodGet, path: "/v2/providers"}, &out); err != nil {
		return nil, err
	}
	providers := make([]Provider, 0, len(out))
	for _, w := range out {
		providers = append(providers, Provider(w))
	}
	return providers, nil
}
