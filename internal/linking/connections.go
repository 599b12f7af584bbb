package linking

import (
	"context"
	"sort"
	"time"

	"github.com/linkbff/linkbff/internal/apperr"
	"github.com/linkbff/linkbff/internal/junction"
	"github.com/linkbff/linkbff/internal/store"
)

// Connection is one provider as the app shows it.
type Connection struct {
	Provider       string     `json:"provider"`
	Name           string     `json:"name"`
	Logo           string     `json:"logo"`
	Status         string     `json:"status"` // "connected" | "error"
	ConnectedAt    *time.Time `json:"connected_at"`
	ErrorType      *string    `json:"error_type"`
	ExternalUserID *string    `json:"external_user_id"`
}

// ConnectionList is the caller's connections. Stale is true when Junction
// could not be asked and the list comes from webhooks alone.
type ConnectionList struct {
	Connections []Connection `json:"connections"`
	Stale       bool         `json:"stale,omitempty"`
}

// Connections merges Junction's providers endpoint (the truth) with what
// webhooks told us, so a connection reported by a fresh webhook shows even
// before Junction lists it. Reading never creates a Junction user.
func (s *Service) Connections(ctx context.Context, appUserID string) (ConnectionList, error) {
	list := ConnectionList{Connections: []Connection{}}
	m, ok, err := s.existingJunctionUser(ctx, appUserID)
	if err != nil || !ok {
		return list, err
	}
	local, err := s.store.Connections(ctx, m.JunctionUserID)
	if err != nil {
		return list, err
	}
	remote, err := s.userProviders.get(ctx, m.JunctionUserID)
	if apperr.Is(err, apperr.NotFound) {
		// The Junction user was deleted elsewhere (e.g. in Junction's
		// dashboard): nothing is connected.
		remote, err = nil, nil
	}
	if err != nil {
		if ctx.Err() != nil || apperr.CodeOf(err) != apperr.Unavailable && apperr.CodeOf(err) != apperr.RateLimited {
			return list, upstream("user providers", err)
		}
		s.log.Warn().Err(err).Msg("junction unavailable: listing connections from webhooks only")
		list.Stale = true
		remote = nil
	}
	list.Connections = s.mergeConnections(remote, local, list.Stale)
	return list, nil
}

func (s *Service) mergeConnections(remote []junction.ConnectedProvider, local []store.Connection, stale bool) []Connection {
	byProvider := map[string]store.Connection{}
	for _, c := range local {
		byProvider[c.Provider] = c
	}
	names := s.catalogue.names()
	out := []Connection{}
	seen := map[string]bool{}
	for _, p := range remote {
		seen[p.Slug] = true
		c := Connection{Provider: p.Slug, Name: p.Name, Logo: p.Logo, Status: p.Status, ExternalUserID: optional(p.ExternalUserID)}
		if !p.CreatedOn.IsZero() {
			t := p.CreatedOn.UTC()
			c.ConnectedAt = &t
		}
		if p.Status == StatusError {
			if p.ErrorDetails != nil {
				c.ErrorType = optional(p.ErrorDetails.ErrorType)
			} else if l, ok := byProvider[p.Slug]; ok {
				c.ErrorType = optional(l.ErrorType)
			}
		}
		out = append(out, c)
	}
	for _, l := range local {
		if seen[l.Provider] {
			continue
		}
		// Junction has not listed it (yet): show a connection only while the
		// webhook that announced it is fresh, or when Junction could not be
		// asked at all. Junction lists broken connections too, so an error it
		// does not list belongs to a connection that is gone.
		if !stale && (l.Status != StatusConnected || s.now().Sub(l.UpdatedAt) > s.freshness) {
			continue
		}
		c := Connection{Provider: l.Provider, Status: l.Status, ExternalUserID: optional(l.ExternalUserID), ConnectedAt: l.ConnectedAt}
		if info, ok := names[l.Provider]; ok {
			c.Name, c.Logo = info.Name, info.Logo
		} else {
			c.Name = l.Provider
		}
		if l.Status == StatusError {
			c.ErrorType = optional(l.ErrorType)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Disconnect deregisters one provider at Junction and forgets it locally.
func (s *Service) Disconnect(ctx context.Context, appUserID, provider string) error {
	if !providerSlug.MatchString(provider) {
		return apperr.InvalidField("provider", "provider must be a provider slug: lowercase letters, digits and _, at most 64")
	}
	notConnected := apperr.New(apperr.NotFound, "%s is not connected", provider)
	m, ok, err := s.existingJunctionUser(ctx, appUserID)
	if err != nil {
		return err
	}
	if !ok {
		return notConnected
	}
	err = s.junction.DeregisterProvider(ctx, m.JunctionUserID, provider)
	// Junction answers 404 for a provider that is not connected, and 422 for
	// a slug it does not know: either way nothing is connected.
	if err != nil && !apperr.Is(err, apperr.NotFound) && !apperr.Is(err, apperr.Invalid) {
		return upstream("deregister provider", err)
	}
	s.userProviders.forget(m.JunctionUserID)
	if delErr := s.store.DeleteConnection(ctx, m.JunctionUserID, provider); delErr != nil {
		return delErr
	}
	if err != nil {
		return notConnected
	}
	s.log.Info().Str("junction_user_id", m.JunctionUserID).Str("provider", provider).Msg("provider disconnected")
	return nil
}
