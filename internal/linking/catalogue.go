package linking

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// catalogueCache keeps Junction's provider catalogue for a while; concurrent
// misses share one upstream call.
type catalogueCache struct {
	ttl   time.Duration
	now   func() time.Time
	fetch func(context.Context) ([]Provider, error)
	group singleflight.Group

	mu        sync.RWMutex
	providers []Provider
	fetchedAt time.Time
}

func newCatalogueCache(ttl time.Duration, now func() time.Time, fetch func(context.Context) ([]Provider, error)) *catalogueCache {
	return &catalogueCache{ttl: ttl, now: now, fetch: fetch}
}

func (c *catalogueCache) get(ctx context.Context) ([]Provider, error) {
	c.mu.RLock()
	providers, fresh := c.providers, c.providers != nil && c.now().Sub(c.fetchedAt) < c.ttl
	c.mu.RUnlock()
	if fresh {
		return providers, nil
	}
	v, err, _ := c.group.Do("catalogue", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedCallTimeout)
		defer cancel()
		p, err := c.fetch(ctx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.providers, c.fetchedAt = p, c.now()
		c.mu.Unlock()
		return p, nil
	})
	if err != nil {
		if providers != nil {
			return providers, nil // a stale catalogue beats none
		}
		return nil, err
	}
	return v.([]Provider), nil
}

// bySlug returns what is cached, without fetching: used to label
// connections known only from webhooks.
func (c *catalogueCache) bySlug() map[string]Provider {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]Provider, len(c.providers))
	for _, p := range c.providers {
		out[p.Slug] = p
	}
	return out
}

// Providers returns the catalogue the app may offer: Junction's providers,
// filtered by the allowlist.
func (s *Service) Providers(ctx context.Context) ([]Provider, error) {
	all, err := s.catalogue.get(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Provider, 0, len(all))
	for _, p := range all {
		if s.allowlist.allows(p.Slug) {
			out = append(out, p)
		}
	}
	return out, nil
}
