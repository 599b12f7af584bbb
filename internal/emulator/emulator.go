// Package emulator is an in-memory Junction (formerly Vital) for development
// and tests. It speaks the wire format of Junction's OpenAPI document for the
// endpoints linkbff uses, serves look-alike hosted Link pages and delivers
// Svix-signed webhooks.
package emulator

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	svix "github.com/svix/svix-webhooks/go"
)

// Config configures an Emulator. Only APIKey is required.
type Config struct {
	// APIKey is what team calls must send in x-vital-api-key.
	APIKey string
	// PublicURL is the base URL where Handler() is reachable, e.g.
	// "http://127.0.0.1:8080/_junction"; link_web_url, oauth_url and logo
	// URLs are built from it. When empty it is derived from each request's
	// Host, which is only right when the handler is mounted at the root.
	PublicURL string
	// TeamID is a uuid; random when empty.
	TeamID string
	// Env is "sandbox" (default) or "production"; it goes into link_web_url.
	Env string
	// Region is "us" (default) or "eu".
	Region string
	// TokenTTL is the link token lifetime, 60 minutes by default.
	TokenTTL time.Duration
	// WebhookURL receives webhooks; empty means no delivery.
	WebhookURL string
	// WebhookSecret ("whsec_<base64>") signs webhooks; required with WebhookURL.
	WebhookSecret string
	// RetrySchedule holds the delays between delivery attempts. Defaults to
	// a shortened Svix schedule: 1s, 5s, 30s, 2m, 5m.
	RetrySchedule []time.Duration
	// HTTPClient sends webhooks; defaults to a client with a 15s timeout.
	HTTPClient *http.Client
	// Now is the emulator's clock (created_on, token expiry); defaults to
	// time.Now. svix-timestamp always uses the wall clock, because receivers
	// check it against theirs.
	Now func() time.Time
	// Logger defaults to zerolog.Nop().
	Logger zerolog.Logger
	// StatePath, when set, is a JSON file that keeps users and connections
	// across restarts: read by New, rewritten (atomically) after changes
	// and by Close. Its team id is reused when TeamID is empty.
	StatePath string
}

// DefaultRetrySchedule is Svix's schedule, shortened for development.
var DefaultRetrySchedule = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 5 * time.Minute}

const (
	defaultTokenTTL        = 60 * time.Minute
	defaultDeliveryTimeout = 15 * time.Second
)

// Emulator is an in-memory Junction. It is safe for concurrent use.
type Emulator struct {
	cfg       Config
	publicURL string // without trailing slash; empty = derive per request
	webhook   *svix.Webhook
	handler   http.Handler

	// mu guards state (users and connections); tokens and the delivery
	// log have their own locks, so minting a token never waits for them.
	mu       sync.RWMutex
	state    state
	tokens   *tokenStore
	delivery deliveryLog

	// deliveryCtx is canceled by Close; deliveries tracks their goroutines.
	deliveryCtx    context.Context
	cancelDelivery context.CancelFunc
	deliveries     sync.WaitGroup
	closeOnce      sync.Once

	// saveRequests wakes saveLoop, which ends (closing saverDone) with
	// deliveryCtx; both are nil without Config.StatePath.
	saveRequests chan struct{}
	saverDone    chan struct{}
}

// New validates cfg, fills in defaults and returns an Emulator.
func New(cfg Config) (*Emulator, error) {
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, errors.New("emulator: APIKey is required")
	}
	publicURL, err := normalizePublicURL(cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	if cfg.TeamID != "" {
		if _, err := uuid.Parse(cfg.TeamID); err != nil {
			return nil, fmt.Errorf("emulator: TeamID %q is not a uuid", cfg.TeamID)
		}
	}
	switch cfg.Env {
	case "":
		cfg.Env = "sandbox"
	case "sandbox", "production":
	default:
		return nil, fmt.Errorf("emulator: Env %q must be sandbox or production", cfg.Env)
	}
	switch cfg.Region {
	case "":
		cfg.Region = "us"
	case "us", "eu":
	default:
		return nil, fmt.Errorf("emulator: Region %q must be us or eu", cfg.Region)
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = defaultTokenTTL
	}
	if cfg.RetrySchedule == nil {
		cfg.RetrySchedule = DefaultRetrySchedule
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultDeliveryTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := &Emulator{cfg: cfg, publicURL: publicURL, state: newState(), tokens: newTokenStore()}
	if cfg.StatePath != "" {
		if err := e.loadState(); err != nil {
			return nil, err
		}
	}
	if e.cfg.TeamID == "" {
		e.cfg.TeamID = uuid.NewString()
	}
	if cfg.WebhookURL != "" {
		if err := validateWebhookURL(cfg.WebhookURL); err != nil {
			return nil, err
		}
		if e.webhook, err = newSigner(cfg.WebhookSecret); err != nil {
			return nil, err
		}
	}
	e.deliveryCtx, e.cancelDelivery = context.WithCancel(context.Background())
	if cfg.StatePath != "" {
		e.saveRequests = make(chan struct{}, 1)
		e.saverDone = make(chan struct{})
		go e.saveLoop()
		e.saveRequests <- struct{}{} // write the file at once: it names the team id
	}
	e.handler = e.routes()
	return e, nil
}

func normalizePublicURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("emulator: PublicURL %q must be an absolute http(s) URL without query", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func validateWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		// The URL may embed a token, so it is not echoed back.
		return errors.New("emulator: WebhookURL must be an absolute http(s) URL")
	}
	return nil
}

func newSigner(secret string) (*svix.Webhook, error) {
	if !strings.HasPrefix(secret, "whsec_") || len(secret) == len("whsec_") {
		return nil, errors.New(`emulator: WebhookSecret must look like "whsec_<base64>" when WebhookURL is set`)
	}
	signer, err := svix.NewWebhook(secret)
	if err != nil {
		return nil, errors.New("emulator: WebhookSecret is not valid base64 after its whsec_ prefix")
	}
	return signer, nil
}

// Handler serves the team API, the Link-token API, the hosted Link pages,
// logos and the /_emulator control endpoints.
func (e *Emulator) Handler() http.Handler { return e.handler }

// Close cancels pending webhook deliveries and waits for their goroutines,
// and writes the state file a last time. The handler keeps answering, but
// schedules no more deliveries.
func (e *Emulator) Close() {
	e.closeOnce.Do(func() {
		e.delivery.mu.Lock()
		e.delivery.closed = true
		e.delivery.mu.Unlock()
		e.cancelDelivery()
		if e.saverDone != nil {
			<-e.saverDone
			e.saveState()
		}
	})
	e.deliveries.Wait()
}

// NewWebhookSecret returns a random secret in Svix's "whsec_<base64>" form.
func NewWebhookSecret() string {
	return "whsec_" + base64.StdEncoding.EncodeToString(randomBytes(32))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	// crypto/rand.Read never fails on supported platforms (Go 1.24+).
	_, _ = rand.Read(b)
	return b
}

// randomToken is an opaque URL-safe random string.
func randomToken(n int) string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(n))
}

// baseURL is where this emulator is reachable from the outside.
func (e *Emulator) baseURL(r *http.Request) string {
	if e.publicURL != "" {
		return e.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (e *Emulator) now() time.Time { return e.cfg.Now().UTC() }

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
