package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"golang.org/x/time/rate"
)

const (
	// maxJWKSBytes bounds what a misbehaving JWKS endpoint can make us read.
	maxJWKSBytes = 1 << 20
	// Retry delays while no key could be loaded yet, so a JWKS that is down
	// at startup is picked up soon without hammering it.
	jwksRetryMin = time.Second
	jwksRetryMax = time.Minute
)

var errJWKSTooLarge = fmt.Errorf("JWKS response exceeds %d bytes", maxJWKSBytes)

// jwksKeys is the key set of one remote JWKS. jwkset fetches and refreshes
// it:
//   - NoErrorReturnFirstHTTPReq: an unreachable JWKS at startup does not
//     fail construction (Ready reports it instead);
//   - RefreshInterval: refetched in the background on a schedule;
//   - RefreshUnknownKID: a token whose kid is unknown refetches at once, at
//     most once per Config.JWKSUnknownKIDRateLimit;
//   - RateLimitWaitMax (the fetch timeout) and the request's own deadline
//     bound how long such a caller waits for the limiter and the fetch
//     together; a caller that would have to wait past either is refused at
//     once.
//
// What jwkset does not do is kept here, each with a test showing why:
//   - signingKeyStore: jwkset stores whatever a 200 response lists, so an
//     empty set would log every user out, and encryption or symmetric keys
//     would be offered for signatures (TestJWKSKeepsOnlySigningKeys);
//   - retryWhileEmpty: jwkset refetches only on its schedule or for an
//     unknown kid, so a JWKS down at startup would stay unused for up to an
//     hour while /readyz keeps tokens away (TestReadyRecoversWithoutTokens);
//   - cappedTransport: jwkset decodes the response without a size limit
//     (TestOversizedJWKSIsRefused);
//   - redactedError: jwkset's errors quote the whole URL, credentials and
//     query included (TestNewVerifierDoesNotFailOnUnreachableJWKS).
//
// Accepted difference from the fetcher this replaced: a token whose new kid
// arrives while another token's refresh is in flight does not share that
// refresh; with the default limit it is refused at once and passes on retry.
type jwksKeys struct {
	client       jwkset.Storage // what keyfunc reads keys from
	store        *signingKeyStore
	url          string
	fetchOptions jwkset.HTTPClientStorageOptions // of one fetch into store
}

func newJWKSKeys(ctx context.Context, cfg Config) (*jwksKeys, error) {
	fetchTimeout := cfg.HTTPClient.Timeout
	if fetchTimeout <= 0 {
		fetchTimeout = defaultJWKSFetchTimeout
	}
	client := *cfg.HTTPClient
	client.Transport = cappedTransport{base: cfg.HTTPClient.Transport}
	store := &signingKeyStore{MemoryJWKSet: jwkset.NewMemoryStorage(), redactedURL: redactURL(cfg.JWKSURL)}
	k := &jwksKeys{
		store: store,
		url:   cfg.JWKSURL,
		fetchOptions: jwkset.HTTPClientStorageOptions{
			Client:      &client,
			Ctx:         ctx,
			HTTPTimeout: fetchTimeout,
			// Failures go to the handler, not to the caller: keys are
			// absent until a fetch succeeds, and Ready says so.
			NoErrorReturnFirstHTTPReq: true,
			RefreshErrorHandler:       store.fetchFailed,
			Storage:                   store,
		},
	}

	scheduled := k.fetchOptions
	scheduled.RefreshInterval = cfg.JWKSRefreshInterval
	remote, err := jwkset.NewStorageFromHTTP(cfg.JWKSURL, scheduled) // fetches once before returning
	if err != nil {
		return nil, fmt.Errorf("auth config: JWKS URL %s is not usable", store.redactedURL)
	}
	k.client, err = jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{cfg.JWKSURL: remote},
		RateLimitWaitMax:  fetchTimeout,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(cfg.JWKSUnknownKIDRateLimit), 1),
	})
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS client: %w", err)
	}
	if !store.hasKeys() {
		go k.retryWhileEmpty(ctx)
	}
	return k, nil
}

// retryWhileEmpty refetches with backoff until a key is loaded or ctx ends.
// A one-shot jwkset storage writing into the same store does each fetch,
// outside the unknown-kid limiter so tokens keep their own refetches.
func (k *jwksKeys) retryWhileEmpty(ctx context.Context) {
	delay := jwksRetryMin
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if !k.store.hasKeys() {
			_, _ = jwkset.NewStorageFromHTTP(k.url, k.fetchOptions) // failures reach fetchFailed
		}
		if k.store.hasKeys() {
			return
		}
		delay = min(delay*2, jwksRetryMax)
		timer.Reset(delay)
	}
}

// ready returns nil once a key is loaded, else the last fetch failure.
func (k *jwksKeys) ready() error {
	if k.store.hasKeys() {
		return nil
	}
	return k.store.lastFailure()
}

// signingKeyStore is where jwkset writes each fetched key set. It keeps
// only keys meant for signatures and refuses a set without any, so the
// previous keys stay in place: a JWKS hiccup must not log every user out.
type signingKeyStore struct {
	*jwkset.MemoryJWKSet // KeyReplaceAll is overridden below.
	redactedURL          string

	mu      sync.Mutex
	lastErr error
}

func (s *signingKeyStore) KeyReplaceAll(ctx context.Context, keys []jwkset.JWK) error {
	published := len(keys)
	keys = slices.DeleteFunc(keys, func(key jwkset.JWK) bool {
		m := key.Marshal()
		return m.USE == jwkset.UseEnc || m.KTY == jwkset.KtyOct
	})
	if len(keys) == 0 {
		return fmt.Errorf("no usable signing keys among %d published", published)
	}
	if err := s.MemoryJWKSet.KeyReplaceAll(ctx, keys); err != nil {
		return err
	}
	s.mu.Lock()
	s.lastErr = nil
	s.mu.Unlock()
	return nil
}

func (s *signingKeyStore) hasKeys() bool {
	keys, _ := s.MemoryJWKSet.KeyReadAll(context.Background())
	return len(keys) > 0
}

// fetchFailed is jwkset's RefreshErrorHandler.
func (s *signingKeyStore) fetchFailed(_ context.Context, err error) {
	s.mu.Lock()
	s.lastErr = redactedError(s.redactedURL, err)
	s.mu.Unlock()
}

func (s *signingKeyStore) lastFailure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr == nil {
		return errors.New("no JWKS fetch has succeeded yet")
	}
	return s.lastErr
}

// redactedError names the JWKS by redactedURL. An *url.Error is replaced by
// its cause: jwkset's text around it repeats the full URL.
func redactedError(redactedURL string, err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	return fmt.Errorf("fetch JWKS from %s: %w", redactedURL, err)
}

// redactURL keeps scheme, host and path: enough to tell which JWKS failed,
// without credentials or query parameters that may carry secrets.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the JWKS URL"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// cappedTransport stops reading a JWKS response after maxJWKSBytes.
type cappedTransport struct {
	base http.RoundTripper // nil means http.DefaultTransport
}

func (t cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{ReadCloser: resp.Body, left: maxJWKSBytes}
	return resp, nil
}

type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errJWKSTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
