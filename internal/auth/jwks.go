package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"golang.org/x/time/rate"
)

const (
	// Retry delays after a failed fetch, so a JWKS that is down at startup is
	// picked up soon without hammering it.
	jwksRetryMin = time.Second
	jwksRetryMax = time.Minute
)

// keyfunc reads keys through the jwkset.Storage interface.
var _ jwkset.Storage = (*remoteKeySet)(nil)

var errUnknownKIDRefreshLimited = errors.New("JWKS refresh for an unknown key skipped: rate limited")

// remoteKeySet is a jwkset.Storage holding the keys of one remote JWKS. It
// replaces jwkset's HTTP client storage because that one makes unknown-kid
// callers wait for the rate limiter (up to a minute) and shares that wait
// with the fetch deadline; here a caller either joins the fetch in flight,
// starts one if the limiter allows, or is refused at once.
type remoteKeySet struct {
	*jwkset.MemoryJWKSet // KeyRead and KeyReadAll are overridden below.

	url         string
	redactedURL string // scheme://host/path: no credentials or query in errors
	client      *http.Client
	timeout     time.Duration
	baseCtx     context.Context // ends background and shared fetches

	unknownKIDLimiter *rate.Limiter

	mu       sync.Mutex
	inflight *jwksFetch
	lastErr  error
}

// jwksFetch is one fetch that concurrent callers share.
type jwksFetch struct {
	done chan struct{}
	err  error // written before done is closed
}

func newRemoteKeySet(ctx context.Context, cfg Config) *remoteKeySet {
	timeout := cfg.HTTPClient.Timeout
	if timeout <= 0 {
		timeout = defaultJWKSFetchTimeout
	}
	return &remoteKeySet{
		MemoryJWKSet:      jwkset.NewMemoryStorage(),
		url:               cfg.JWKSURL,
		redactedURL:       redactURL(cfg.JWKSURL),
		client:            cfg.HTTPClient,
		timeout:           timeout,
		baseCtx:           ctx,
		unknownKIDLimiter: rate.NewLimiter(rate.Every(cfg.JWKSUnknownKIDRateLimit), 1),
	}
}

// KeyRead returns the key with keyID, refetching the JWKS first (rate
// limited) when the kid is unknown, so keys rotated in by the IdP work
// before the next scheduled refresh.
func (s *remoteKeySet) KeyRead(ctx context.Context, keyID string) (jwkset.JWK, error) {
	jwk, err := s.MemoryJWKSet.KeyRead(ctx, keyID)
	if !errors.Is(err, jwkset.ErrKeyNotFound) {
		return jwk, err
	}
	err = s.refreshAndRetry(ctx, func() (readErr error) {
		jwk, readErr = s.MemoryJWKSet.KeyRead(ctx, keyID)
		return readErr
	})
	if err != nil {
		return jwkset.JWK{}, fmt.Errorf("unknown key id: %w", err)
	}
	return jwk, nil
}

// KeyReadAll serves tokens without a kid; an empty set gets the same rate
// limited refetch as an unknown kid.
func (s *remoteKeySet) KeyReadAll(ctx context.Context) ([]jwkset.JWK, error) {
	keys, err := s.MemoryJWKSet.KeyReadAll(ctx)
	if err != nil || len(keys) > 0 {
		return keys, err
	}
	err = s.refreshAndRetry(ctx, func() (readErr error) {
		keys, readErr = s.MemoryJWKSet.KeyReadAll(ctx)
		if readErr == nil && len(keys) == 0 {
			readErr = errors.New("JWKS has no keys")
		}
		return readErr
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// refreshAndRetry refreshes the JWKS (rate limited) and runs read again. A
// fetch already in flight is joined, but it may have begun before the key
// was published or the JWKS came back, so if read still fails after a joined
// fetch, one fetch of our own is tried, again subject to the rate limit.
func (s *remoteKeySet) refreshAndRetry(ctx context.Context, read func() error) error {
	var err error
	for range 2 {
		started, refreshErr := s.refresh(ctx, true)
		if refreshErr != nil {
			err = refreshErr
		} else if err = read(); err == nil {
			return nil
		}
		if started || errors.Is(refreshErr, errUnknownKIDRefreshLimited) || ctx.Err() != nil {
			break
		}
	}
	return err
}

// hasKeys reports whether at least one usable key is loaded, and otherwise
// the last fetch error.
func (s *remoteKeySet) hasKeys(ctx context.Context) (bool, error) {
	keys, _ := s.MemoryJWKSet.KeyReadAll(ctx)
	if len(keys) > 0 {
		return true, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return false, s.lastErr
}

// refresh joins the fetch in flight or starts one, reporting which. With
// limited set it starts a fetch only when the unknown-kid limiter allows. The
// fetch runs on baseCtx so one caller giving up does not fail it for the
// others; ctx only bounds how long this caller waits.
func (s *remoteKeySet) refresh(ctx context.Context, limited bool) (started bool, err error) {
	s.mu.Lock()
	fetch := s.inflight
	if fetch == nil {
		if limited && !s.unknownKIDLimiter.Allow() {
			s.mu.Unlock()
			return false, errUnknownKIDRefreshLimited
		}
		fetch = &jwksFetch{done: make(chan struct{})}
		s.inflight = fetch
		started = true
		go s.runFetch(fetch)
	}
	s.mu.Unlock()

	select {
	case <-fetch.done:
		return started, fetch.err
	case <-ctx.Done():
		return started, ctx.Err()
	}
}

func (s *remoteKeySet) runFetch(fetch *jwksFetch) {
	err := s.fetch(s.baseCtx)
	s.mu.Lock()
	s.lastErr = err
	s.inflight = nil
	s.mu.Unlock()
	fetch.err = err
	close(fetch.done)
}

// keepFresh refetches every interval, and sooner with backoff after a failed
// fetch, until baseCtx ends.
func (s *remoteKeySet) keepFresh(interval time.Duration, lastFetchFailed bool) {
	retry := jwksRetryMin
	next := func(failed bool) time.Duration {
		if !failed {
			retry = jwksRetryMin
			return interval
		}
		delay := min(retry, interval)
		retry = min(retry*2, jwksRetryMax)
		return delay
	}
	timer := time.NewTimer(next(lastFetchFailed))
	defer timer.Stop()
	for {
		select {
		case <-s.baseCtx.Done():
			return
		case <-timer.C:
		}
		_, err := s.refresh(s.baseCtx, false)
		timer.Reset(next(err != nil))
	}
}
