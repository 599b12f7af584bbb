package emulator

import (
	"sync"
	"time"
)

type linkToken struct {
	token             string
	userID            string
	provider          string // empty = let the user pick
	redirectURL       string // empty = show a result page instead of redirecting
	filterOnProviders []string
	onError           string
	onClose           string
	expiresAt         time.Time
	consumed          bool
	// passwordPassed is the MFA provider whose password step succeeded.
	passwordPassed string
}

// tokenStatus is what checking a link token found.
type tokenStatus int

const (
	tokenValid tokenStatus = iota
	tokenInvalid
	tokenExpired
	tokenConsumed
)

// errorType is the redirect error_type for a failed token check.
func (s tokenStatus) errorType() string {
	switch s {
	case tokenExpired:
		return "token_expired"
	case tokenConsumed:
		return "token_consumed"
	default:
		return "invalid_token"
	}
}

// tokenRetention is how long spent tokens are remembered, so that a late
// visit is told "expired" or "consumed" rather than "invalid". maxTokens
// bounds memory (~400 bytes a token) when a load test mints thousands a
// second: past it, the oldest tokens are forgotten first.
const (
	tokenRetention = 24 * time.Hour
	maxTokens      = 100_000
)

// tokenStore holds link tokens under its own lock, apart from users, so
// minting tokens never waits for user reads or writes.
//
// Every token lives for the same TTL, so tokens expire in the order they
// were minted: a FIFO queue finds the ones to forget in O(1) amortized
// time per token, instead of a walk over every token on each mint.
type tokenStore struct {
	mu      sync.Mutex
	byValue map[string]*linkToken
	queue   []*linkToken // in minting order, so by expiresAt
	head    int          // queue[:head] are already forgotten
}

func newTokenStore() *tokenStore {
	return &tokenStore{byValue: map[string]*linkToken{}}
}

// add stores t and forgets tokens that expired more than tokenRetention
// before now, or the oldest beyond maxTokens.
func (s *tokenStore) add(t *linkToken, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byValue[t.token] = t
	s.queue = append(s.queue, t)
	cutoff := now.Add(-tokenRetention)
	for s.head < len(s.queue) && (s.queue[s.head].expiresAt.Before(cutoff) || len(s.queue)-s.head > maxTokens) {
		delete(s.byValue, s.queue[s.head].token)
		s.queue[s.head] = nil
		s.head++
	}
	// Reclaim the forgotten prefix once it is half the slice.
	if s.head > 64 && s.head*2 >= len(s.queue) {
		s.queue = append([]*linkToken(nil), s.queue[s.head:]...)
		s.head = 0
	}
}

// check looks raw up without changing it; the copy is safe to keep.
func (s *tokenStore) check(raw string, now time.Time) (linkToken, tokenStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkLocked(raw, now)
}

func (s *tokenStore) checkLocked(raw string, now time.Time) (linkToken, tokenStatus) {
	t, ok := s.byValue[raw]
	switch {
	case !ok || raw == "":
		return linkToken{}, tokenInvalid
	case t.consumed:
		return *t, tokenConsumed
	case !now.Before(t.expiresAt):
		return *t, tokenExpired
	default:
		return *t, tokenValid
	}
}

// consume marks a valid token used. Of several racing callers exactly one
// gets tokenValid; the others see tokenConsumed.
func (s *tokenStore) consume(raw string, now time.Time) (linkToken, tokenStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, status := s.checkLocked(raw, now)
	if status == tokenValid {
		s.byValue[raw].consumed = true
	}
	return t, status
}

// passPassword records that the password step for slug succeeded, so the
// verification code step may follow.
func (s *tokenStore) passPassword(raw, slug string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.byValue[raw]; ok {
		t.passwordPassed = slug
	}
}

// checkToken looks a token up; the token of a deleted user is invalid.
func (e *Emulator) checkToken(raw string) (linkToken, tokenStatus) {
	t, status := e.tokens.check(raw, e.now())
	if status != tokenInvalid && !e.userExists(t.userID) {
		return linkToken{}, tokenInvalid
	}
	return t, status
}

// consumeToken uses a token once; see tokenStore.consume.
func (e *Emulator) consumeToken(raw string) (linkToken, tokenStatus) {
	if t, status := e.checkToken(raw); status != tokenValid {
		return t, status
	}
	return e.tokens.consume(raw, e.now())
}
