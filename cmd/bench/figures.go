package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// idleConnections is how many keep-alive connections the memory figure
// holds open.
const idleConnections = 1000

// embeddedDefaultFigures starts linkbff as `go run ./cmd/server` would (no
// configuration: emulator, SQLite, dev sign-in), times start to ready on a
// new database, and measures its memory idle and with idle keep-alive
// connections.
func (r *rig) embeddedDefaultFigures(ctx context.Context, w io.Writer) error {
	starts := 5
	if r.o.smoke {
		starts = 2
	}
	var times []time.Duration
	for i := range starts {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		env := map[string]string{"LISTEN_ADDR": addr, "DATABASE_URL": "sqlite:" + filepath.Join(r.dir, fmt.Sprintf("dev-%d.db", i))}
		began := time.Now()
		p, err := start(r.dir, fmt.Sprintf("dev-%d", i), r.bins.linkbff, nil, env)
		if err != nil {
			return err
		}
		if err := p.awaitHTTP(ctx, "http://"+addr+"/readyz", 30*time.Second); err != nil {
			p.stop()
			return err
		}
		times = append(times, time.Since(began))
		if i < starts-1 {
			p.stop()
			continue
		}
		idle, err := p.rss()
		if err != nil {
			p.stop()
			return err
		}
		conns, err := openIdleConnections(addr, idleConnections)
		if err != nil {
			p.stop()
			return err
		}
		time.Sleep(200 * time.Millisecond)
		held, err := p.rss()
		for _, c := range conns {
			c.Close()
		}
		p.stop()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Embedded default (`go run ./cmd/server`, no configuration):\n")
		fmt.Fprintf(w, "- start to ready (exec to /readyz 200, new database, median of %d): %s (min %s, max %s); goal < 100 ms\n",
			starts, ms(median(times)), ms(slices.Min(times)), ms(slices.Max(times)))
		fmt.Fprintf(w, "- RSS: %s idle, %s with %d idle keep-alive connections; goal < 50 MB\n", mb(idle), mb(held), idleConnections)
	}
	return nil
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

// openIdleConnections opens n connections to addr, each after one request
// (so the server holds it as an idle keep-alive connection).
func openIdleConnections(addr string, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		conns = append(conns, c)
		if _, err := fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr); err != nil {
			closeAll(conns)
			return nil, err
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			closeAll(conns)
			return nil, fmt.Errorf("GET /healthz: %d", res.StatusCode)
		}
	}
	return conns, nil
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// burstUsers is how many distinct users send their first request at once.
const burstUsers = 1000

// firstRequestBurst has burstUsers users send their first POST
// /v1/link/token at the same instant, against the Junction emulator, and
// reports how many Junction users exist afterwards and the latencies.
func (r *rig) firstRequestBurst(ctx context.Context, w io.Writer) error {
	stores := [][2]string{{"SQLite", "sqlite:" + filepath.Join(r.dir, "burst.db")}}
	if r.pgURL != "" {
		stores = append(stores, [2]string{"PostgreSQL", r.pgURL})
	}
	fmt.Fprintf(w, "\n%d concurrent first requests of %d distinct users (POST /v1/link/token, HS256, against the Junction emulator; goal: exactly %d Junction users, none over 1 s):\n",
		burstUsers, burstUsers, burstUsers)
	for _, st := range stores {
		line, err := r.burst(ctx, st[0], st[1])
		if err != nil {
			return fmt.Errorf("first-request burst on %s: %w", st[0], err)
		}
		fmt.Fprintf(w, "- %s: %s\n", st[0], line)
	}
	return nil
}

func (r *rig) burst(ctx context.Context, storeName, databaseURL string) (string, error) {
	emuAddr, err := freeAddr()
	if err != nil {
		return "", err
	}
	emu, err := start(r.dir, "emulator-"+storeName, r.bins.emulator, []string{"-addr", emuAddr}, map[string]string{"EMULATOR_API_KEY": benchAPIKey})
	if err != nil {
		return "", err
	}
	defer emu.stop()
	if err := emu.awaitListening(ctx, emuAddr, 10*time.Second); err != nil {
		return "", err
	}
	emuURL := "http://" + emuAddr
	before, err := junctionUserCount(ctx, emuURL)
	if err != nil {
		return "", err
	}
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	bff, err := r.startLinkbff(ctx, "burst-"+storeName, r.linkbffEnv(addr, "http://"+addr, emuURL, databaseURL, false))
	if err != nil {
		return "", err
	}
	defer bff.stop()

	tokens := make([]string, burstUsers)
	prefix := fmt.Sprintf("burst-%s-%d", storeName, time.Now().UnixNano())
	for i := range tokens {
		if tokens[i], err = r.id.token(algHS256, fmt.Sprintf("%s-%d", prefix, i)); err != nil {
			return "", err
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: burstUsers}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	latencies := make([]time.Duration, burstUsers)
	statuses := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	fire := make(chan struct{})
	for i, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-fire
			began := time.Now()
			err := postLinkToken(ctx, client, bff.url, tok)
			latencies[i] = time.Since(began)
			outcome := "200"
			if err != nil {
				outcome = err.Error()
				if len(outcome) > 80 {
					outcome = outcome[:80]
				}
			}
			mu.Lock()
			statuses[outcome]++
			mu.Unlock()
		}()
	}
	close(fire)
	wg.Wait()
	after, err := junctionUserCount(ctx, emuURL)
	if err != nil {
		return "", err
	}
	var outcomes []string
	for o, n := range statuses {
		outcomes = append(outcomes, fmt.Sprintf("%d × %s", n, o))
	}
	slices.Sort(outcomes)
	return fmt.Sprintf("%s; Junction users created: %d; latency p50 %s, p99 %s, max %s",
		strings.Join(outcomes, ", "), after-before, ms(median(latencies)), ms(percentile(latencies, 99)), ms(slices.Max(latencies))), nil
}

func percentile(v []time.Duration, p int) time.Duration {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// junctionUserCount asks the emulator how many users it holds.
func junctionUserCount(ctx context.Context, emuURL string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, emuURL+"/v2/user?limit=1", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("x-vital-api-key", benchAPIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var page struct {
		Total *int `json:"total"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil || page.Total == nil {
		return 0, fmt.Errorf("the emulator's GET /v2/user gave no total (%d, %v)", res.StatusCode, err)
	}
	return *page.Total, nil
}
