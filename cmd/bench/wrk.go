package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// wrkScript sends requests built once from the lines of a file, in turn:
// POST /v1/link/token with each line as the bearer token ("token" mode),
// or GET of each line as a path ("path" mode). done prints the figures as
// one line the rig parses, and how often the lines ran out.
const wrkScript = `
local requests = {}
local n = 0
wrapped = 0 -- global: done reads it through thread:get

function init(args)
	local mode, file = args[1], args[2]
	for line in io.lines(file) do
		if mode == "token" then
			requests[#requests + 1] = wrk.format("POST", "/v1/link/token", {
				["Authorization"] = "Bearer " .. line,
				["Content-Type"] = "application/json",
			}, '{"return_to":"https://app.example.com/linked"}')
		else
			requests[#requests + 1] = wrk.format("GET", line, {}, nil)
		end
	end
end

function request()
	n = n + 1
	if n > #requests then n, wrapped = 1, wrapped + 1 end
	return requests[n]
end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end

function done(summary, latency, _)
	local e = summary.errors
	local wraps = 0
	for _, t in ipairs(threads) do wraps = wraps + (t:get("wrapped") or 0) end
	io.write(string.format("WRK requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d status=%d timeout=%d wrapped=%d\n",
		summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
		e.connect, e.read, e.write, e.status, e.timeout, wraps))
end
`

// load is what one wrk run is fed.
type load struct {
	mode  string // "token" or "path"
	lines string // file of tokens or paths
	once  bool   // each line is meant to be used once (new users, sessions)
}

// wrkResult is one wrk run's figures plus the server's CPU time.
type wrkResult struct {
	requests int64
	elapsed  time.Duration
	p50, p99 time.Duration
	max      time.Duration
	errors   int64 // socket errors and non-2xx/3xx answers
	wrapped  bool  // lines meant to be used once ran out and were reused
	cpu      time.Duration
}

func (r wrkResult) rate() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func (r wrkResult) cpuPerRequest() time.Duration {
	if r.requests == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.requests)
}

// runWrk drives target with l for d over conns connections and measures the
// target's CPU time meanwhile.
func runWrk(ctx context.Context, dir string, target *process, l load, d time.Duration, conns int) (wrkResult, error) {
	script := filepath.Join(dir, "bench.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		return wrkResult{}, err
	}
	seconds := max(1, int(d.Round(time.Second)/time.Second)) // wrk counts in whole seconds
	args := []string{"-t1", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(seconds) + "s",
		"--timeout", "5s", "-s", script, target.url, "--", l.mode, l.lines}
	cpuBefore := target.cpuTime()
	out, err := exec.CommandContext(ctx, "wrk", args...).CombinedOutput()
	cpu := target.cpuTime() - cpuBefore
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return wrkResult{}, fmt.Errorf("%w\n%s", err, out)
	}
	r.cpu = cpu
	r.wrapped = r.wrapped && l.once
	return r, nil
}

// parseWrk reads the WRK line the script's done prints.
func parseWrk(out string) (wrkResult, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "WRK ")
		if !ok {
			continue
		}
		v := map[string]int64{}
		for _, kv := range strings.Fields(rest) {
			k, val, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return wrkResult{}, fmt.Errorf("wrk figure %s: %w", kv, err)
			}
			v[k] = n
		}
		if v["duration_us"] <= 0 {
			return wrkResult{}, fmt.Errorf("wrk ran for no time")
		}
		us := func(k string) time.Duration { return time.Duration(v[k]) * time.Microsecond }
		return wrkResult{
			requests: v["requests"],
			elapsed:  us("duration_us"),
			p50:      us("p50_us"),
			p99:      us("p99_us"),
			max:      us("max_us"),
			errors:   v["connect"] + v["read"] + v["write"] + v["status"] + v["timeout"],
			wrapped:  v["wrapped"] > 0,
		}, nil
	}
	return wrkResult{}, fmt.Errorf("wrk printed no figures")
}

// wrkAvailable says how to get wrk when it is missing.
func wrkAvailable() error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk not found: install it (scripts/bench does: apt-get install nginx wrk)")
	}
	return nil
}
