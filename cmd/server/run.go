package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/config"
)

// run is the whole program; main only adapts it to the process. Tests call
// it with LISTEN_ADDR=127.0.0.1:0 and read the address from the log.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if handled, err := runSubcommand(ctx, args, getenv, stdout, stderr); handled {
		return err
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { config.PrintUsage(stderr); printCommands(stderr) }
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: linkbff is configured through environment variables (see -h)", fs.Args())
	}

	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on LISTEN_ADDR %s: %w", cfg.ListenAddr, err)
	}
	defer ln.Close()
	publicURL := cfg.PublicURLFor(ln.Addr())

	app, err := wire(ctx, cfg, publicURL, log)
	if err != nil {
		return err
	}
	defer app.close()

	if cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(cfg.DebugAddr, log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}

	log.Info().Str("config", cfg.String()).Msg("configuration")
	for _, w := range cfg.Warnings {
		log.Warn().Msg(w)
	}
	mode := "production"
	if cfg.Dev.Enabled {
		mode = "dev"
		printDevBanner(stderr, cfg, publicURL)
	}

	srv := &http.Server{
		Handler:           app.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          newStdLogger(log),
	}
	stopMetrics, err := serveMetrics(cfg.MetricsAddr, app.metrics, log)
	if err != nil {
		return err
	}
	defer stopMetrics()

	// Streams never go idle by themselves: shutting down ends them, each
	// with a hint to reconnect (to another replica).
	srv.RegisterOnShutdown(app.streams.Close)

	// Background work outlives the requests being drained, so an event a
	// last request stores is still published and forwarded.
	background, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var tasks sync.WaitGroup
	defer tasks.Wait() // after they stop, before app.close closes what they use
	defer stopBackground()
	for _, task := range append(app.background, func(ctx context.Context) { pruneLoop(ctx, app.store, cfg.EventRetention, log) }) {
		tasks.Go(func() { task(background) })
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info().Str("addr", ln.Addr().String()).Str("public_url", publicURL).Str("mode", mode).Msg("linkbff listening")

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info().Msg("stopped")
	return nil
}

func newLogger(cfg config.Config, stdout io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		level = zerolog.InfoLevel
	}
	out := stdout
	if cfg.LogFormat == "console" {
		out = zerolog.ConsoleWriter{Out: stdout, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

func printDevBanner(w io.Writer, cfg config.Config, publicURL string) {
	line := strings.Repeat("─", 72)
	fmt.Fprintf(w, `%s
 linkbff is running in DEV MODE (no JUNCTION_API_KEY set)
   • Junction is the built-in emulator at %s/_junction (no network needed)
   • sign in with POST %s/_dev/token {"user":"alice"}
   • data lives in %s
   • browsers may call /v1 from %s (CORS_ALLOWED_ORIGINS)
 Open %s/ to try the demo.
 To use the real Junction, set JUNCTION_API_KEY, PUBLIC_URL and AUTH_* (see -h).
%s
`, line, publicURL, publicURL, config.MaskURL(cfg.DatabaseURL), strings.Join(cfg.CORSOriginsFor(publicURL), ", "), publicURL, line)
}

// newStdLogger sends net/http's internal errors (TLS handshakes, bad
// requests) to zerolog.
func newStdLogger(l zerolog.Logger) *log.Logger {
	return log.New(l.With().Str("component", "http").Logger(), "", 0)
}
