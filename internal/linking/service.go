// Package linking is linkbff's domain and the root of its design: it maps
// app users to Junction users, opens Link sessions, records what the browser
// reported at the callback, keeps the connection state Junction's webhooks
// report, and names the events the app hears of (Event: stored with the
// change that makes it, for the app's backend and the user's live stream).
// It owns its entities, its ports (Store, Junction, Outbox, Publisher) and
// its error codes, and imports none of the adapters around it: no HTTP, no
// SQL, no Junction wire types.
package linking

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/singleflight"
)

// LinkTokenLifetime is how long a link session accepts its callback. Junction
// documents 10 and 60 minutes in different places; the longer one is used
// so no genuine outcome is refused.
const LinkTokenLifetime = 60 * time.Minute

// Config wires a Service.
type Config struct {
	Junction Junction
	Store    Store
	// PublicURL is linkbff's external base URL: callbacks go to
	// {PublicURL}/link/callback/{session_id}, and its own origin is always an
	// allowed return_to.
	PublicURL string
	// ReturnURLs are the allowed return_to targets (see ParseReturnPolicy).
	ReturnURLs *ReturnPolicy
	// Providers limits the providers offered; empty allows all.
	Providers ProviderAllowlist
	// ClientUserIDs derives the client_user_id of new Junction users.
	ClientUserIDs ClientUserIDs
	// CatalogueTTL is how long the provider catalogue is cached; default 10m.
	CatalogueTTL time.Duration
	// MappingCacheSize is how many app users' Junction user mappings are
	// kept in memory; default DefaultMappingCacheSize, negative disables.
	MappingCacheSize int
	// FreshWebhookWindow is how long a connection known only from a webhook
	// is shown when Junction does not list it yet; default 10m.
	FreshWebhookWindow time.Duration
	// Observer hears how Link flows go (metrics); default NopObserver.
	Observer Observer
	// Forward is the event types forwarded to the app's backend; nil when
	// no backend is configured.
	Forward *EventFilter
	// Outbox is where streams resume from and the admin API reads events;
	// nil leaves both empty.
	Outbox Outbox
	// Publisher tells live streams of new events; nil tells no one.
	Publisher Publisher
	Now       func() time.Time
	Logger    zerolog.Logger
}

// Service is the linking domain.
type Service struct {
	junction   Junction
	store      Store
	publicURL  string
	returnURLs *ReturnPolicy
	allowlist  ProviderAllowlist
	freshness  time.Duration

	clientUserIDs ClientUserIDs
	observer      Observer
	forward       *EventFilter
	outbox        Outbox
	publisher     Publisher
	now           func() time.Time
	log           zerolog.Logger

	userCreates   singleflight.Group
	mappings      *mappingCache
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
	returnURLs := cfg.ReturnURLs.withOrigin(cfg.PublicURL)
	if cfg.CatalogueTTL <= 0 {
		cfg.CatalogueTTL = 10 * time.Minute
	}
	if cfg.FreshWebhookWindow <= 0 {
		cfg.FreshWebhookWindow = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Observer == nil {
		cfg.Observer = NopObserver{}
	}
	if cfg.MappingCacheSize == 0 {
		cfg.MappingCacheSize = DefaultMappingCacheSize
	}
	s := &Service{
		junction:   cfg.Junction,
		store:      cfg.Store,
		publicURL:  strings.TrimRight(cfg.PublicURL, "/"),
		returnURLs: returnURLs,
		allowlist:  cfg.Providers,
		freshness:  cfg.FreshWebhookWindow,

		clientUserIDs: cfg.ClientUserIDs,
		observer:      cfg.Observer,
		forward:       cfg.Forward,
		outbox:        cfg.Outbox,
		publisher:     cfg.Publisher,
		now:           cfg.Now,
		log:           cfg.Logger,
		mappings:      newMappingCache(cfg.MappingCacheSize),
	}
	s.catalogue = newCatalogueCache(cfg.CatalogueTTL, cfg.Now, cfg.Junction.Providers)
	s.userProviders = newUserProvidersCache(cfg.Now, cfg.Junction.Connections)
	return s, nil
}

// ReturnOrigins lists the web origins a Link flow may return to (the
// callback page posts its outcome only to these).
func (s *Service) ReturnOrigins() []string { return s.returnURLs.Origins() }

var providerSlug = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// ProviderAllowlist is the set of provider slugs an app offers; empty
// allows every provider Junction offers.
type ProviderAllowlist map[string]bool

// ParseProviderAllowlist checks each slug's shape.
func ParseProviderAllowlist(slugs []string) (ProviderAllowlist, error) {
	if len(slugs) == 0 {
		return nil, nil
	}
	out := make(ProviderAllowlist, len(slugs))
	for _, p := range slugs {
		if !providerSlug.MatchString(p) {
			return nil, fmt.Errorf("%q is not a provider slug (lowercase letters, digits, _)", p)
		}
		out[p] = true
	}
	return out, nil
}

func (a ProviderAllowlist) allows(slug string) bool { return len(a) == 0 || a[slug] }

// checkProvider validates a provider slug by shape (Junction's list is
// open-ended) and against the allowlist.
func (s *Service) checkProvider(field, slug string) error {
	if !providerSlug.MatchString(slug) {
		return FieldErrorf(field, "%s must be a provider slug: lowercase letters, digits and _, at most 64", field)
	}
	if !s.allowlist.allows(slug) {
		return FieldErrorf(field, "provider %q is not offered by this app", slug)
	}
	return nil
}
