// Package events carries linkbff's events to the live streams of the app's
// users (GET /v1/events) on every replica: a Bus (PostgreSQL LISTEN/NOTIFY,
// Redis pub/sub, or in process) brings each event any replica stored to
// every replica's Hub, which hands it to the streams its user has open
// there. Delivery is best effort; the store is the record a stream resumes
// from (Last-Event-ID), and the Hub asks its streams to catch up after the
// Bus missed events.
package events

import (
	"errors"
	"sync"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
)

// Limits bound the open streams.
type Limits struct {
	PerUser int // streams one app user may hold open on this replica
	Total   int // streams this replica holds open
}

// Why the hub ended a stream.
var (
	ErrShutdown   = errors.New("linkbff is shutting down")
	ErrFellBehind = errors.New("the stream fell behind its events")
)

// Observer hears of streams opening, closing and being refused (metrics).
type Observer interface {
	StreamOpened()
	StreamClosed()
	StreamRefused(reason string) // "per_user" or "total"
}

// streamBuffer is how many events may wait for a slow stream before the
// hub ends it; the client then resumes from the store.
const streamBuffer = 16

// retryAfterRefusal is what a refused stream is told to wait.
const retryAfterRefusal = 5 * time.Second

// Hub fans events out to this replica's open streams.
type Hub struct {
	limits   Limits
	observer Observer

	mu      sync.Mutex
	streams map[string]map[*Stream]struct{} // by app user
	open    int
	closed  bool
}

// NewHub returns a hub holding at most limits streams.
func NewHub(limits Limits, observer Observer) *Hub {
	return &Hub{limits: limits, observer: observer, streams: map[string]map[*Stream]struct{}{}}
}

// Stream is one open event stream of an app user.
type Stream struct {
	hub    *Hub
	user   string
	events chan linking.Event
	resync chan struct{}
	done   chan struct{}
	err    error // set before done closes
	once   sync.Once
}

// Events are the user's events as they are published.
func (s *Stream) Events() <-chan linking.Event { return s.events }

// Resync says the bus may have missed events: read the store from the
// last one sent.
func (s *Stream) Resync() <-chan struct{} { return s.resync }

// Done closes when the hub ends the stream; Err then says why.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Err is ErrShutdown or ErrFellBehind once Done is closed.
func (s *Stream) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Close leaves the hub; safe to call more than once.
func (s *Stream) Close() { s.hub.remove(s, nil) }

// Subscribe opens a stream for appUserID, or refuses with ERateLimited (the
// user holds too many) or EUnavailable (the replica does, or is shutting
// down), both with RetryAfter.
func (h *Hub) Subscribe(appUserID string) (*Stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, &linking.Error{Code: linking.EUnavailable, Message: "linkbff is shutting down; reconnect", RetryAfter: time.Second}
	case len(h.streams[appUserID]) >= h.limits.PerUser:
		h.refused("per_user")
		return nil, &linking.Error{Code: linking.ERateLimited, Message: "this user has too many event streams open; close one", RetryAfter: retryAfterRefusal}
	case h.open >= h.limits.Total:
		h.refused("total")
		return nil, &linking.Error{Code: linking.EUnavailable, Message: "too many event streams are open; try again shortly", RetryAfter: retryAfterRefusal}
	}
	s := &Stream{hub: h, user: appUserID, events: make(chan linking.Event, streamBuffer), resync: make(chan struct{}, 1), done: make(chan struct{})}
	if h.streams[appUserID] == nil {
		h.streams[appUserID] = map[*Stream]struct{}{}
	}
	h.streams[appUserID][s] = struct{}{}
	h.open++
	if h.observer != nil {
		h.observer.StreamOpened()
	}
	return s, nil
}

func (h *Hub) refused(reason string) {
	if h.observer != nil {
		h.observer.StreamRefused(reason)
	}
}

// remove takes s out of the hub and, for a hub-made end (err), tells it
// why. The caller must not hold h.mu.
func (h *Hub) remove(s *Stream, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(s, err)
}

func (h *Hub) removeLocked(s *Stream, err error) {
	s.once.Do(func() {
		s.err = err
		close(s.done)
		delete(h.streams[s.user], s)
		if len(h.streams[s.user]) == 0 {
			delete(h.streams, s.user)
		}
		h.open--
		if h.observer != nil {
			h.observer.StreamClosed()
		}
	})
}

// Deliver hands e to its user's streams on this replica. It never blocks: a
// stream too far behind is ended, and its client resumes from the store.
func (h *Hub) Deliver(e linking.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.streams[e.AppUserID] {
		select {
		case s.events <- e:
		default:
			h.removeLocked(s, ErrFellBehind)
		}
	}
}

// Resync tells every stream to catch up from the store: the bus was away
// and may have missed events.
func (h *Hub) Resync() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, streams := range h.streams {
		for s := range streams {
			select {
			case s.resync <- struct{}{}:
			default: // one pending resync covers this one too
			}
		}
	}
}

// Close ends every stream with ErrShutdown and refuses new ones; streams
// tell their clients when to reconnect (to another replica).
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, streams := range h.streams {
		for s := range streams {
			h.removeLocked(s, ErrShutdown)
		}
	}
}

// Open is how many streams are open.
func (h *Hub) Open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.open
}
