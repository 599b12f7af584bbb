// Package replicas tests linkbff the way a multi-replica deployment runs
// it: several processes of the built binary on one PostgreSQL, one Redis and
// one Junction (the emulator binary), with the guarantees one process gave
// by itself holding across processes.
package replicas

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"
	svix "github.com/svix/svix-webhooks/go"
)

const (
	apiKey        = "sk_us_replicaTESTkey000000000000000000"
	hsSecret      = "replica-test-hs256-secret-of-at-least-32-bytes"
	issuer        = "https://id.replicas.test/"
	webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

// binaries returns linkbff and the emulator, built like the Dockerfile
// builds them unless .ci/run already did (LINKBFF_BIN, EMULATOR_BIN).
func binaries(t *testing.T) (server, emulator string) {
	t.Helper()
	server, emulator = os.Getenv("LINKBFF_BIN"), os.Getenv("EMULATOR_BIN")
	if server != "" && emulator != "" {
		return server, emulator
	}
	out := t.TempDir()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmd := exec.Command("sh", "scripts/build-static.sh", out)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	return filepath.Join(out, "linkbff"), filepath.Join(out, "junction-emulator")
}

// freshDatabase creates a database for this test and drops it afterwards.
func freshDatabase(t *testing.T, adminURL string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "linkbff_replicas_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(t.Context(), adminURL)
	if err != nil {
		t.Fatalf("connect to TEST_DATABASE_URL: %v", err)
	}
	if _, err := admin.Exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	_ = admin.Close(t.Context())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if admin, err := pgx.Connect(ctx, adminURL); err == nil {
			_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = admin.Close(ctx)
		}
	})
	u, _ := url.Parse(adminURL)
	u.Path = "/" + name
	return u.String()
}

// process is one started binary with its output captured.
type process struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs strings.Builder
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// start runs bin with env, waits for a log line containing ready and
// returns the process; it is killed when the test ends.
func start(t *testing.T, bin string, args []string, env []string, ready string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...)}
	p.cmd.Env = append(os.Environ(), env...)
	stdout, _ := p.cmd.StdoutPipe()
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
		}
	})
	seen := make(chan struct{})
	go func() {
		var once sync.Once
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			if strings.Contains(line, ready) {
				once.Do(func() { close(seen) })
			}
		}
	}()
	select {
	case <-seen:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start:\n%s", filepath.Base(bin), p.output())
	}
	return p
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type cluster struct {
	emulatorURL string
	replicas    []string
	procs       []*process
	databaseURL string
}

func startCluster(t *testing.T, n int, extraEnv ...string) *cluster {
	t.Helper()
	dbURL, redisURL := os.Getenv("TEST_DATABASE_URL"), os.Getenv("TEST_REDIS_URL")
	if dbURL == "" || redisURL == "" {
		t.Skip("TEST_DATABASE_URL and TEST_REDIS_URL not both set: multi-replica tests SKIPPED (.ci/run sets them)")
	}
	serverBin, emulatorBin := binaries(t)
	c := &cluster{databaseURL: freshDatabase(t, dbURL)}

	emuAddr := freeAddr(t)
	start(t, emulatorBin, []string{"-addr", emuAddr, "-public-url", "http://" + emuAddr}, []string{"EMULATOR_API_KEY=" + apiKey}, "listening")
	c.emulatorURL = "http://" + emuAddr

	for range n {
		addr := freeAddr(t)
		env := append([]string{
			"LISTEN_ADDR=" + addr, "PUBLIC_URL=http://" + addr, "DATABASE_URL=" + c.databaseURL, "REDIS_URL=" + redisURL,
			"JUNCTION_API_KEY=" + apiKey, "JUNCTION_BASE_URL=" + c.emulatorURL, "JUNCTION_WEBHOOK_SECRET=" + webhookSecret,
			"AUTH_HS256_SECRET=" + hsSecret, "AUTH_ISSUER=" + issuer, "RATE_LIMIT_USER=1000/h", "RATE_LIMIT_IP=off",
		}, extraEnv...)
		c.procs = append(c.procs, start(t, serverBin, nil, env, "linkbff listening"))
		c.replicas = append(c.replicas, "http://"+addr)
	}
	return c
}

func token(t *testing.T, user string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": user, "iss": issuer, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
	}).SignedString([]byte(hsSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 200}}

// linkToken asks replica for a token; status 0 means the connection failed.
func linkToken(replica, tok string) int {
	req, _ := http.NewRequest(http.MethodPost, replica+"/v1/link/token", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func (c *cluster) junctionUsers(t *testing.T) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.emulatorURL+"/v2/user?offset=0&limit=500", nil)
	req.Header.Set("x-vital-api-key", apiKey)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("emulator user list: %d", resp.StatusCode)
	}
	var page struct {
		Users []struct {
			ClientUserID string `json:"client_user_id"`
		} `json:"users"`
		Total int `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, u := range page.Users {
		if seen[u.ClientUserID] {
			t.Fatalf("duplicate Junction user for client_user_id %s", u.ClientUserID)
		}
		seen[u.ClientUserID] = true
	}
	return page.Total
}

func (c *cluster) mappings(t *testing.T) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM user_mappings").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestReplicasShareUsersLimitsAndWebhooks(t *testing.T) {
	c := startCluster(t, 3)

	t.Run("500 first-time requests for 100 users across 3 replicas", func(t *testing.T) {
		var wg sync.WaitGroup
		var ok, limited, failed atomic.Int32
		for i := range 500 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := linkToken(c.replicas[i%3], token(t, fmt.Sprintf("load-user-%03d", i%100)))
				switch {
				case st == http.StatusOK:
					ok.Add(1)
				case st == http.StatusTooManyRequests:
					limited.Add(1)
				default:
					failed.Add(1)
					t.Errorf("request got status %d", st)
				}
			}()
		}
		wg.Wait()
		fmt.Printf("replicas: 500 requests: %d tokens, %d rate limited, %d failed\n", ok.Load(), limited.Load(), failed.Load())
		if users, maps := c.junctionUsers(t), c.mappings(t); users != 100 || maps != 100 {
			t.Fatalf("Junction holds %d users and the database %d mappings; want 100 and 100", users, maps)
		}
	})

	t.Run("a link session opened on one replica completes on another", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, c.replicas[0]+"/v1/link/token", strings.NewReader(`{"provider":"oura"}`))
		req.Header.Set("Authorization", "Bearer "+token(t, "load-user-001"))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var lt struct {
			LinkToken string `json:"link_token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&lt)
		resp.Body.Close()
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err = noFollow.Get(c.emulatorURL + "/link/complete?" + url.Values{"token": {lt.LinkToken}, "provider": {"oura"}, "action": {"approve"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		callback, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(callback.String(), c.replicas[0]+"/link/callback/") {
			t.Fatalf("emulator redirected to %q", resp.Header.Get("Location"))
		}
		// The browser lands on another replica behind the load balancer.
		req, _ = http.NewRequest(http.MethodGet, c.replicas[1]+callback.RequestURI(), nil)
		req.Header.Set("Accept", "application/json")
		resp, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var outcome struct {
			Status string `json:"status"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&outcome)
		if resp.StatusCode != http.StatusOK || outcome.Status != "connected" {
			t.Fatalf("callback on another replica: %d %+v", resp.StatusCode, outcome)
		}
	})

	t.Run("one webhook delivered 10 times across replicas is processed once", func(t *testing.T) {
		// The user exists: load-user-000 was mapped above.
		req, _ := http.NewRequest(http.MethodPost, c.replicas[0]+"/v1/mobile/sign-in-token", nil)
		req.Header.Set("Authorization", "Bearer "+token(t, "load-user-000"))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var signIn struct {
			UserID string `json:"user_id"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&signIn)
		resp.Body.Close()
		body, _ := json.Marshal(map[string]any{
			"event_type": "provider.connection.created", "user_id": signIn.UserID, "client_user_id": "c", "team_id": "t",
			"data": map[string]any{"user_id": signIn.UserID, "provider": map[string]string{"name": "Oura", "slug": "oura", "logo": ""}},
		})
		wh, _ := svix.NewWebhook(webhookSecret)
		sig, _ := wh.Sign("msg_replicated", time.Now(), body)
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, c.replicas[i%3]+"/webhooks/junction", strings.NewReader(string(body)))
				req.Header.Set("svix-id", "msg_replicated")
				req.Header.Set("svix-timestamp", fmt.Sprint(time.Now().Unix()))
				req.Header.Set("svix-signature", sig)
				resp, err := client.Do(req)
				if err != nil || resp.StatusCode != http.StatusNoContent {
					t.Errorf("delivery: %v %v", err, resp)
				}
				if resp != nil {
					resp.Body.Close()
				}
			}()
		}
		wg.Wait()
		applied := 0
		for _, p := range c.procs {
			applied += strings.Count(p.output(), `"svix_id":"msg_replicated","result":"applied"`)
		}
		if applied != 1 {
			t.Fatalf("the webhook was applied %d times across replicas, want 1", applied)
		}
	})

	t.Run("a replica killed mid-load loses no mapping and duplicates no user", func(t *testing.T) {
		before := c.junctionUsers(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		failedUsers := map[string]bool{}
		for i := range 300 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				user := fmt.Sprintf("kill-user-%03d", i%60)
				if st := linkToken(c.replicas[i%3], token(t, user)); st != http.StatusOK {
					mu.Lock()
					failedUsers[user] = true
					mu.Unlock()
				}
			}()
			if i == 100 {
				_ = c.procs[2].cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		wg.Wait()
		// Users whose requests died with the replica retry on a survivor.
		k := 0
		for user := range failedUsers {
			k++
			if st := linkToken(c.replicas[k%2], token(t, user)); st != http.StatusOK {
				t.Errorf("retry for %s on a surviving replica: %d", user, st)
			}
		}
		users, maps := c.junctionUsers(t), c.mappings(t)
		fmt.Printf("replicas: after SIGKILL: %d users retried, Junction users %d, mappings %d\n", len(failedUsers), users, maps)
		if users != before+60 || maps != before+60 {
			t.Fatalf("after the kill: Junction %d users, database %d mappings; want %d each", users, maps, before+60)
		}
	})
}

func TestPerUserLimitHoldsAcrossReplicas(t *testing.T) {
	const limit = 5
	c := startCluster(t, 3, fmt.Sprintf("RATE_LIMIT_USER=%d/h", limit))
	// Redis outlives the test: a fresh user starts with a full budget.
	var b [6]byte
	_, _ = rand.Read(b[:])
	tok := token(t, "limited-user-"+hex.EncodeToString(b[:]))
	var wg sync.WaitGroup
	var ok, limited atomic.Int32
	for n := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch st := linkToken(c.replicas[n%3], tok); st {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusTooManyRequests:
				limited.Add(1)
			default:
				t.Errorf("status %d", st)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("replicas: per-user limit %d/h: %d admitted, %d limited of 60\n", limit, ok.Load(), limited.Load())
	if ok.Load() != limit {
		t.Fatalf("a limit of %d admitted %d across 3 replicas", limit, ok.Load())
	}
}
