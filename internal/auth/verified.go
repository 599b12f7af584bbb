package auth

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Apps send the same token on every request until it expires, and checking
// it (an RS256 or ES256 signature, the JSON of its claims) costs tens of
// microseconds each time. verifiedTokens remembers the tokens that passed
// every check, so a token is verified once and afterwards only its expiry
// is looked at.
type verifiedTokens struct {
	entries *lru.Cache[string, verifiedToken]
}

type verifiedToken struct {
	principal Principal
	// until is the token's exp plus the leeway the parser allowed, capped
	// at maxVerifiedAge after verification.
	until time.Time
}

const (
	// verifiedTokensSize bounds the memory: about 1 KB a token.
	verifiedTokensSize = 10_000
	// maxVerifiedAge is how long a verified token is trusted before it is
	// verified again, whatever its exp: a key withdrawn from the JWKS stops
	// being honoured for it within this time (the key set itself is
	// refreshed less often).
	maxVerifiedAge = 5 * time.Minute
)

func newVerifiedTokens() *verifiedTokens {
	entries, _ := lru.New[string, verifiedToken](verifiedTokensSize) // errors only on a size <= 0
	return &verifiedTokens{entries: entries}
}

// get returns the principal of token if it was verified and is still
// valid at now.
func (c *verifiedTokens) get(token string, now time.Time) (Principal, bool) {
	e, ok := c.entries.Get(token)
	if !ok {
		return Principal{}, false
	}
	if !now.Before(e.until) {
		c.entries.Remove(token)
		return Principal{}, false
	}
	return e.principal, true
}

// add remembers a token that passed every check at now and is accepted
// until expires.
func (c *verifiedTokens) add(token string, p Principal, expires, now time.Time) {
	until := now.Add(maxVerifiedAge)
	if expires.Before(until) {
		until = expires
	}
	c.entries.Add(token, verifiedToken{principal: p, until: until})
}
