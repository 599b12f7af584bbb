// Package replicas tests linkbff the way a multi-replica deployment runs
// it: several processes of the built binary on one PostgreSQL, one Redis and
// one Junction (the emulator binary), with the guarantees one process gave
// by itself holding across processes.
package replicas

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/testkit"
)

const (
	apiKey   = "sk_us_replicaTESTkey000000000000000000"
	hsSecret = "replica-test-hs256-secret-of-at-least-32-bytes"
)

// TestMain checks every exchange against the OpenAPI document and removes
// the binaries testkit built for this package's tests.
func TestMain(m *testing.M) {
	testkit.UseContract(api.OpenAPI)
	testkit.Main(m)
}

type cluster struct {
	emulator    *testkit.Server
	replicas    []*testkit.Server
	databaseURL string
}

// startCluster runs the emulator binary and n linkbff binaries (built like
// the Dockerfile builds them when .ci/run sets LINKBFF_BIN and EMULATOR_BIN)
// on one fresh database and one Redis.
func startCluster(t *testing.T, n int, extraEnv map[string]string) *cluster {
	t.Helper()
	dbURL, redisURL := os.Getenv("TEST_DATABASE_URL"), os.Getenv("TEST_REDIS_URL")
	if dbURL == "" || redisURL == "" {
		t.Skip("TEST_DATABASE_URL and TEST_REDIS_URL not both set: multi-replica tests SKIPPED (.ci/run sets them)")
	}
	c := &cluster{databaseURL: testkit.PostgresDatabase(t), emulator: testkit.StartEmulatorBinary(t, apiKey)}
	for range n {
		addr := testkit.FreeAddr(t)
		env := map[string]string{
			"LISTEN_ADDR": addr, "PUBLIC_URL": "http://" + addr, "DATABASE_URL": c.databaseURL, "REDIS_URL": redisURL,
			"JUNCTION_API_KEY": apiKey, "JUNCTION_BASE_URL": c.emulator.URL, "JUNCTION_WEBHOOK_SECRET": testkit.WebhookSecret,
			"AUTH_HS256_SECRET": hsSecret, "AUTH_ISSUER": testkit.Issuer, "AUTH_AUDIENCE": testkit.Audience,
			"RATE_LIMIT_USER": "1000/h", "RATE_LIMIT_IP": "off", "LOG_LEVEL": "info",
		}
		maps.Copy(env, extraEnv)
		c.replicas = append(c.replicas, testkit.StartLinkbffBinary(t, env))
	}
	return c
}

func token(t *testing.T, user string) string {
	return testkit.SignHS256(t, hsSecret, testkit.Claims(user))
}

// linkToken asks replica for a token; status 0 means the connection failed.
func linkToken(replica *testkit.Server, tok string) int {
	r, err := replica.Send(http.MethodPost, "/v1/link/token", nil, testkit.Bearer(tok)...)
	if err != nil {
		return 0
	}
	return r.Status
}

func (c *cluster) junctionUsers(t *testing.T) int {
	t.Helper()
	r := c.emulator.Do(http.MethodGet, "/v2/user?offset=0&limit=500", nil, "x-vital-api-key", apiKey)
	if r.Status != http.StatusOK {
		t.Fatalf("emulator user list: %d", r.Status)
	}
	var page struct {
		Users []struct {
			ClientUserID string `json:"client_user_id"`
		} `json:"users"`
		Total int `json:"total"`
	}
	r.JSON(t, &page)
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
	return c.count(t, "SELECT count(*) FROM user_mappings")
}

func TestReplicasShareUsersLimitsAndWebhooks(t *testing.T) {
	c := startCluster(t, 3, nil)

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
		lt := c.replicas[0].NewLinkToken(token(t, "load-user-001"), map[string]any{"provider": "oura"})
		location := c.replicas[0].FinishLink(lt, "oura", testkit.Act("approve"))
		callback, err := url.Parse(location)
		if err != nil || !strings.HasPrefix(callback.String(), c.replicas[0].URL+"/link/callback/") {
			t.Fatalf("emulator redirected to %q", location)
		}
		// The browser lands on another replica behind the load balancer.
		r := c.replicas[1].Do(http.MethodGet, callback.RequestURI(), nil, "Accept", "application/json")
		var outcome struct {
			Status string `json:"status"`
		}
		r.JSON(t, &outcome)
		if r.Status != http.StatusOK || outcome.Status != "connected" {
			t.Fatalf("callback on another replica: %d %+v", r.Status, outcome)
		}
	})

	t.Run("one webhook delivered 10 times across replicas is processed once", func(t *testing.T) {
		// The user exists: load-user-000 was mapped above.
		body := testkit.ConnectionCreatedEvent(c.replicas[0].JunctionUserID(token(t, "load-user-000")), "oura")
		headers := testkit.HeaderPairs(testkit.SignWebhook(t, testkit.WebhookSecret, "msg_replicated", time.Now(), body))
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				r, err := c.replicas[i%3].Send(http.MethodPost, testkit.WebhookPath, string(body), headers...)
				if err != nil || r.Status != http.StatusNoContent {
					t.Errorf("delivery: %v %d %s", err, r.Status, r.Body)
				}
			})
		}
		wg.Wait()
		applied := 0
		// A binary's log reaches the test through a pipe, maybe after its
		// answer did: wait for every delivery's line.
		testkit.Eventually(t, "every delivery's log line", func() bool {
			lines := 0
			for _, replica := range c.replicas {
				lines += replica.Logs.Count(`"svix_id":"msg_replicated","result":`)
			}
			return lines == 10
		})
		for _, replica := range c.replicas {
			applied += replica.Logs.Count(`"svix_id":"msg_replicated","result":"applied"`)
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
				c.replicas[2].Kill()
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
	c := startCluster(t, 3, map[string]string{"RATE_LIMIT_USER": fmt.Sprintf("%d/h", limit)})
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

// forwarderOwner is the name a replica's forwarding worker leases events
// under, from its log.
func forwarderOwner(t *testing.T, replica *testkit.Server) string {
	t.Helper()
	var owner string
	testkit.Eventually(t, "the forwarding worker's start", func() bool {
		for _, line := range replica.Logs.Lines() {
			var entry struct{ Message, Owner string }
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Message == "forwarding events to the app's backend" {
				owner = entry.Owner
				return owner != ""
			}
		}
		return false
	})
	return owner
}

// count runs a count(*) query on the cluster's database.
func (c *cluster) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var n int
	if err := conn.QueryRow(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The replica guarantee: two replicas forward one outbox; one is
// killed with SIGKILL while it holds events it is delivering; the other
// takes them once their leases end, and every event reaches the app's
// backend at least once: none is lost.
func TestForwardingSurvivesAKilledReplica(t *testing.T) {
	rcv := testkit.NewWebhookReceiver(t, nil)
	rcv.SetDelay(300 * time.Millisecond) // a slow backend: deliveries are in flight when the replica dies
	c := startCluster(t, 2, map[string]string{
		"APP_WEBHOOK_URL": rcv.URL, "APP_WEBHOOK_SECRET": testkit.AppWebhookSecret, "APP_WEBHOOK_EVENTS": "*",
		"APP_WEBHOOK_RETRY_SCHEDULE": "200ms,200ms,200ms,200ms,200ms", "APP_WEBHOOK_TIMEOUT": "1s", // leases last 2 s
	})
	victim := forwarderOwner(t, c.replicas[1])
	junctionUser := c.replicas[0].JunctionUserID(token(t, "forwarded-user"))

	const n = 60
	for i := range n {
		body := testkit.ConnectionCreatedEvent(junctionUser, fmt.Sprintf("provider_%02d", i))
		if i%2 == 1 { // Junction's data events go along
			body, _ = json.Marshal(map[string]any{"event_type": "daily.data.sleep.created", "user_id": junctionUser, "data": map[string]any{"n": i}})
		}
		headers := testkit.HeaderPairs(testkit.SignWebhook(t, testkit.WebhookSecret, fmt.Sprintf("msg_fwd_%02d", i), time.Now(), body))
		if r := c.replicas[i%2].Do(http.MethodPost, testkit.WebhookPath, string(body), headers...); r.Status != http.StatusNoContent {
			t.Fatalf("webhook %d: %d %s", i, r.Status, r.Body)
		}
	}
	testkit.Eventually(t, "the victim holding events it is delivering", func() bool {
		return c.count(t, `SELECT count(*) FROM events WHERE lease_owner = $1`, victim) > 0
	})
	held := c.count(t, `SELECT count(*) FROM events WHERE lease_owner = $1`, victim)
	c.replicas[1].Kill()

	rcv.Await(t, "every event at the backend", func(ds []testkit.ReceivedWebhook) bool {
		ids := map[string]bool{}
		for _, d := range ds {
			ids[d.ID] = true
		}
		return len(ids) == n
	})
	testkit.Eventually(t, "every event recorded as delivered", func() bool {
		return c.count(t, `SELECT count(*) FROM events WHERE delivery = 'delivered'`) == n
	})
	got := rcv.Received()
	ids := map[string]int{}
	for _, d := range got {
		if err := testkit.VerifyStandardWebhook(testkit.AppWebhookSecret, d.Header, d.Body); err != nil {
			t.Errorf("delivery %s: %v", d.ID, err)
		}
		ids[d.ID]++
	}
	if stored := c.count(t, `SELECT count(*) FROM events WHERE delivery <> 'none'`); stored != n || len(ids) != n {
		t.Fatalf("%d events forwarded, %d distinct received; want %d and %d", stored, len(ids), n, n)
	}
	fmt.Printf("replicas: forwarding with a replica SIGKILLed holding %d events: %d events, %d deliveries, %d repeated, 0 lost\n",
		held, n, len(got), len(got)-len(ids))
}

// A stream held by one replica shows what a webhook delivered to another
// stored (PostgreSQL LISTEN/NOTIFY carries it).
func TestStreamAcrossReplicas(t *testing.T) {
	c := startCluster(t, 2, nil)
	tok := token(t, "streaming-user")
	junctionUser := c.replicas[0].JunctionUserID(tok)
	stream, r := c.replicas[0].OpenEventStream(tok, "")
	if stream == nil {
		t.Fatalf("stream: %d %s", r.Status, r.Body)
	}
	stream.Next(10*time.Second, func(b testkit.SSE) bool { return b.ID != "" }) // open and listening
	body := testkit.ConnectionCreatedEvent(junctionUser, "oura")
	sent := time.Now()
	headers := testkit.HeaderPairs(testkit.SignWebhook(t, testkit.WebhookSecret, "msg_across", sent, body))
	if r := c.replicas[1].Do(http.MethodPost, testkit.WebhookPath, string(body), headers...); r.Status != http.StatusNoContent {
		t.Fatalf("webhook: %d %s", r.Status, r.Body)
	}
	e, ok := stream.NextEvent(15 * time.Second)
	if !ok || e.Event != "connection.created" || !strings.Contains(e.Data, `"provider":"oura"`) {
		t.Fatalf("replica 0's stream after a webhook on replica 1: %+v %v", e, ok)
	}
	fmt.Printf("replicas: webhook on replica 1 to a stream on replica 0: %s\n", time.Since(sent).Round(time.Millisecond))
}
