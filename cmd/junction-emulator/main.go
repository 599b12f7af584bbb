// Command junction-emulator runs the in-memory Junction emulator on its own:
// team API, hosted Link pages and signed webhooks, for local development.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "junction-emulator:", err)
		os.Exit(1)
	}
}

// options are the command line, with secrets also readable from the
// environment so they need not appear in a process listing.
type options struct {
	addr          string
	apiKey        string
	publicURL     string
	webhookURL    string
	webhookSecret string
	env           string
	region        string
	teamID        string
	tokenTTL      time.Duration
	statePath     string
}

// errHelp means -h was asked for; the usage has been printed.
var errHelp = errors.New("help requested")

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("junction-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9090", "listen address (port 0 picks a free port)")
	// Environment values are applied after parsing, not as flag defaults,
	// so that -h never prints a secret.
	fs.StringVar(&o.apiKey, "api-key", "", "team API key clients must send as x-vital-api-key (env EMULATOR_API_KEY)")
	fs.StringVar(&o.publicURL, "public-url", "", "base URL browsers use to reach the emulator; default http://<listen address> (env EMULATOR_PUBLIC_URL)")
	fs.StringVar(&o.webhookURL, "webhook-url", "", "where to POST Svix-signed webhooks; empty disables them (env EMULATOR_WEBHOOK_URL)")
	fs.StringVar(&o.webhookSecret, "webhook-secret", "", "whsec_<base64> signing secret, required with -webhook-url (env EMULATOR_WEBHOOK_SECRET)")
	fs.StringVar(&o.env, "env", "sandbox", "environment named in link_web_url: sandbox or production")
	fs.StringVar(&o.region, "region", "us", "region named in link_web_url: us or eu")
	fs.StringVar(&o.teamID, "team-id", "", "team uuid; random when empty")
	fs.DurationVar(&o.tokenTTL, "token-ttl", 60*time.Minute, "link token lifetime")
	fs.StringVar(&o.statePath, "state", "", "JSON file that keeps users and connections across restarts; empty keeps them in memory only")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, errHelp
		}
		return o, err
	}
	for target, key := range map[*string]string{
		&o.apiKey: "EMULATOR_API_KEY", &o.publicURL: "EMULATOR_PUBLIC_URL",
		&o.webhookURL: "EMULATOR_WEBHOOK_URL", &o.webhookSecret: "EMULATOR_WEBHOOK_SECRET",
	} {
		if *target == "" {
			*target = getenv(key)
		}
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if o.apiKey == "" {
		return o, errors.New("an API key is required: -api-key or EMULATOR_API_KEY")
	}
	return o, nil
}

// run starts the emulator and serves until ctx is canceled. Logs are JSON
// lines on stdout; the first says where it listens.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	opts, err := parseOptions(args, getenv, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := zerolog.New(stdout).With().Timestamp().Logger()

	listener, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.addr, err)
	}
	addr := listener.Addr().String()
	publicURL := opts.publicURL
	if publicURL == "" {
		publicURL = "http://" + browsableAddr(listener.Addr())
	}
	emu, err := emulator.New(emulator.Config{
		APIKey:        opts.apiKey,
		PublicURL:     publicURL,
		TeamID:        opts.teamID,
		Env:           opts.env,
		Region:        opts.region,
		TokenTTL:      opts.tokenTTL,
		WebhookURL:    opts.webhookURL,
		WebhookSecret: opts.webhookSecret,
		Logger:        logger,
		StatePath:     opts.statePath,
	})
	if err != nil {
		listener.Close()
		return err
	}
	defer emu.Close()

	srv := &http.Server{
		Handler:           logRequests(logger, emu.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(listener) }()
	logger.Info().Str("addr", addr).Str("public_url", publicURL).Bool("webhooks", opts.webhookURL != "").
		Msg("junction emulator listening")

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info().Msg("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// browsableAddr turns a wildcard listen address into one a browser can open.
func browsableAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return addr.String()
	}
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
}

// logRequests writes one line per request. Only the path is logged: query
// strings carry link tokens.
func logRequests(logger zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		logger.Info().Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.status).
			Dur("duration", time.Since(start)).Msg("request")
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}
