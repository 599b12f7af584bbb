package junction

import (
	"context"
	"fmt"
	"net/http"
)

// OnRedirect is the only value Junction accepts for on_error and on_close.
const OnRedirect = "redirect"

// LinkTokenRequest asks for a Link token. Empty fields are omitted.
type LinkTokenRequest struct {
	UserID            string
	Provider          string
	RedirectURL       string
	FilterOnProviders []string
	// OnError and OnClose are "redirect" or empty.
	OnError string
	OnClose string
}

// LinkToken is a single-use Link token and the hosted Link page for it.
type LinkToken struct {
	LinkToken  string `json:"link_token"`
	LinkWebURL string `json:"link_web_url"`
}

// OAuthProvider is the provider object (Junction's Source schema) returned
// for one OAuth provider; OAuthURL is where to send the user.
type OAuthProvider struct {
	Name        string
	Slug        string
	Description string
	Logo        string
	OAuthURL    string
	AuthType    string
	// SupportedResources is filled only when Junction includes it; the
	// Source schema does not promise it.
	SupportedResources []string
}

type linkTokenWire struct {
	UserID            string   `json:"user_id"`
	Provider          string   `json:"provider,omitempty"`
	RedirectURL       string   `json:"redirect_url,omitempty"`
	FilterOnProviders []string `json:"filter_on_providers,omitempty"`
	OnError           string   `json:"on_error,omitempty"`
	OnClose           string   `json:"on_close,omitempty"`
}

// LinkToken mints a Link token. Retried like an idempotent call: a fresh
// token is harmless and the unused one simply expires.
func (c *Client) LinkToken(ctx context.Context, req LinkTokenRequest) (LinkToken, error) {
	if err := requireField("user_id", req.UserID); err != nil {
		return LinkToken{}, err
	}
	if req.OnError != "" && req.OnError != OnRedirect {
		return LinkToken{}, fmt.Errorf("junction: on_error must be %q or empty", OnRedirect)
	}
	if req.OnClose != "" && req.OnClose != OnRedirect {
		return LinkToken{}, fmt.Errorf("junction: on_close must be %q or empty", OnRedirect)
	}
	body := linkTokenWire(req)
	var out LinkToken
	err := c.do(ctx, request{op: "link_token", method: http.MethodPost, path: "/v2/link/token", body: body, retryPOST: true}, &out)
	if err != nil {
		return LinkToken{}, err
	}
	return out, nil
}

// OAuthProvider asks Junction for the OAuth URL of provider within the Link
// session of linkToken. The call is authenticated by the link token alone,
// as a browser would make it; the team API key is not sent.
func (c *Client) OAuthProvider(ctx context.Context, linkToken, provider string) (OAuthProvider, error) {
	if err := requireField("link_token", linkToken); err != nil {
		return OAuthProvider{}, err
	}
	if err := requireField("provider", provider); err != nil {
		return OAuthProvider{}, err
	}
	var out struct {
		Name               string   `json:"name"`
		Slug               string   `json:"slug"`
		Description        string   `json:"description"`
		Logo               string   `json:"logo"`
		OAuthURL           string   `json:"oauth_url"`
		AuthType           string   `json:"auth_type"`
		SupportedResources []string `json:"supported_resources"`
	}
	r := request{op: "oauth_provider", method: http.MethodGet, path: escapedPath("v2", "link", "provider", "oauth", provider), linkToken: linkToken}
	if err := c.do(ctx, r, &out); err != nil {
		return OAuthProvider{}, err
	}
	return OAuthProvider(out), nil
}
