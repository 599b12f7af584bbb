package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/testkit"
)

const (
	benchAPIKey   = "sk_us_benchSTREAMkey00000000000000000000"
	benchHSSecret = "bench-streams-hs256-secret-of-32-bytes!!"
	benchUsers    = 200
	benchPerUser  = 5 // 1,000 streams
)

// BenchmarkEventStreams prints what 1,000 open event streams cost linkbff
// (the built binary, against the emulator binary): the memory they add, next
// to 1,000 idle keep-alive connections as a reference, and how long an
// event takes from the webhook reaching linkbff to each of its user's
// streams (p50, p99). One op is a round of one webhook per user, each fanned
// out to that user's 5 streams. On SQLite (one replica, in-process bus)
// and, with TEST_DATABASE_URL, on PostgreSQL (LISTEN/NOTIFY).
func BenchmarkEventStreams(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchmarkEventStreams(b, nil) })
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv("TEST_DATABASE_URL") == "" {
			b.Skip("TEST_DATABASE_URL not set")
		}
		benchmarkEventStreams(b, map[string]string{"DATABASE_URL": testkit.PostgresDatabase(b)})
	})
}

func benchmarkEventStreams(b *testing.B, extra map[string]string) {
	emu := testkit.StartEmulatorBinary(b, benchAPIKey)
	start := func(more map[string]string) *testkit.Server {
		addr := testkit.FreeAddr(b)
		env := map[string]string{
			"LISTEN_ADDR": addr, "PUBLIC_URL": "http://" + addr, "JUNCTION_API_KEY": benchAPIKey, "JUNCTION_BASE_URL": emu.URL,
			"JUNCTION_WEBHOOK_SECRET": testkit.WebhookSecret, "AUTH_HS256_SECRET": benchHSSecret, "AUTH_ISSUER": testkit.Issuer,
			"AUTH_AUDIENCE": testkit.Audience, "RATE_LIMIT_USER": "off", "RATE_LIMIT_IP": "off", "LOG_LEVEL": "info",
			"EVENT_STREAMS_PER_USER": fmt.Sprint(benchPerUser),
		}
		maps.Copy(env, extra)
		maps.Copy(env, more)
		return testkit.StartLinkbffBinary(b, env)
	}
	rss := func(s *testkit.Server) int64 {
		n, err := testkit.RSS(s.PID())
		if err != nil {
			b.Skipf("cannot read the process's memory: %v", err)
		}
		return n
	}
	const streams = benchUsers * benchPerUser

	// The reference: as many idle keep-alive connections, each after one
	// request, on a linkbff of its own.
	ref := start(nil)
	refBefore := rss(ref)
	conns := idleConnections(b, ref.URL, streams)
	time.Sleep(time.Second)
	refAdded := rss(ref) - refBefore
	for _, c := range conns {
		c.Close()
	}
	ref.Stop()

	s := start(nil)
	client := testkit.NewClient(b, s.URL) // unchecked by the contract: its cost is not linkbff's
	tokens := make([]string, benchUsers)
	users := make([]string, benchUsers)
	for i := range benchUsers {
		tokens[i] = testkit.SignHS256(b, benchHSSecret, testkit.Claims(fmt.Sprintf("bench-user-%03d", i)))
		users[i] = client.JunctionUserID(tokens[i])
	}
	before := rss(s)

	var mu sync.Mutex
	sent := make([]time.Time, benchUsers)
	var latencies []time.Duration
	arrived := make(chan struct{}, streams)
	var open sync.WaitGroup
	for i := range streams {
		open.Go(func() {
			user := i % benchUsers
			stream, r := client.OpenEventStream(tokens[user], "")
			if stream == nil {
				b.Errorf("stream %d: %d %s", i, r.Status, r.Body)
				return
			}
			stream.Next(10*time.Second, func(e testkit.SSE) bool { return e.ID != "" }) // open
			go func() {
				for {
					if _, ok := stream.NextEvent(time.Hour); !ok {
						return
					}
					mu.Lock()
					latencies = append(latencies, time.Since(sent[user]))
					mu.Unlock()
					arrived <- struct{}{}
				}
			}()
		})
	}
	open.Wait()
	if b.Failed() {
		return
	}
	time.Sleep(time.Second)
	added := rss(s) - before

	round := 0
	for b.Loop() {
		round++
		var wg sync.WaitGroup
		gate := make(chan struct{}, 16) // webhooks in flight, as Junction sends them
		for u := range benchUsers {
			wg.Go(func() {
				gate <- struct{}{}
				defer func() { <-gate }()
				body := testkit.ConnectionCreatedEvent(users[u], "oura")
				headers := testkit.HeaderPairs(testkit.SignWebhook(b, testkit.WebhookSecret, fmt.Sprintf("msg_bench_%d_%d", round, u), time.Now(), body))
				mu.Lock()
				sent[u] = time.Now()
				mu.Unlock()
				if r, err := client.Send(http.MethodPost, testkit.WebhookPath, string(body), headers...); err != nil || r.Status != http.StatusNoContent {
					b.Errorf("webhook: %v %d", err, r.Status)
				}
			})
		}
		wg.Wait()
		for range streams {
			select {
			case <-arrived:
			case <-time.After(30 * time.Second):
				b.Fatalf("round %d: an event never reached its stream", round)
			}
		}
	}
	b.StopTimer()

	mu.Lock()
	defer mu.Unlock()
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(added)/streams/1024, "KiB/stream")
	bus := "in-process bus"
	if extra != nil {
		bus = "PostgreSQL LISTEN/NOTIFY"
	}
	fmt.Printf("event streams (%s): %d open (%d users x %d): RSS +%.1f MiB, %.1f KiB per stream; "+
		"reference, %d idle keep-alive connections: +%.1f MiB, %.1f KiB each (a stream costs %.1fx)\n",
		bus, streams, benchUsers, benchPerUser, mib(added), float64(added)/streams/1024,
		streams, mib(refAdded), float64(refAdded)/streams/1024, float64(added)/float64(max(refAdded, 1)))
	fmt.Printf("event streams (%s): webhook received -> event on the stream, %d deliveries over %d rounds: p50 %s, p99 %s, max %s\n",
		bus, len(latencies), round, pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), latencies[len(latencies)-1].Round(10*time.Microsecond))
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// idleConnections opens n connections to base, makes one request on each
// and leaves them open and idle, as keep-alive clients do.
func idleConnections(b *testing.B, base string, n int) []net.Conn {
	b.Helper()
	host := base[len("http://"):]
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", host)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", host)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			b.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		conns = append(conns, c)
	}
	b.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	return conns
}
