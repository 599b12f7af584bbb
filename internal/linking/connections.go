package linking

import (
	"context"
	"errors"
	"sort"
)

// Connections merges Junction's providers endpoint (the truth) with what
// webhooks told us, so a connection reported by a fresh webhook shows even
// before Junction lists it. Reading never creates a Junction user.
func (s *Service) Connections(ctx context.Context, appUserID string) (ConnectionList, error) {
	list := ConnectionList{Connections: []Connection{}}
	m, ok, err := s.existingJunctionUser(ctx, appUserID)
	if err != nil || !ok {
		return list, err
	}
	reported, err := s.store.ReportedConnections(ctx, m.JunctionUserID)
	if err != nil {
		return list, err
	}
	remote, err := s.userProviders.get(ctx, m.JunctionUserID)
	switch {
	case err == nil:
	case isUnknownJunctionUser(err):
		// The Junction user was deleted elsewhere (e.g. in Junction's
		// dashboard): nothing is connected, and the next link maps a new one.
		if err := s.forgetJunctionUser(ctx, m); err != nil {
			return list, err
		}
		return list, nil
	case ctx.Err() == nil && IsCode(err, EUpstreamUnavailable):
		s.log.Warn().Err(err).Msg("junction unavailable: listing connections from webhooks only")
		list.Stale = true
		remote = nil
	default:
		return list, err
	}
	list.Connections = s.mergeConnections(remote, reported, list.Stale)
	return list, nil
}

func (s *Service) mergeConnections(remote []Connection, reported []ReportedConnection, stale bool) []Connection {
	byProvider := make(map[string]ReportedConnection, len(reported))
	for _, c := range reported {
		byProvider[c.Provider] = c
	}
	out := make([]Connection, 0, len(remote)+len(reported))
	seen := make(map[string]bool, len(remote))
	for _, c := range remote {
		seen[c.Provider] = true
		if c.Status == StatusError && c.ErrorType == "" {
			c.ErrorType = byProvider[c.Provider].ErrorType
		}
		if c.Status != StatusError {
			c.ErrorType = ""
		}
		out = append(out, c)
	}
	var names map[string]Provider
	for _, r := range reported {
		if seen[r.Provider] {
			continue
		}
		// Junction has not listed it (yet): show a connection only while the
		// webhook that announced it is fresh, or when Junction could not be
		// asked at all. Junction lists broken connections too, so an error it
		// does not list belongs to a connection that is gone.
		if !stale && (r.Status != StatusConnected || s.now().Sub(r.UpdatedAt) > s.freshness) {
			continue
		}
		if names == nil {
			names = s.catalogue.bySlug()
		}
		c := Connection{Provider: r.Provider, Name: r.Provider, Status: r.Status, ExternalUserID: r.ExternalUserID, ConnectedAt: r.ConnectedAt}
		if info, ok := names[r.Provider]; ok {
			c.Name, c.Logo = info.Name, info.Logo
		}
		if r.Status == StatusError {
			c.ErrorType = r.ErrorType
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Provider < out[j].Provider })
	return out
}

// Disconnect deregisters one provider at Junction and forgets it locally.
func (s *Service) Disconnect(ctx context.Context, appUserID, provider string) error {
	if !providerSlug.MatchString(provider) {
		return FieldErrorf("provider", "provider must be a provider slug: lowercase letters, digits and _, at most 64")
	}
	notConnected := Errorf(ENotFound, "%s is not connected", provider)
	m, ok, err := s.existingJunctionUser(ctx, appUserID)
	if err != nil {
		return err
	}
	if !ok {
		return notConnected
	}
	err = s.junction.Disconnect(ctx, m.JunctionUserID, provider)
	if isUnknownJunctionUser(err) {
		// Nothing of a deleted Junction user is connected.
		if err := s.forgetJunctionUser(ctx, m); err != nil {
			return err
		}
		return notConnected
	}
	gone := errors.Is(err, ErrProviderNotConnected)
	if err != nil && !gone {
		return err
	}
	s.userProviders.forget(m.JunctionUserID)
	var events []*Event
	if !gone {
		events = keep(s.disconnectedEvent(m, provider, ReasonDisconnected))
	}
	if err := s.store.DeleteReportedConnection(ctx, m.JunctionUserID, provider, events...); err != nil {
		return err
	}
	if gone {
		return notConnected
	}
	s.publish(ctx, events...)
	s.log.Info().Str("junction_user_id", m.JunctionUserID).Str("provider", provider).Msg("provider disconnected")
	return nil
}

// disconnectedEvent says the app disconnected one of m's providers.
func (s *Service) disconnectedEvent(m UserMapping, provider, reason string) *Event {
	e := s.newEvent(EventConnectionDisconnected, m)
	e.Provider, e.Reason = provider, reason
	return &e
}
