// Package junctionadapter is the linking domain's Junction port: it calls
// Junction through the internal/junction client, turns Junction's types into
// the domain's, and is the one place where Junction's answers become domain
// errors.
package junctionadapter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/linkbff/linkbff/internal/junction"
	"github.com/linkbff/linkbff/internal/linking"
)

// Adapter implements linking.Junction with a junction.Client.
type Adapter struct {
	client *junction.Client
}

var _ linking.Junction = (*Adapter)(nil)

// New returns the domain's view of Junction through client.
func New(client *junction.Client) *Adapter { return &Adapter{client: client} }

// CreateUser creates or adopts the Junction user for clientUserID.
func (a *Adapter) CreateUser(ctx context.Context, clientUserID string) (linking.JunctionUser, error) {
	u, err := a.client.CreateUser(ctx, clientUserID)
	if err != nil {
		return linking.JunctionUser{}, classify(opCreateUser, err)
	}
	return linking.JunctionUser{ID: u.UserID, Adopted: u.Adopted}, nil
}

// DeleteUser deletes a Junction user and its connections.
func (a *Adapter) DeleteUser(ctx context.Context, junctionUserID string) error {
	return classify(opDeleteUser, a.client.DeleteUser(ctx, junctionUserID))
}

// LinkToken mints a link token.
func (a *Adapter) LinkToken(ctx context.Context, req linking.LinkTokenRequest) (linking.LinkToken, error) {
	wire := junction.LinkTokenRequest{
		UserID:            req.JunctionUserID,
		Provider:          req.Provider,
		RedirectURL:       req.RedirectURL,
		FilterOnProviders: req.FilterOnProviders,
	}
	if req.RedirectOnError {
		wire.OnError = junction.OnRedirect
	}
	if req.RedirectOnClose {
		wire.OnClose = junction.OnRedirect
	}
	t, err := a.client.LinkToken(ctx, wire)
	if err != nil {
		return linking.LinkToken{}, classifyLinkToken(req, err)
	}
	return linking.LinkToken{Token: t.LinkToken, WebURL: t.LinkWebURL}, nil
}

// OAuthLink resolves one OAuth provider's consent URL.
func (a *Adapter) OAuthLink(ctx context.Context, linkToken, provider string) (linking.OAuthLink, error) {
	p, err := a.client.OAuthProvider(ctx, linkToken, provider)
	if err != nil {
		return linking.OAuthLink{}, classifyOAuth(provider, err)
	}
	return linking.OAuthLink{URL: p.OAuthURL, Provider: linking.Provider{
		Slug: p.Slug, Name: p.Name, Description: p.Description, Logo: p.Logo,
		AuthType: p.AuthType, SupportedResources: p.SupportedResources,
	}}, nil
}

// Connections lists a Junction user's connections.
func (a *Adapter) Connections(ctx context.Context, junctionUserID string) ([]linking.Connection, error) {
	providers, err := a.client.UserProviders(ctx, junctionUserID)
	if err != nil {
		return nil, classify(opConnections, err)
	}
	out := make([]linking.Connection, 0, len(providers))
	for _, p := range providers {
		c := linking.Connection{Provider: p.Slug, Name: p.Name, Logo: p.Logo, Status: p.Status, ExternalUserID: p.ExternalUserID}
		if !p.CreatedOn.IsZero() {
			t := p.CreatedOn.UTC()
			c.ConnectedAt = &t
		}
		if p.ErrorDetails != nil {
			c.ErrorType = p.ErrorDetails.ErrorType
		}
		out = append(out, c)
	}
	return out, nil
}

// Disconnect deregisters one provider.
func (a *Adapter) Disconnect(ctx context.Context, junctionUserID, provider string) error {
	return classify(opDisconnect, a.client.DeregisterProvider(ctx, junctionUserID, provider))
}

// Providers lists the providers the team can offer.
func (a *Adapter) Providers(ctx context.Context) ([]linking.Provider, error) {
	providers, err := a.client.Providers(ctx)
	if err != nil {
		return nil, classify(opProviders, err)
	}
	out := make([]linking.Provider, 0, len(providers))
	for _, p := range providers {
		out = append(out, linking.Provider{
			Slug: p.Slug, Name: p.Name, Description: p.Description, Logo: p.Logo,
			AuthType: p.AuthType, SupportedResources: p.SupportedResources,
		})
	}
	return out, nil
}

// SignInToken mints a mobile SDK sign-in token.
func (a *Adapter) SignInToken(ctx context.Context, junctionUserID string) (linking.SignInToken, error) {
	t, err := a.client.SignInToken(ctx, junctionUserID)
	if err != nil {
		return linking.SignInToken{}, classify(opSignInToken, err)
	}
	return linking.SignInToken{JunctionUserID: t.UserID, Token: t.SignInToken}, nil
}

// ParseWebhookEvent reads a verified webhook body.
func (a *Adapter) ParseWebhookEvent(body []byte) (linking.WebhookEvent, error) {
	ev, err := junction.ParseWebhookEvent(body)
	if err != nil {
		return linking.WebhookEvent{}, linking.WrapError(linking.EInvalid, err, "the webhook body is not a Junction event")
	}
	return linking.WebhookEvent{
		Type:           ev.Type,
		JunctionUserID: ev.UserID,
		Provider:       ev.Provider,
		ExternalUserID: ev.ExternalUserID,
		ErrorType:      ev.ErrorType,
		Message:        ev.Message,
	}, nil
}

// operation names a Junction call for the error table.
type operation string

const (
	opCreateUser  operation = "create user"
	opDeleteUser  operation = "delete user"
	opLinkToken   operation = "link token"
	opOAuthLink   operation = "oauth provider"
	opConnections operation = "user providers"
	opDisconnect  operation = "deregister provider"
	opProviders   operation = "providers"
	opSignInToken operation = "sign-in token"
)

// userScoped are the calls whose 404 means the Junction user is gone.
var userScoped = map[operation]bool{opDeleteUser: true, opLinkToken: true, opConnections: true, opSignInToken: true}

// classify is the one translation of a Junction failure into the domain's
// words. Junction's retryable answers become EUpstreamUnavailable; the
// conditions the app can act on become what they mean; anything else Junction
// refused was sent by linkbff, so it is linkbff's fault (EUpstream).
func classify(op operation, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	var jerr *junction.Error
	if !errors.As(err, &jerr) {
		// The client refused its arguments before calling: a linkbff bug.
		return linking.WrapError(linking.EInternal, fmt.Errorf("junction %s: %w", op, err), "internal error")
	}
	status := jerr.StatusCode
	switch {
	case jerr.Retryable():
		e := linking.WrapError(linking.EUpstreamUnavailable, err, "Junction is unavailable, try again shortly")
		e.RetryAfter = jerr.RetryAfter
		return e
	case jerr.Malformed():
		// Junction said yes in words linkbff cannot read, even after retries.
		return linking.WrapError(linking.EUpstream, err, "Junction's answer could not be read; try again shortly")
	case status == http.StatusNotFound && userScoped[op]:
		return linking.WrapError(linking.ENotFound, fmt.Errorf("%w: %w", linking.ErrUnknownJunctionUser, err), "the Junction user no longer exists")
	case op == opDisconnect && (status == http.StatusNotFound || status == http.StatusUnprocessableEntity):
		// 404: not connected; 422: a slug Junction does not know. Either way
		// nothing is connected under that name.
		return linking.WrapError(linking.ENotFound, fmt.Errorf("%w: %w", linking.ErrProviderNotConnected, err), "the provider is not connected")
	case op == opOAuthLink && (status == http.StatusUnauthorized || status == http.StatusForbidden):
		// Authenticated by the link token linkbff has just minted, not the key.
		return linking.WrapError(linking.EUpstream, err, "Junction refused the link token linkbff has just minted")
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return linking.WrapError(linking.EUpstream, err, "Junction refused linkbff's credentials; the operator must check JUNCTION_API_KEY")
	}
	return linking.WrapError(linking.EUpstream, err, "Junction rejected linkbff's request; this is a linkbff problem, not the app's")
}

// classifyLinkToken adds the one condition of a link token the app can act
// on: a provider it asked for that Junction does not offer this team.
func classifyLinkToken(req linking.LinkTokenRequest, err error) error {
	var jerr *junction.Error
	if errors.As(err, &jerr) && isRefusal(jerr.StatusCode) && mentionsProvider(jerr) {
		switch {
		case req.Provider != "":
			return linking.WrapError(linking.EInvalid, err, "Junction does not offer provider %q", req.Provider).WithField("provider")
		case len(req.FilterOnProviders) > 0:
			return linking.WrapError(linking.EInvalid, err, "Junction does not offer every provider in filter_on_providers").WithField("filter_on_providers")
		}
	}
	return classify(opLinkToken, err)
}

// classifyOAuth: Junction refuses a provider that is not an OAuth provider
// (or not one it knows) with 400/404/422, which the app can act on.
func classifyOAuth(provider string, err error) error {
	var jerr *junction.Error
	if errors.As(err, &jerr) && (isRefusal(jerr.StatusCode) || jerr.StatusCode == http.StatusNotFound) {
		return linking.WrapError(linking.EInvalid, err, "%q cannot be connected through OAuth", provider).WithField("provider")
	}
	return classify(opOAuthLink, err)
}

func isRefusal(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusUnprocessableEntity
}

func mentionsProvider(e *junction.Error) bool {
	return strings.Contains(strings.ToLower(e.Detail), "provider")
}
