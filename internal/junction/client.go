// Package junction is a typed client for Junction's (formerly Vital's) team
// API: users, Link tokens, connected providers and webhook event parsing.
package junction

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
)

const (
	defaultMaxRetries  = 3
	defaultBaseBackoff = time.Second
	defaultTimeout     = 10 * time.Second

	headerAPIKey    = "x-vital-api-key"
	headerLinkToken = "x-vital-link-token"
	userAgent       = "linkbff-junction-client"
)

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	// BaseURL is Junction's API root, e.g. https://api.sandbox.us.junction.com.
	BaseURL string
	// APIKey is sent as x-vital-api-key; it never appears in logs or errors.
	APIKey string
	// HTTPClient defaults to NewHTTPClient(). Redirects are never followed
	// whatever client is given, so the key cannot travel to another host.
	HTTPClient *http.Client
	// MaxRetries defaults to 3 when zero; a negative value disables retries.
	MaxRetries int
	// BaseBackoff is the first retry delay (doubled per attempt, ±10% jitter,
	// capped at 60s). Defaults to 1s.
	BaseBackoff time.Duration
	// Timeout bounds each attempt. Defaults to 10s.
	Timeout time.Duration
	// Observers hear of every call (metrics, tracing).
	Observers []Observer
}

// Client calls Junction's API. It is safe for concurrent use.
type Client struct {
	baseURL     string
	apiKey      string
	apiKeyValue []string // the x-vital-api-key header's value, shared by every request
	httpClient  *http.Client
	maxRetries  int
	baseBackoff time.Duration
	timeout     time.Duration
	observers   []Observer
	// sleep waits between attempts; tests replace it to observe delays
	// without depending on the clock.
	sleep func(ctx context.Context, d time.Duration) error
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	base, err := validateBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.APIKey == "" {
		return nil, errors.New("junction: APIKey is required")
	}
	if strings.ContainsFunc(cfg.APIKey, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		// Said without echoing the key: it would otherwise fail later, in a
		// header, on every call.
		return nil, errors.New("junction: APIKey contains whitespace or control characters")
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = NewHTTPClient()
	}
	// A shallow copy lets us refuse redirects without mutating the caller's
	// client: Go re-sends custom headers such as x-vital-api-key on redirect.
	noRedirect := *httpClient
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	c := &Client{
		baseURL:     base,
		apiKey:      cfg.APIKey,
		apiKeyValue: []string{cfg.APIKey},
		httpClient:  &noRedirect,
		maxRetries:  cfg.MaxRetries,
		baseBackoff: cfg.BaseBackoff,
		timeout:     cfg.Timeout,
		observers:   cfg.Observers,
		sleep:       sleepUnlessDone,
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = defaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.baseBackoff <= 0 {
		c.baseBackoff = defaultBaseBackoff
	}
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	return c, nil
}

func validateBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("junction: BaseURL %q must be an absolute http(s) URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("junction: BaseURL must not carry credentials, a query or a fragment")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// BaseURLFor returns Junction's API root for an environment (sandbox or
// production) and region (us or eu).
func BaseURLFor(env, region string) (string, error) {
	var envPart string
	switch env {
	case "sandbox":
		envPart = "sandbox."
	case "production":
		envPart = ""
	default:
		return "", fmt.Errorf("junction: unknown environment %q (allowed: sandbox, production)", env)
	}
	switch region {
	case "us", "eu":
	default:
		return "", fmt.Errorf("junction: unknown region %q (allowed: us, eu)", region)
	}
	return "https://api." + envPart + region + ".junction.com", nil
}

// NewHTTPClient returns an http.Client whose transport has explicit dial,
// TLS and response-header timeouts and keeps enough idle connections for a
// busy BFF talking to a single host: a burst of concurrent requests opens
// one connection each, and up to 256 of them stay for the next burst
// instead of being closed and dialled (with TLS) again. The overall
// deadline is set per attempt by Client, so the http.Client itself has
// none.
func NewHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{Transport: transport}
}
