package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/testkit"
)

// replica is one process's listener on a bus.
type replica struct {
	mu       sync.Mutex
	got      []linking.Event
	resyncs  int
	arrivals chan struct{}
}

func listen(t *testing.T, b Bus) *replica {
	t.Helper()
	r := &replica{arrivals: make(chan struct{}, 100)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		b.Listen(ctx, func(e linking.Event) {
			r.mu.Lock()
			r.got = append(r.got, e)
			r.mu.Unlock()
			r.arrivals <- struct{}{}
		}, func() {
			r.mu.Lock()
			r.resyncs++
			r.mu.Unlock()
			r.arrivals <- struct{}{}
		})
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func (r *replica) await(t *testing.T, what string, cond func(got []linking.Event, resyncs int) bool) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		r.mu.Lock()
		ok := cond(append([]linking.Event(nil), r.got...), r.resyncs)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.arrivals:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// testBus runs the contract every bus keeps: what one replica publishes
// reaches every replica's listener, itself included, with what a stream
// shows; listeners start with a resync (they cannot know what they missed
// before), and kill makes them lose their connection, after which they
// resync again and keep receiving.
func testBus(t *testing.T, open func(t *testing.T) Bus, kill func(t *testing.T)) {
	a, b := open(t), open(t)
	ra, rb := listen(t, a), listen(t, b)
	for _, r := range []*replica{ra, rb} {
		r.await(t, "the first resync", func(_ []linking.Event, resyncs int) bool { return resyncs >= 1 })
	}
	at := time.Date(2025, 5, 1, 12, 0, 0, 123_000_000, time.UTC)
	sent := linking.Event{ID: "evt_1", Seq: 7, Type: linking.EventConnectionError, AppUserID: "alice", Provider: "oura",
		Status: "error", ErrorType: "token_refresh_failed", CreatedAt: at, Stream: true, Junction: []byte(`{"secret":"stays home"}`)}
	if err := a.Publish(t.Context(), []linking.Event{sent}); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*replica{"publisher": ra, "other replica": rb} {
		r.await(t, name+" receiving", func(got []linking.Event, _ int) bool { return len(got) == 1 })
		got := r.got[0]
		if got.ID != sent.ID || got.Seq != sent.Seq || got.Type != sent.Type || got.AppUserID != "alice" || got.Provider != "oura" ||
			got.Status != "error" || got.ErrorType != "token_refresh_failed" || !got.CreatedAt.Equal(at) || !got.Stream || got.Junction != nil {
			t.Errorf("%s received %+v", name, got)
		}
	}
	if kill == nil {
		return
	}
	kill(t)
	rb.await(t, "a resync after the connection was lost", func(_ []linking.Event, resyncs int) bool { return resyncs >= 2 })
	second := sent
	second.ID, second.Seq = "evt_2", 8
	testkit.Eventually(t, "a publish after the outage", func() bool { return a.Publish(t.Context(), []linking.Event{second}) == nil })
	rb.await(t, "an event after the reconnect", func(got []linking.Event, _ int) bool { return len(got) >= 2 && got[len(got)-1].ID == "evt_2" })
}

func TestMemoryBus(t *testing.T) {
	bus := NewMemoryBus()
	testBus(t, func(*testing.T) Bus { return bus }, nil)
}

func TestPostgresBus(t *testing.T) {
	url, application := testkit.PostgresSchema(t)
	testBus(t, func(t *testing.T) Bus {
		b, err := OpenPostgres(t.Context(), url, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}, func(t *testing.T) {
		if testkit.TerminatePostgresBackends(t, application) == 0 {
			t.Fatal("no connection to terminate")
		}
	})
}

// Deployments sharing a database in different schemas do not hear each
// other.
func TestPostgresBusIsPerSchema(t *testing.T) {
	urlA, _ := testkit.PostgresSchema(t)
	urlB, _ := testkit.PostgresSchema(t)
	a, err := OpenPostgres(t.Context(), urlA, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenPostgres(t.Context(), urlB, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rb := listen(t, b)
	rb.await(t, "listening", func(_ []linking.Event, resyncs int) bool { return resyncs >= 1 })
	if err := a.Publish(t.Context(), []linking.Event{{ID: "evt_x", Seq: 1, AppUserID: "u", Stream: true}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(t.Context(), []linking.Event{{ID: "evt_y", Seq: 1, AppUserID: "u", Stream: true}}); err != nil {
		t.Fatal(err)
	}
	rb.await(t, "its own schema's event", func(got []linking.Event, _ int) bool { return len(got) >= 1 })
	time.Sleep(100 * time.Millisecond)
	rb.mu.Lock()
	defer rb.mu.Unlock()
	if len(rb.got) != 1 || rb.got[0].ID != "evt_y" {
		t.Errorf("schema B heard %+v", rb.got)
	}
}

func TestRedisBus(t *testing.T) {
	r := testkit.StartRedis(t)
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	channel := "linkbff:events:test-" + hex.EncodeToString(suffix[:])
	testBus(t, func(t *testing.T) Bus {
		b, err := OpenRedis(r.URL, channel, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}, func(t *testing.T) {
		// Redis drops every subscriber's connection, as a restart would.
		admin := redis.NewClient(&redis.Options{Addr: r.Addr})
		defer admin.Close()
		if n, err := admin.ClientKillByFilter(t.Context(), "TYPE", "pubsub").Result(); err != nil || n == 0 {
			t.Fatalf("CLIENT KILL TYPE pubsub: %d %v", n, err)
		}
	})
}

// A Redis URL that cannot be parsed is refused without echoing it.
func TestRedisBusHidesABadURL(t *testing.T) {
	if _, err := OpenRedis("redis://:s3cret@host:notaport", "c", zerolog.Nop()); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v", err)
	}
	if _, err := OpenPostgres(t.Context(), "postgres://u:s3cret@host:notaport/db", zerolog.Nop()); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v", err)
	}
}
