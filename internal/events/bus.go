package events

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/linking"
)

// Bus carries events between replicas.
type Bus interface {
	// Publish sends events to every replica's listener, this one's too.
	Publish(ctx context.Context, events []linking.Event) error
	// Listen hands each published event to deliver until ctx ends, and
	// calls resync after any gap in which events may have been missed.
	Listen(ctx context.Context, deliver func(linking.Event), resync func())
	// Name says which bus it is: memory, postgres or redis.
	Name() string
	Close() error
}

// notice is an event on the wire between replicas: what streams show of
// it, never Junction's body (it stays in the store).
type notice struct {
	ID        string    `json:"id"`
	Seq       int64     `json:"seq"`
	Type      string    `json:"type"`
	AppUserID string    `json:"app_user_id"`
	Provider  string    `json:"provider,omitempty"`
	Status    string    `json:"status,omitempty"`
	ErrorType string    `json:"error_type,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func noticeOf(e linking.Event) notice {
	return notice{ID: e.ID, Seq: e.Seq, Type: e.Type, AppUserID: e.AppUserID, Provider: e.Provider,
		Status: e.Status, ErrorType: e.ErrorType, Reason: e.Reason, CreatedAt: e.CreatedAt}
}

// event is what a replica hears: the streamed part of the event.
func (n notice) event() linking.Event {
	return linking.Event{ID: n.ID, Seq: n.Seq, Type: n.Type, AppUserID: n.AppUserID, Provider: n.Provider, Status: n.Status,
		ErrorType: n.ErrorType, Reason: n.Reason, CreatedAt: n.CreatedAt, Stream: true}
}

func encodeNotice(e linking.Event) ([]byte, error) { return json.Marshal(noticeOf(e)) }

func decodeNotice(payload []byte) (linking.Event, error) {
	var n notice
	if err := json.Unmarshal(payload, &n); err != nil {
		return linking.Event{}, err
	}
	if n.ID == "" || n.Seq <= 0 || n.AppUserID == "" {
		return linking.Event{}, fmt.Errorf("notice lacks id, seq or app_user_id")
	}
	return n.event(), nil
}

// MemoryBus is a bus inside one process: one replica, or SQLite.
type MemoryBus struct {
	mu        sync.Mutex
	listeners map[int]func(linking.Event)
	next      int
}

// NewMemoryBus returns an in-process bus.
func NewMemoryBus() *MemoryBus { return &MemoryBus{listeners: map[int]func(linking.Event){}} }

func (b *MemoryBus) Name() string { return "memory" }

// Publish hands events to the listeners at once.
func (b *MemoryBus) Publish(_ context.Context, events []linking.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range events {
		for _, deliver := range b.listeners {
			deliver(noticeOf(e).event()) // what the other buses carry
		}
	}
	return nil
}

// Listen registers deliver until ctx ends. An in-process bus misses
// nothing once listening; the one resync covers what came before.
func (b *MemoryBus) Listen(ctx context.Context, deliver func(linking.Event), resync func()) {
	b.mu.Lock()
	id := b.next
	b.next++
	b.listeners[id] = deliver
	b.mu.Unlock()
	resync()
	<-ctx.Done()
	b.mu.Lock()
	delete(b.listeners, id)
	b.mu.Unlock()
}

func (b *MemoryBus) Close() error { return nil }

// Publisher is linking's Publisher on a bus: it sends the streamed events
// and logs what it could not send (streams catch up when they reconnect).
type Publisher struct {
	Bus Bus
	Log zerolog.Logger
}

// publishTimeout bounds a publish, which runs inside the request that
// stored the events.
const publishTimeout = 2 * time.Second

// Publish sends the events a stream shows.
func (p Publisher) Publish(ctx context.Context, events []linking.Event) {
	var streamed []linking.Event
	for _, e := range events {
		if e.Stream {
			streamed = append(streamed, e)
		}
	}
	if len(streamed) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := p.Bus.Publish(ctx, streamed); err != nil {
		p.Log.Warn().Err(err).Str("bus", p.Bus.Name()).Int("events", len(streamed)).Msg("could not publish events to live streams; they catch up when they reconnect")
	}
}

// backoff is the wait before reconnecting after failures in a row.
func backoff(failures int) time.Duration {
	return min(time.Duration(1<<min(failures, 5))*100*time.Millisecond, 3*time.Second)
}

// sleep waits d unless ctx ends first, and reports whether to go on.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
