package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/config"
	"github.com/linkbff/linkbff/internal/handlers"
)

// run is the whole program; main only adapts it to the process. Tests call
// it with LISTEN_ADDR=127.0.0.1:0 and read the address from the log.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { config.PrintUsage(stderr) }
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
	if cfg.PublicURL == "" {
		cfg.PublicURL = publicURLFor(ln.Addr())
	}

	app, err := wire(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.close()

	log.Info().Str("config", cfg.String()).Msg("configuration")
	if cfg.Mode == config.ModeDev {
		printDevBanner(stderr, cfg)
	}

	srv := &http.Server{
		Handler:           handlers.New(app.deps),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          newStdLogger(log),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info().Str("addr", ln.Addr().String()).Str("public_url", cfg.PublicURL).Str("mode", string(cfg.Mode)).Msg("linkbff listening")

	go app.pruneLoop(ctx)

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

// publicURLFor is the dev-mode default for PUBLIC_URL: the address the
// server listens on, reachable from this machine.
func publicURLFor(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func printDevBanner(w io.Writer, cfg config.Config) {
	line := strings.Repeat("─", 72)
	fmt.Fprintf(w, `%s
 linkbff is running in DEV MODE (no JUNCTION_API_KEY set)
   • Junction is the built-in emulator at %s/_junction (no network needed)
   • sign in with POST %s/_dev/token {"user":"alice"}
   • data lives in %s
 Open %s/ to try the demo.
 To use the real Junction, set JUNCTION_API_KEY, PUBLIC_URL and AUTH_* (see -h).
%s
`, line, cfg.PublicURL, cfg.PublicURL, config.MaskURL(cfg.DatabaseURL), cfg.PublicURL, line)
}
