package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/config"
	"github.com/linkbff/linkbff/internal/handlers"
	"github.com/linkbff/linkbff/internal/junction"
	"github.com/linkbff/linkbff/internal/emulator"
	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/ratelimit"
	"github.com/linkbff/linkbff/internal/store"
	"github.com/linkbff/linkbff/internal/store/postgres"
	"github.com/linkbff/linkbff/internal/store/sqlite"
	"github.com/linkbff/linkbff/web"
)

// app is linkbff wired together; close releases what wire opened.
type app struct {
	deps    handlers.Deps
	store   store.Store
	log     zerolog.Logger
	closers []func()
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// wire builds every dependency explicitly, in dependency order.
func wire(ctx context.Context, cfg config.Config, log zerolog.Logger) (_ *app, err error) {
	a := &app{log: log}
	defer func() {
		if err != nil {
			a.close()
		}
	}()

	a.store, err = openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() { _ = a.store.Close() })

	junctionCfg := junction.Config{APIKey: cfg.JunctionAPIKey, BaseURL: cfg.JunctionBaseURL}
	returnPolicy, err := linking.ParseReturnPolicy(cfg.AllowedReturnURLs)
	if err != nil {
		return nil, err
	}
	deps := handlers.Deps{
		Log:                log,
		CORSAllowedOrigins: cfg.CORSAllowedOrigins,
		TrustedProxyHeader: cfg.TrustedProxyHeader,
		ReadyChecks:        []handlers.ReadyCheck{{Name: "database", Check: a.store.Ping}},
	}

	if cfg.Mode == config.ModeDev {
		// The embedded default: Junction is the emulator, mounted on this
		// server and reached over real HTTP like the real one.
		junctionCfg.APIKey = randomHex(24)
		junctionCfg.BaseURL = cfg.PublicURL + "/_junction"
		cfg.JunctionWebhookSecret = emulator.NewWebhookSecret()
		emu, err := emulator.New(emulator.Config{
			APIKey:        junctionCfg.APIKey,
			PublicURL:     junctionCfg.BaseURL,
			WebhookURL:    cfg.PublicURL + "/webhooks/junction",
			WebhookSecret: cfg.JunctionWebhookSecret,
			Logger:        log.With().Str("component", "emulator").Logger(),
			StatePath:     emulatorStatePath(cfg.DatabaseURL),
		})
		if err != nil {
			return nil, fmt.Errorf("start the Junction emulator: %w", err)
		}
		a.closers = append(a.closers, emu.Close)
		deps.Emulator = withEmulatorKey(emu.Handler(), junctionCfg.APIKey)
		returnPolicy.AddOrigin(originOf(cfg.PublicURL))
	} else if junctionCfg.BaseURL == "" {
		if junctionCfg.BaseURL, err = junction.BaseURLFor(cfg.JunctionEnv, cfg.JunctionRegion); err != nil {
			return nil, err
		}
	}
	client, err := junction.New(junctionCfg)
	if err != nil {
		return nil, fmt.Errorf("junction client: %w", err)
	}

	if err := wireAuth(ctx, cfg, &deps); err != nil {
		return nil, err
	}

	if cfg.JunctionWebhookSecret != "" {
		if deps.Webhooks, err = svix.NewWebhook(cfg.JunctionWebhookSecret); err != nil {
			return nil, fmt.Errorf("JUNCTION_WEBHOOK_SECRET is not a valid Svix secret")
		}
		log.Info().Str("route", "POST /webhooks/junction").Msg("webhook receiver enabled")
	} else {
		log.Warn().Msg("JUNCTION_WEBHOOK_SECRET is not set: POST /webhooks/junction is disabled and connections are known only from Junction's providers endpoint")
	}

	if err := a.wireRateLimits(ctx, cfg, &deps); err != nil {
		return nil, err
	}

	a.deps = deps
	a.deps.Linking, err = linking.New(linking.Config{
		Junction:           client,
		Store:              a.store,
		PublicURL:          cfg.PublicURL,
		ReturnURLs:         returnPolicy,
		ProvidersAllowlist: cfg.ProvidersAllowlist,
		Logger:             log,
	})
	if err != nil {
		return nil, fmt.Errorf("PROVIDERS_ALLOWLIST: %w", err)
	}
	a.deps.CallbackOrigins = callbackOrigins(cfg, returnPolicy)
	if cfg.ServeDemo {
		a.deps.Demo = web.Demo()
	}
	return a, nil
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

func openStore(ctx context.Context, databaseURL string) (store.Store, error) {
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

// wireAuth picks the token verifier: the identity provider when one is
// configured, else (dev mode only) the dev sign-in's own key.
func wireAuth(ctx context.Context, cfg config.Config, deps *handlers.Deps) error {
	authCfg := auth.Config{
		JWKSURL:     cfg.AuthJWKSURL,
		HS256Secret: cfg.AuthHS256Secret,
		Issuer:      cfg.AuthIssuer,
		Audience:    cfg.AuthAudience,
		Algorithms:  cfg.AuthAlgorithms,
		UserClaim:   cfg.AuthUserClaim,
		Leeway:      cfg.AuthLeeway,
	}
	if cfg.AuthJWKSURL == "" && cfg.AuthHS256Secret == "" {
		issuer, err := auth.NewDevIssuer(cfg.PublicURL, time.Hour)
		if err != nil {
			return err
		}
		deps.DevIssuer = issuer
		authCfg = issuer.Config()
	}
	verifier, err := auth.NewVerifier(ctx, authCfg)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	deps.Verifier = verifier
	deps.ReadyChecks = append(deps.ReadyChecks, handlers.ReadyCheck{Name: "auth_keys", Check: verifier.Ready})
	return nil
}

func (a *app) wireRateLimits(ctx context.Context, cfg config.Config, deps *handlers.Deps) error {
	if cfg.RedisURL == "" {
		deps.UserLimiter = ratelimit.NewMemory(cfg.RateLimitUser)
		deps.IPLimiter = ratelimit.NewMemory(cfg.RateLimitIP)
		return nil
	}
	client, err := ratelimit.OpenRedis(ctx, cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	a.closers = append(a.closers, func() { _ = client.Close() })
	deps.UserLimiter = ratelimit.NewRedis(client, "linkbff:rl:user:", cfg.RateLimitUser)
	deps.IPLimiter = ratelimit.NewRedis(client, "linkbff:rl:ip:", cfg.RateLimitIP)
	deps.ReadyChecks = append(deps.ReadyChecks, handlers.ReadyCheck{Name: "redis", Check: func(ctx context.Context) error {
		return client.Ping(ctx).Err()
	}})
	return nil
}

// callbackOrigins are the web origins the callback page may post its
// outcome to: the allowed return origins, the CORS origins and its own.
func callbackOrigins(cfg config.Config, p *linking.ReturnPolicy) []string {
	seen := map[string]bool{}
	var out []string
	for _, o := range append(append(p.Origins(), cfg.CORSAllowedOrigins...), originOf(cfg.PublicURL)) {
		o = strings.TrimRight(strings.ToLower(o), "/")
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out
}

// pruneLoop forgets webhook ids after the 7 days Junction may re-deliver
// within (plus a day) and link sessions after a week.
func (a *app) pruneLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		now := time.Now()
		if err := a.store.Prune(ctx, now.Add(-8*24*time.Hour), now.Add(-7*24*time.Hour)); err != nil && ctx.Err() == nil {
			a.log.Warn().Err(err).Msg("prune failed")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func originOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			return u[:i+3+j]
		}
	}
	return u
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newStdLogger sends net/http's internal errors (TLS handshakes, bad
// requests) to zerolog.
func newStdLogger(l zerolog.Logger) *log.Logger {
	return log.New(l.With().Str("component", "http").Logger(), "", 0)
}
