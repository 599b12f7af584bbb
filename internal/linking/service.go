// Package linking is linkbff's domain: it maps app users to Junction users,
// opens Link sessions, records what the browser reported at the callback,
// and keeps the connection state Junction's webhooks report. It knows
// nothing of HTTP; errors are *apperr.Error.
package linking

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/singleflight"

	"github.com/linkbff/linkbff/internal/apperr"
	"github.com/linkbff/linkbff/internal/junction"
	"github.com/linkbff/linkbff/internal/store"
)

// Junction is the part of Junction's API the domain uses;
// *junction.Client implements it and tests may pass a fake.
type Junction interface {
	CreateUser(ctx context.Context, clientUserID string) (junction.User, error)
	DeleteUser(ctx context.Context, userID string) error
	LinkToken(ctx context.Context, req junction.LinkTokenRequest) (junction.LinkToken, error)
	OAuthProvider(ctx context.Context, linkToken, provider string) (junction.OAuthProvider, error)
	UserProviders(ctx context.Context, userID string) ([]junction.ConnectedProvider, error)
	DeregisterProvider(ctx context.Context, userID, provider string) error
	Providers(ctx context.Context) ([]junction.Provider, error)
	SignInToken(ctx context.Context, userID string) (junction.SignInToken, error)
}

// LinkTokenLifetime is how long a link session accepts its callback. Junction
// documents 10 and 60 minutes in different places; the longer one is used
// so no genuine outcome is refused.
const LinkTokenLifetime = 60 * time.Minute

// Config wires a Service.
type Config struct {
	Junction  Junction
	Store     store.Store
	PublicURL string // callbacks go to {PublicURL}/link/callback/{session_id}
	// ReturnURLs are the allowed return_to targets (see ParseReturnPolicy).
	ReturnURLs *ReturnPolicy
	// ProvidersAllowlist limits the providers offered; empty allows all.
	ProvidersAllowlist []string
	// CatalogueTTL is how long the provider catalogue is cached; default 10m.
	CatalogueTTL time.Duration
	// FreshWebhookWindow is how long a connection known only from a webhook
	// is shown when Junction does not list it yet; default 10m.
	FreshWebhookWindow time.Duration
	Now                func() time.Time
	Logger             zerolog.Logger
}

// Service is the linking domain.
type Service struct {
	junction   Junction
	store      store.Store
	publicURL  string
	returnURLs *ReturnPolicy
	allowlist  map[string]bool
	freshness  time.Duration
	now        func() time.Time
	log        zerolog.Logger

	userCreates   singleflight.Group
	catalogue     *catalogueCache
	userProviders *userProvidersCache
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Junction == nil || cfg.Store == nil {
		return nil, errors.New("linking: Junction and Store are required")
	}
	if cfg.PublicURL == "" {
		return nil, errors.New("linking: PublicURL is required")
	}
	if cfg.ReturnURLs == nil {
		cfg.ReturnURLs = &ReturnPolicy{}
	}
	if cfg.CatalogueTTL <= 0 {
		cfg.CatalogueTTL = 10 * time.Minute
	}
	if cfg.FreshWebhookWindow <= 0 {
		cfg.FreshWebhookWindow = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{
		junction:   cfg.Junction,
		store:      cfg.Store,
		publicURL:  cfg.PublicURL,
		returnURLs: cfg.ReturnURLs,
		freshness:  cfg.FreshWebhookWindow,
		now:        cfg.Now,
		log:        cfg.Logger,
	}
	if len(cfg.ProvidersAllowlist) > 0 {
		s.allowlist = make(map[string]bool, len(cfg.ProvidersAllowlist))
		for _, p := range cfg.ProvidersAllowlist {
			if !providerSlug.MatchString(p) {
				return nil, fmt.Errorf("provider allowlist entry %q is not a provider slug (lowercase letters, digits, _)", p)
			}
			s.allowlist[p] = true
		}
	}
	s.catalogue = newCatalogueCache(cfg.CatalogueTTL, cfg.Now, cfg.Junction.Providers)
	s.userProviders = newUserProvidersCache(cfg.Now, cfg.Junction.UserProviders)
	return s, nil
}

// ReturnPolicy exposes the return_to allowlist (the callback page needs its
// origins for postMessage).
func (s *Service) ReturnPolicy() *ReturnPolicy { return s.returnURLs }

var providerSlug = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// checkProvider validates a provider slug by shape (Junction's list is
// open-ended) and against the allowlist.
func (s *Service) checkProvider(field, slug string) error {
	if !providerSlug.MatchString(slug) {
		return apperr.InvalidField(field, "%s must be a provider slug: lowercase letters, digits and _, at most 64", field)
	}
	if s.allowlist != nil && !s.allowlist[slug] {
		return apperr.InvalidField(field, "provider %q is not offered by this app", slug)
	}
	return nil
}

func (s *Service) allowed(slug string) bool { return s.allowlist == nil || s.allowlist[slug] }

// upstream logs nothing itself; it only labels Junction failures so the
// handler's single error log says which call failed.
func upstream(call string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	if _, ok := apperr.As(err); ok {
		return fmt.Errorf("junction %s: %w", call, err)
	}
	return apperr.Wrap(apperr.Unavailable, err, "Junction is unavailable, try again shortly")
}
