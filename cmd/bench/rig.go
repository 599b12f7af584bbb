package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// benchAPIKey is the Junction key linkbff and nginx inject; the upstream
// ignores it.
const benchAPIKey = "sk_us_benchmarkKeyNotASecret0123456789"

// warmUsers is how many users the warm cases cycle through, each mapped
// before the first round.
const warmUsers = 64

// rig is everything the rounds run against.
type rig struct {
	o        options
	dir      string
	progress func(string, ...any)
	id       *identity
	bins     struct{ linkbff, emulator string }
	upstream *process // fixed-answer Junction (nginx)
	// references are nginx as issue 10 measured it (no upstream
	// keep-alive), nginx with upstream keep-alive, and the Go floor.
	references []*process
	recorder   *recorder
	pgURL      string // scratch database; "" when PostgreSQL is skipped
	dropPG     func()
	procs      []*process // everything to stop, in start order
	cases      []*benchCase
	// warmRate is the best warm-user rate of each linkbff so far, to size
	// what the first-time and callback rounds consume.
	warmRate map[*process]float64
}

// benchCase is one row of the table.
type benchCase struct {
	name   string
	target *process
	// prepare returns the load for a round; it may mint what the round
	// consumes (new users, sessions).
	prepare   func(ctx context.Context, round int) (load, error)
	results   []wrkResult
	reference bool
}

func newRig(ctx context.Context, o options, progress func(string, ...any)) (_ *rig, err error) {
	if err := wrkAvailable(); err != nil {
		return nil, err
	}
	if _, err := nginxBinary(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "linkbff-bench-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil { // nginx's workers may run as another user
		return nil, err
	}
	r := &rig{o: o, dir: dir, progress: progress, warmRate: map[*process]float64{}}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if r.id, err = newIdentity(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "jwks.json"), r.id.jwks(), 0o644); err != nil {
		return nil, err
	}
	if err := r.build(ctx); err != nil {
		return nil, err
	}
	if err := r.startReference(ctx); err != nil {
		return nil, err
	}
	if r.recorder, err = startRecorder(); err != nil {
		return nil, err
	}
	r.pgURL, r.dropPG, err = scratchPostgres(ctx, o.postgresURL)
	if err != nil {
		progress("PostgreSQL cases skipped: %v", err)
	}
	if err := r.addCases(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// build compiles linkbff and the emulator as a user would run them.
func (r *rig) build(ctx context.Context) error {
	r.progress("building linkbff and the Junction emulator")
	r.bins.linkbff = filepath.Join(r.dir, "linkbff")
	r.bins.emulator = filepath.Join(r.dir, "junction-emulator")
	for bin, pkg := range map[string]string{r.bins.linkbff: "./cmd/server", r.bins.emulator: "./cmd/junction-emulator"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s (run the benchmark from the repository root): %w\n%s", pkg, err, out)
		}
	}
	return nil
}

// startReference starts the upstream and the references: nginx as issue
// 10 measured it, nginx with upstream keep-alive, and the Go floor.
func (r *rig) startReference(ctx context.Context) error {
	upAddr, err := freeAddr()
	if err != nil {
		return err
	}
	if r.upstream, err = startNginx(ctx, upstreamConf, nginxConf{Name: "upstream", Dir: r.dir, Addr: upAddr}); err != nil {
		return err
	}
	r.procs = append(r.procs, r.upstream)
	for _, ref := range []struct {
		name      string
		keepAlive bool
	}{{"nginx-proxy", false}, {"nginx-keepalive", true}} {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		p, err := startNginx(ctx, proxyConf, nginxConf{
			Name: ref.name, Dir: r.dir, Addr: addr, Upstream: upAddr, APIKey: benchAPIKey, AccessLog: r.o.nginxLog, KeepAlive: ref.keepAlive,
		})
		if err != nil {
			return err
		}
		r.procs = append(r.procs, p)
		r.references = append(r.references, p)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	floor, err := start(r.dir, "go-floor", self, []string{floorFlag, addr, r.upstream.url}, nil)
	if err != nil {
		return err
	}
	r.procs = append(r.procs, floor)
	floor.url = "http://" + addr
	if err := floor.awaitListening(ctx, addr, 10*time.Second); err != nil {
		return err
	}
	r.references = append(r.references, floor)
	return nil
}

// linkbffEnv is linkbff in production mode: Junction at junctionURL, the
// rig's identity provider (HS256 secret or JWKS), database at databaseURL.
func (r *rig) linkbffEnv(addr, publicURL, junctionURL, databaseURL string, jwks bool) map[string]string {
	env := map[string]string{
		"JUNCTION_API_KEY":    benchAPIKey,
		"JUNCTION_BASE_URL":   junctionURL,
		"LISTEN_ADDR":         addr,
		"PUBLIC_URL":          publicURL,
		"DATABASE_URL":        databaseURL,
		"AUTH_ISSUER":         benchIssuer,
		"AUTH_AUDIENCE":       benchAudience,
		"ALLOWED_RETURN_URLS": "https://app.example.com",
		"RATE_LIMIT_USER":     "off",
		"RATE_LIMIT_IP":       "off",
		"LOG_LEVEL":           "info",
	}
	if jwks {
		env["AUTH_JWKS_URL"] = r.upstream.url + "/jwks.json"
	} else {
		env["AUTH_HS256_SECRET"] = string(r.id.hsSecret)
	}
	return env
}

// startLinkbff starts the built linkbff with env and waits until ready.
// With -pprof, each instance also serves the profiler.
func (r *rig) startLinkbff(ctx context.Context, name string, env map[string]string) (*process, error) {
	if r.o.pprof {
		debugAddr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		env["DEBUG_ADDR"] = debugAddr
		r.progress("%s: profiler at http://%s/debug/pprof/", name, debugAddr)
	}
	p, err := start(r.dir, name, r.bins.linkbff, nil, env)
	if err != nil {
		return nil, err
	}
	r.procs = append(r.procs, p)
	p.url = "http://" + env["LISTEN_ADDR"]
	return p, p.awaitHTTP(ctx, p.url+"/readyz", 30*time.Second)
}

// addCases starts one measured linkbff per store and auth mode, and a
// minting sibling per store that opens the link sessions the callback case
// completes (through the recorder, which learns their callback URLs).
func (r *rig) addCases(ctx context.Context) error {
	for i, name := range []string{"nginx, proxy_pass (issue 10's reference)", "nginx, upstream keep-alive", "Go net/http proxy (floor)"} {
		r.cases = append(r.cases, &benchCase{name: name, target: r.references[i], prepare: r.warmLoad(algHS256), reference: true})
	}

	type store struct{ name, url string }
	stores := []store{{"SQLite", "sqlite:" + filepath.Join(r.dir, "bench.db")}}
	if r.pgURL != "" {
		stores = append(stores, store{"PostgreSQL", r.pgURL})
	}
	for _, st := range stores {
		want := func(c string) bool { return r.o.only.MatchString(st.name + " " + c) }
		if !want("HS256 warm") && !want("first-time") && !want("callback") && !(st.name == "SQLite" && want("JWKS")) {
			continue
		}
		hs, err := r.startInstance(ctx, st.name+"-hs256", st.url, false)
		if err != nil {
			return err
		}
		if want("HS256 warm") {
			r.cases = append(r.cases, &benchCase{name: st.name + ", HS256, warm user", target: hs, prepare: r.warmLoad(algHS256)})
		}
		if st.name == "SQLite" && want("JWKS") {
			// Its own database: the same users, verified through the JWKS.
			jwks, err := r.startInstance(ctx, "SQLite-jwks", "sqlite:"+filepath.Join(r.dir, "bench-jwks.db"), true)
			if err != nil {
				return err
			}
			r.cases = append(r.cases,
				&benchCase{name: "SQLite, RS256 JWKS, warm user", target: jwks, prepare: r.warmLoad(algRS256)},
				&benchCase{name: "SQLite, ES256 JWKS, warm user", target: jwks, prepare: r.warmLoad(algES256)})
		}
		if want("first-time") {
			r.cases = append(r.cases, &benchCase{name: st.name + ", HS256, first-time users", target: hs, prepare: r.firstTimeLoad(st.name, hs)})
		}
		if want("callback") {
			minter, err := r.startMinter(ctx, st.name, st.url, hs.url)
			if err != nil {
				return err
			}
			r.cases = append(r.cases, &benchCase{name: st.name + ", callback (first visit)", target: hs, prepare: r.callbackLoad(minter, hs)})
		}
	}
	return nil
}

// startInstance starts a measured linkbff against the fixed upstream.
func (r *rig) startInstance(ctx context.Context, name, databaseURL string, jwks bool) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return r.startLinkbff(ctx, name, r.linkbffEnv(addr, "http://"+addr, r.upstream.url, databaseURL, jwks))
}

// startMinter starts linkbff on the measured instance's database and
// public URL, but against the recorder, so the rig learns each session's
// callback path.
func (r *rig) startMinter(ctx context.Context, storeName, databaseURL, publicURL string) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return r.startLinkbff(ctx, storeName+"-minter", r.linkbffEnv(addr, publicURL, r.recorder.url, databaseURL, false))
}

// warmLoad cycles through warmUsers users, all mapped already.
func (r *rig) warmLoad(alg string) func(context.Context, int) (load, error) {
	path := filepath.Join(r.dir, "warm-"+alg+".tokens")
	return func(context.Context, int) (load, error) {
		if _, err := os.Stat(path); err != nil {
			if err := r.id.writeTokens(path, alg, userNames("warm", warmUsers)); err != nil {
				return load{}, err
			}
		}
		return load{mode: "token", lines: path}, nil
	}
}

// roundSize is how many users or sessions a round of target consumes: its
// best warm rate so far for the round's duration, with a margin.
func (r *rig) roundSize(target *process) int {
	if r.o.smoke {
		return 3000
	}
	return min(int(r.warmRate[target]*r.o.duration.Seconds()*1.3)+1000, 400000)
}

// firstTimeLoad gives every request a user linkbff has never seen.
func (r *rig) firstTimeLoad(storeName string, target *process) func(context.Context, int) (load, error) {
	return func(_ context.Context, round int) (load, error) {
		path := filepath.Join(r.dir, fmt.Sprintf("first-%s-%d.tokens", storeName, round))
		users := userNames(fmt.Sprintf("first-%d-%d", round, time.Now().UnixNano()), r.roundSize(target))
		return load{mode: "token", lines: path, once: true}, r.id.writeTokens(path, algHS256, users)
	}
}

// callbackLoad opens sessions through the minter, then has wrk visit each
// session's callback once: Junction's redirect arriving, its outcome
// recorded.
func (r *rig) callbackLoad(minter, target *process) func(context.Context, int) (load, error) {
	return func(ctx context.Context, round int) (load, error) {
		n := r.roundSize(target)
		r.progress("opening %d link sessions for the callback round", n)
		paths, err := r.mintSessions(ctx, minter, n)
		if err != nil {
			return load{}, err
		}
		path := filepath.Join(r.dir, fmt.Sprintf("callbacks-%s-%d.paths", minter.name, round))
		err = os.WriteFile(path, []byte(strings.Join(paths, "\n")+"\n"), 0o644)
		return load{mode: "path", lines: path, once: true}, err
	}
}

// mintSessions opens n link sessions through minter, 32 at a time, and
// returns their callback paths with Junction's success redirect.
func (r *rig) mintSessions(ctx context.Context, minter *process, n int) ([]string, error) {
	r.recorder.reset()
	token, err := r.id.token(algHS256, "callback-user")
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				if err := postLinkToken(ctx, client, minter.url, token); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("open link sessions through %s: %w", minter.name, err)
	}
	var paths []string
	for _, redirect := range r.recorder.redirects() {
		u, err := url.Parse(redirect)
		if err != nil {
			return nil, err
		}
		paths = append(paths, u.Path+"?state=success")
	}
	if len(paths) != n {
		return nil, fmt.Errorf("opened %d link sessions, the recorder saw %d", n, len(paths))
	}
	return paths, nil
}

func postLinkToken(ctx context.Context, client *http.Client, base, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/link/token", strings.NewReader(`{"return_to":"https://app.example.com/linked"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var body [512]byte
		n, _ := res.Body.Read(body[:])
		return fmt.Errorf("POST /v1/link/token: %d %s", res.StatusCode, body[:n])
	}
	return nil
}

func (r *rig) close() {
	for i := len(r.procs) - 1; i >= 0; i-- {
		r.procs[i].stop()
	}
	if r.recorder != nil {
		r.recorder.close()
	}
	if r.dropPG != nil {
		r.dropPG()
	}
	if r.o.keep {
		r.progress("scratch directory kept: %s", r.dir)
	} else {
		os.RemoveAll(r.dir)
	}
}

// recorder is a Junction that remembers the redirect_url of every link
// token it mints, so the rig can visit the callbacks Junction would.
type recorder struct {
	srv *http.Server
	url string
	mu  sync.Mutex
	got []string
}

func startRecorder() (*recorder, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rec := &recorder{url: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	var users sync.Mutex
	userSeq := 0
	mux.HandleFunc("POST /v2/user", func(w http.ResponseWriter, _ *http.Request) {
		users.Lock()
		userSeq++
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", userSeq)
		users.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"user_id":%q,"team_id":"8f9d5f5e-6c4e-4a8b-9b1e-3c2d1e0f9a7b","client_user_id":"bench","created_on":"2026-01-01T00:00:00+00:00"}`, id)
	})
	mux.HandleFunc("POST /v2/link/token", func(w http.ResponseWriter, req *http.Request) {
		var body struct {
			RedirectURL string `json:"redirect_url"`
		}
		if err := json.NewDecoder(req.Body).Decode(&body); err != nil || body.RedirectURL == "" {
			http.Error(w, `{"detail":"no redirect_url"}`, http.StatusBadRequest)
			return
		}
		rec.mu.Lock()
		rec.got = append(rec.got, body.RedirectURL)
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"link_token":"bench-link-token","link_web_url":"https://link.tryvital.io/?token=bench-link-token&env=sandbox&region=us"}`))
	})
	rec.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = rec.srv.Serve(ln) }()
	return rec, nil
}

func (rec *recorder) reset() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.got = nil
}

func (rec *recorder) redirects() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.got...)
}

func (rec *recorder) close() { _ = rec.srv.Close() }
