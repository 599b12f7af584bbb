package linking

import (
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
)

// DefaultMappingCacheSize is how many app users' mappings a Service keeps
// in memory unless told otherwise: about 30 MB when full.
const DefaultMappingCacheSize = 100_000

// mappingCache keeps app user → Junction user mappings in memory, so the
// token path needs no database read for a returning user. A stored mapping
// never changes; it only disappears (DELETE /v1/me, or a Junction user
// found gone), and both go through forget. Another replica's deletion
// leaves a stale entry here, which is harmless: Junction answers "user not
// found" for it and the self-healing path forgets it.
type mappingCache struct {
	entries *lru.Cache[string, UserMapping] // nil when disabled
	// mu and epoch keep a lookup that raced a forget from caching what was
	// just forgotten: add stores only if no forget happened since the
	// lookup began.
	mu    sync.Mutex
	epoch uint64
}

func newMappingCache(size int) *mappingCache {
	c := &mappingCache{}
	if size > 0 {
		c.entries, _ = lru.New[string, UserMapping](size) // errors only on size <= 0
	}
	return c
}

func (c *mappingCache) get(appUserID string) (UserMapping, bool) {
	if c.entries == nil {
		return UserMapping{}, false
	}
	return c.entries.Get(appUserID)
}

// begin marks the start of a lookup whose result may be added.
func (c *mappingCache) begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// add caches m unless a forget happened since begin returned since.
func (c *mappingCache) add(m UserMapping, since uint64) {
	if c.entries == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch == since {
		c.entries.Add(m.AppUserID, m)
	}
}

func (c *mappingCache) forget(appUserID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if c.entries != nil {
		c.entries.Remove(appUserID)
	}
}
