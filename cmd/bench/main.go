// Command bench measures linkbff against the floor of any backend-for-
// frontend: nginx as a reverse proxy that only injects Junction's API key.
// Both stand in front of the same zero-cost upstream (nginx answering
// Junction's POST /v2/user and POST /v2/link/token with fixed JSON), wrk
// drives them in alternated rounds, and the table shows, for each case,
// requests per second, latency percentiles, CPU time per request of the
// server's own processes, and linkbff's ratios to nginx. It also prints
// linkbff's start-to-ready time and memory with 1,000 idle keep-alive
// connections on the embedded default, and how 1,000 concurrent first
// requests of distinct users fare against the Junction emulator.
//
// Run it from the repository root (scripts/bench installs nginx and wrk
// first). It is a benchmark, not a test: it prints figures and checks no
// threshold. -smoke runs every case briefly, as CI does.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) == 4 && os.Args[1] == floorFlag {
		if err := serveGoFloor(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "bench: go floor:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	duration    time.Duration
	rounds      int
	connections int
	smoke       bool
	only        *regexp.Regexp
	postgresURL string
	keep        bool
	nginxLog    bool
	pprof       bool
}

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	o := options{}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of one measured wrk run")
	fs.IntVar(&o.rounds, "rounds", 3, "alternated rounds; each case reports its median")
	fs.IntVar(&o.connections, "connections", 32, "wrk connections (one wrk thread)")
	fs.BoolVar(&o.smoke, "smoke", false, "run every case once for a second, as CI does (figures are not meaningful)")
	only := fs.String("only", "", "run only the cases whose name matches this regular expression (nginx always runs)")
	defaultPG := getenv("TEST_DATABASE_URL")
	if defaultPG == "" {
		defaultPG = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	fs.StringVar(&o.postgresURL, "postgres", defaultPG, "PostgreSQL server to create a scratch database on (default TEST_DATABASE_URL, else the local server); \"off\" skips the PostgreSQL cases")
	fs.BoolVar(&o.keep, "keep", false, "keep the scratch directory (configs, logs)")
	fs.BoolVar(&o.pprof, "pprof", false, "start each linkbff with DEBUG_ADDR on a free loopback port (printed), to profile it under load")
	fs.BoolVar(&o.nginxLog, "nginx-access-log", true, "nginx writes an access line per request, as linkbff does")
	if err := fs.Parse(args[1:]); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.smoke {
		o.duration, o.rounds = time.Second, 1
	}
	if o.rounds < 1 || o.duration < time.Second || o.connections < 1 {
		return o, fmt.Errorf("-rounds must be ≥ 1, -duration ≥ 1s, -connections ≥ 1")
	}
	var err error
	if o.only, err = regexp.Compile(*only); err != nil {
		return o, fmt.Errorf("-only: %w", err)
	}
	return o, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "· "+format+"\n", a...) }

	rig, err := newRig(ctx, o, progress)
	if err != nil {
		return err
	}
	defer rig.close()

	fmt.Fprintf(stdout, "linkbff benchmark — %s\n", machineSummary())
	fmt.Fprintf(stdout, "load average before: %s\n\n", loadAverage())

	results, err := rig.runRounds(ctx)
	if err != nil {
		return err
	}
	printTable(stdout, o, results)

	fmt.Fprintln(stdout)
	if err := rig.embeddedDefaultFigures(ctx, stdout); err != nil {
		return err
	}
	if err := rig.firstRequestBurst(ctx, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nload average after: %s\n", loadAverage())
	return nil
}

// machineSummary names what the figures were taken on.
func machineSummary() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%d cores (%s), %s", numCPU(), model, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ") + " (1, 5, 15 min)"
}
