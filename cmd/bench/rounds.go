package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// runRounds warms every case up, then runs the cases in turn, round after
// round, so the reference and linkbff see the same background load.
func (r *rig) runRounds(ctx context.Context) ([]*benchCase, error) {
	warmup := 2 * time.Second
	if r.o.smoke {
		warmup = time.Second
	}
	for _, c := range r.cases {
		if !strings.Contains(c.name, "warm") && !c.reference {
			continue
		}
		l, err := c.prepare(ctx, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		r.progress("warming up: %s", c.name)
		res, err := runWrk(ctx, r.dir, c.target, l, warmup, r.o.connections)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		r.warmRate[c.target] = max(r.warmRate[c.target], res.rate())
	}
	for round := 1; round <= r.o.rounds; round++ {
		for _, c := range r.cases {
			l, err := c.prepare(ctx, round)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			res, err := runWrk(ctx, r.dir, c.target, l, r.o.duration, r.o.connections)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			c.results = append(c.results, res)
			if strings.Contains(c.name, "warm") {
				// The best so far: a round slowed by other load must not
				// leave the next one short of users or sessions.
				r.warmRate[c.target] = max(r.warmRate[c.target], res.rate())
			}
			r.progress("round %d/%d  %-36s %8.0f req/s  p50 %-8s p99 %-8s CPU %5.0f µs/req  errors %d%s",
				round, r.o.rounds, c.name, res.rate(), ms(res.p50), ms(res.p99), us(res.cpuPerRequest()), res.errors, wrappedNote(res.wrapped))
		}
	}
	return r.cases, nil
}

// summary is a case's medians over its rounds.
type summary struct {
	rate     float64
	p50, p99 time.Duration
	cpu      time.Duration
	errors   int64
	wrapped  bool
}

func summarise(results []wrkResult) summary {
	var s summary
	var rates []float64
	var p50s, p99s, cpus []time.Duration
	for _, r := range results {
		rates = append(rates, r.rate())
		p50s, p99s, cpus = append(p50s, r.p50), append(p99s, r.p99), append(cpus, r.cpuPerRequest())
		s.errors += r.errors
		s.wrapped = s.wrapped || r.wrapped
	}
	s.rate, s.p50, s.p99, s.cpu = median(rates), median(p50s), median(p99s), median(cpus)
	return s
}

func median[T int64 | float64 | time.Duration](v []T) T {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// printTable writes the medians as a Markdown table with each case's
// ratios to nginx as issue 10 measured it and to nginx with upstream
// keep-alive.
func printTable(w io.Writer, o options, cases []*benchCase) {
	fmt.Fprintf(w, "POST /v1/link/token unless named; wrk -t1 -c%d, %d round(s) of %s, medians; CPU = the server's processes' user+system time per request\n\n",
		o.connections, o.rounds, o.duration)
	fmt.Fprintln(w, "| case | req/s | p50 | p99 | CPU µs/req | req/s ÷ nginx | CPU ÷ nginx | req/s ÷ nginx keep-alive | CPU ÷ nginx keep-alive | errors |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	nginx, keepAlive := summarise(cases[0].results), summarise(cases[1].results)
	notes := map[string]bool{}
	for _, c := range cases {
		s := summarise(c.results)
		name := c.name
		if s.wrapped {
			name += " ¹"
			notes["¹ ran out of prepared users or sessions and reused some"] = true
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %.0f | %s | %s | %s | %s | %d |\n", name, s.rate, ms(s.p50), ms(s.p99), us(s.cpu),
			ratio(c == cases[0], s.rate, nginx.rate), ratio(c == cases[0], float64(s.cpu), float64(nginx.cpu)),
			ratio(c == cases[1], s.rate, keepAlive.rate), ratio(c == cases[1], float64(s.cpu), float64(keepAlive.cpu)), s.errors)
	}
	for n := range notes {
		fmt.Fprintln(w, "\n"+n)
	}
}

func ratio(self bool, v, ref float64) string {
	if self || ref == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", v/ref)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func wrappedNote(wrapped bool) string {
	if wrapped {
		return "  (reused prepared users/sessions)"
	}
	return ""
}
