package linking

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// userProvidersTTL is how long one user's list from Junction is reused: an
// app polling GET /v1/connections then costs Junction one call per user
// every few seconds, however often it polls.
const userProvidersTTL = 3 * time.Second

// userProvidersCache remembers Junction's providers list per Junction user
// for a few seconds; concurrent misses for one user share one call.
type userProvidersCache struct {
	fetch func(ctx context.Context, userID string) ([]Connection, error)
	now   func() time.Time
	group singleflight.Group

	mu      sync.Mutex
	entries map[string]userProvidersEntry
}

type userProvidersEntry struct {
	providers []Connection
	fetchedAt time.Time
}

func newUserProvidersCache(now func() time.Time, fetch func(context.Context, string) ([]Connection, error)) *userProvidersCache {
	return &userProvidersCache{fetch: fetch, now: now, entries: map[string]userProvidersEntry{}}
}

func (c *userProvidersCache) get(ctx context.Context, userID string) ([]Connection, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[userID]
	c.mu.Unlock()
	if ok && now.Sub(e.fetchedAt) < userProvidersTTL {
		return e.providers, nil
	}
	v, err, _ := c.group.Do(userID, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedCallTimeout)
		defer cancel()
		p, err := c.fetch(ctx, userID)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		// Expired entries go as new ones come, so the map holds only users
		// seen in the last few seconds.
		for id, old := range c.entries {
			if now.Sub(old.fetchedAt) >= userProvidersTTL {
				delete(c.entries, id)
			}
		}
		c.entries[userID] = userProvidersEntry{providers: p, fetchedAt: now}
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]Connection), nil
}

// forget drops a user's entry after linkbff changed their connections.
func (c *userProvidersCache) forget(userID string) {
	c.mu.Lock()
	delete(c.entries, userID)
	c.mu.Unlock()
}
