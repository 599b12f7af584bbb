package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/config"
	"github.com/linkbff/linkbff/internal/emulator"
	"github.com/linkbff/linkbff/internal/events"
	"github.com/linkbff/linkbff/internal/forward"
	"github.com/linkbff/linkbff/internal/handlers"
	"github.com/linkbff/linkbff/internal/junction"
	"github.com/linkbff/linkbff/internal/junctionadapter"
	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/metrics"
	"github.com/linkbff/linkbff/internal/ratelimit"
	"github.com/linkbff/linkbff/internal/store"
	"github.com/linkbff/linkbff/internal/store/postgres"
	"github.com/linkbff/linkbff/internal/store/sqlite"
	"github.com/linkbff/linkbff/internal/tracing"
	"github.com/linkbff/linkbff/web"
)

// app is linkbff wired together.
type app struct {
	handler http.Handler
	metrics http.Handler // served on METRICS_ADDR only
	store   *store.Store
	// streams are the live event streams, closed when the server shuts down.
	streams *events.Hub
	// background runs until its context ends: the event bus's listener,
	// the forwarding worker.
	background []func(context.Context)
	close      func()
}

// closers releases what wiring opened, last first.
type closers []func()

func (c closers) close() {
	for i := len(c) - 1; i >= 0; i-- {
		c[i]()
	}
}

// wire connects the parts cfg describes, in dependency order. Each step
// returns its part and what closes it; nothing here decides anything the
// configuration has not decided already.
func wire(ctx context.Context, cfg config.Config, publicURL string, log zerolog.Logger) (_ *app, err error) {
	var opened closers
	defer func() {
		if err != nil {
			opened.close()
		}
	}()

	m := metrics.New()
	tr, stopTracing, err := tracing.Open(ctx, cfg.Tracing)
	if err != nil {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	opened = append(opened, func() { flushTraces(stopTracing, log) })

	st, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	opened = append(opened, func() { _ = st.Close() })

	upstream, err := openJunction(cfg, publicURL, log, tr.ObserveJunction, m.ObserveJunction)
	if err != nil {
		return nil, err
	}
	opened = append(opened, upstream.close)

	verifier, devIssuer, issuer, err := openAuth(ctx, cfg, publicURL)
	if err != nil {
		return nil, err
	}

	webhooks, err := webhookVerifier(upstream.webhookSecret, log)
	if err != nil {
		return nil, err
	}
	webhooks = m.WebhookVerifier(webhooks)

	limits, err := openRateLimits(ctx, cfg, log, m)
	if err != nil {
		return nil, err
	}
	opened = append(opened, limits.close)

	bus, err := openEventBus(ctx, cfg, publicURL, log)
	if err != nil {
		return nil, err
	}
	opened = append(opened, func() { _ = bus.Close() })
	streams := events.NewHub(events.Limits{PerUser: cfg.Streams.PerUser, Total: cfg.Streams.Total}, m)
	background := []func(context.Context){func(ctx context.Context) { bus.Listen(ctx, streams.Deliver, streams.Resync) }}
	publishers := linking.Publishers{events.Publisher{Bus: bus, Log: log}}

	forwarder, err := openForwarder(cfg.Forwarding, st, m, log)
	if err != nil {
		return nil, err
	}
	if forwarder != nil {
		background = append(background, forwarder.Run)
		publishers = append(publishers, forwarder)
	}

	svc, err := linking.New(linking.Config{
		Junction:      junctionadapter.New(upstream.client),
		Store:         tr.Store(st, st.System()),
		PublicURL:     publicURL,
		ReturnURLs:    cfg.ReturnURLs,
		Providers:     cfg.Providers,
		ClientUserIDs: linking.ClientUserIDs{Namespace: cfg.ClientUserNamespace, Issuer: issuer},
		Observer:      m,
		Forward:       cfg.Forwarding.Events,
		Outbox:        st,
		Publisher:     publishers,
		Logger:        log,
	})
	if err != nil {
		return nil, err
	}

	readyChecks := []handlers.ReadyCheck{{Name: "database", Check: st.Ping}, {Name: "auth_keys", Check: verifier.Ready}}
	if limits.ready != nil {
		readyChecks = append(readyChecks, *limits.ready)
	}
	for _, c := range readyChecks {
		m.Health(c.Name, c.Check)
	}
	var demo http.Handler
	if cfg.ServeDemo {
		demo = web.Demo()
	}
	handler := tr.Handler(handlers.New(handlers.Deps{
		Log:                log,
		Linking:            svc,
		Verifier:           verifier,
		Webhooks:           webhooks,
		DevIssuer:          devIssuer,
		Emulator:           upstream.emulator,
		Demo:               demo,
		ReadyChecks:        readyChecks,
		CORSAllowedOrigins: cfg.CORSOriginsFor(publicURL),
		UserLimiter:        limits.user,
		IPLimiter:          limits.ip,
		TrustedProxyHeader: cfg.TrustedProxyHeader,
		Requests:           m,
		Streams:            streams,
		StreamSettings:     handlers.StreamSettings{Heartbeat: cfg.Streams.Heartbeat, IdleTimeout: cfg.Streams.IdleTimeout},
		AdminAPIKey:        cfg.AdminAPIKey,
	}))
	return &app{handler: handler, metrics: m.Handler(), store: st, streams: streams, background: background, close: opened.close}, nil
}

// openEventBus carries events between replicas the way the deployment
// shares state: PostgreSQL's LISTEN/NOTIFY with a PostgreSQL database,
// else Redis pub/sub with REDIS_URL, else nothing beyond this process.
func openEventBus(ctx context.Context, cfg config.Config, publicURL string, log zerolog.Logger) (events.Bus, error) {
	switch {
	case !strings.HasPrefix(cfg.DatabaseURL, "sqlite:"):
		bus, err := events.OpenPostgres(ctx, cfg.DatabaseURL, log)
		if err != nil {
			return nil, fmt.Errorf("event bus on %s: %w", config.MaskURL(cfg.DatabaseURL), err)
		}
		return bus, nil
	case cfg.RedisURL != "":
		bus, err := events.OpenRedis(cfg.RedisURL, events.RedisChannel(publicURL), log)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		return bus, nil
	}
	return events.NewMemoryBus(), nil
}

// openForwarder delivers events to the app's backend; nil without
// APP_WEBHOOK_URL.
func openForwarder(cfg config.Forwarding, outbox linking.Outbox, m *metrics.Metrics, log zerolog.Logger) (*forward.Worker, error) {
	if cfg.URL == "" {
		return nil, nil
	}
	w, err := forward.New(forward.Config{
		Outbox: outbox, URL: cfg.URL, Secret: cfg.Secret, Schedule: cfg.Schedule, Timeout: cfg.Timeout,
		Observer: m, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("APP_WEBHOOK_*: %w", err)
	}
	return w, nil
}

func openStore(ctx context.Context, databaseURL string) (*store.Store, error) {
	if path, ok := strings.CutPrefix(databaseURL, "sqlite:"); ok {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
		}
		return s, nil
	}
	s, err := postgres.Open(ctx, databaseURL)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL database %s: %w", config.MaskURL(databaseURL), err)
	}
	return s, nil
}

// upstream is Junction as linkbff reaches it: the real one, or in dev mode
// the emulator mounted on linkbff's own server (at /_junction) and reached
// over real HTTP like the real one.
type upstream struct {
	client        *junction.Client
	emulator      http.Handler // dev mode only
	webhookSecret string
	close         func()
}

func openJunction(cfg config.Config, publicURL string, log zerolog.Logger, observers ...junction.Observer) (upstream, error) {
	u := upstream{webhookSecret: cfg.Junction.WebhookSecret, close: func() {}}
	apiKey, baseURL := cfg.Junction.APIKey, cfg.Junction.BaseURL
	if cfg.Dev.Enabled {
		apiKey, baseURL, u.webhookSecret = randomHex(24), publicURL+"/_junction", emulator.NewWebhookSecret()
		emu, err := emulator.New(emulator.Config{
			APIKey:        apiKey,
			PublicURL:     baseURL,
			WebhookURL:    publicURL + "/webhooks/junction",
			WebhookSecret: u.webhookSecret,
			Logger:        log.With().Str("component", "emulator").Logger(),
			StatePath:     emulatorStatePath(cfg.DatabaseURL),
		})
		if err != nil {
			return upstream{}, fmt.Errorf("start the Junction emulator: %w", err)
		}
		u.emulator, u.close = withEmulatorKey(emu.Handler(), apiKey), emu.Close
	}
	client, err := junction.New(junction.Config{APIKey: apiKey, BaseURL: baseURL, BaseBackoff: cfg.Junction.RetryBackoff, Observers: observers})
	if err != nil {
		u.close()
		return upstream{}, fmt.Errorf("junction client: %w", err)
	}
	u.client = client
	return u, nil
}

// withEmulatorKey lets dev-mode users drive the emulator's control routes
// (e.g. to trigger a connection error) without knowing its per-process key.
// Junction's own API routes still require the key, as the real one does.
func withEmulatorKey(h http.Handler, key string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_emulator/") {
			r = r.Clone(r.Context())
			r.Header.Set("x-vital-api-key", key)
		}
		h.ServeHTTP(w, r)
	})
}

// openAuth builds the token verifier: the identity provider's, or with the
// dev sign-in the dev issuer's own key. issuer is the iss it accepts.
func openAuth(ctx context.Context, cfg config.Config, publicURL string) (_ *auth.Verifier, _ *auth.DevIssuer, issuer string, err error) {
	authCfg := cfg.Auth
	var devIssuer *auth.DevIssuer
	if cfg.Dev.SignIn {
		if devIssuer, err = auth.NewDevIssuer(publicURL, time.Hour); err != nil {
			return nil, nil, "", err
		}
		authCfg = devIssuer.Config()
	}
	verifier, err := auth.NewVerifier(ctx, authCfg)
	if err != nil {
		return nil, nil, "", fmt.Errorf("auth: %w", err)
	}
	return verifier, devIssuer, authCfg.Issuer, nil
}

// webhookVerifier checks Junction's Svix signatures; nil (the route off)
// without a secret.
func webhookVerifier(secret string, log zerolog.Logger) (handlers.WebhookVerifier, error) {
	if secret == "" {
		log.Warn().Msg("JUNCTION_WEBHOOK_SECRET is not set: POST /webhooks/junction is disabled and connections are known only from Junction's providers endpoint")
		return nil, nil
	}
	wh, err := svix.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("JUNCTION_WEBHOOK_SECRET is not a valid Svix secret")
	}
	log.Info().Str("route", "POST /webhooks/junction").Msg("webhook receiver enabled")
	return wh, nil
}

type rateLimits struct {
	user, ip ratelimit.Limiter
	ready    *handlers.ReadyCheck // Redis, when used
	close    func()
}

// openRateLimits keeps budgets in memory, or in Redis to share them across
// replicas.
func openRateLimits(ctx context.Context, cfg config.Config, log zerolog.Logger, m *metrics.Metrics) (rateLimits, error) {
	if cfg.RedisURL == "" {
		return rateLimits{
			user:  m.Limiter(ratelimit.NewMemory(cfg.RateLimitUser), "memory"),
			ip:    m.Limiter(ratelimit.NewMemory(cfg.RateLimitIP), "memory"),
			close: func() {},
		}, nil
	}
	rdb, err := ratelimit.OpenRedis(ctx, cfg.RedisURL, log)
	if err != nil {
		return rateLimits{}, fmt.Errorf("REDIS_URL: %w", err)
	}
	return rateLimits{
		user:  m.Limiter(rdb.Limiter("linkbff:rl:user:", cfg.RateLimitUser), "redis"),
		ip:    m.Limiter(rdb.Limiter("linkbff:rl:ip:", cfg.RateLimitIP), "redis"),
		ready: &handlers.ReadyCheck{Name: "redis", Check: rdb.Ping, Optional: true},
		close: func() { _ = rdb.Close() },
	}, nil
}

// pruneLoop forgets webhook ids after the 7 days Junction may re-deliver
// within (plus a day), link sessions after a week, and events after
// eventRetention (unless they are still being delivered).
func pruneLoop(ctx context.Context, st *store.Store, eventRetention time.Duration, log zerolog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		now := time.Now()
		if err := st.Prune(ctx, now.Add(-8*24*time.Hour), now.Add(-7*24*time.Hour)); err != nil && ctx.Err() == nil {
			log.Warn().Err(err).Msg("prune failed")
		}
		if err := st.PruneEvents(ctx, now.Add(-eventRetention)); err != nil && ctx.Err() == nil {
			log.Warn().Err(err).Msg("prune of events failed")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
