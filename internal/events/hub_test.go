package events

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
)

type countingObserver struct {
	mu                      sync.Mutex
	opened, closed          int
	refusedUser, refusedAll int
}

func (c *countingObserver) StreamOpened() { c.mu.Lock(); c.opened++; c.mu.Unlock() }
func (c *countingObserver) StreamClosed() { c.mu.Lock(); c.closed++; c.mu.Unlock() }
func (c *countingObserver) StreamRefused(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if reason == "per_user" {
		c.refusedUser++
	} else {
		c.refusedAll++
	}
}

func subscribe(t *testing.T, h *Hub, user string) *Stream {
	t.Helper()
	s, err := h.Subscribe(user)
	if err != nil {
		t.Fatalf("Subscribe(%s): %v", user, err)
	}
	return s
}

func streamEvent(user string, seq int64) linking.Event {
	return linking.Event{ID: fmt.Sprintf("evt_%032x", seq), Seq: seq, Type: linking.EventConnectionCreated, AppUserID: user, Stream: true}
}

func TestHubLimits(t *testing.T) {
	obs := &countingObserver{}
	h := NewHub(Limits{PerUser: 2, Total: 3}, obs)
	a1, _ := subscribe(t, h, "a"), subscribe(t, h, "a")
	_, err := h.Subscribe("a")
	if e, ok := linking.AsError(err); !ok || e.Code != linking.ERateLimited || e.RetryAfter <= 0 {
		t.Errorf("a third stream for one user: %v, want rate_limited with Retry-After", err)
	}
	subscribe(t, h, "b")
	_, err = h.Subscribe("c")
	if e, ok := linking.AsError(err); !ok || e.Code != linking.EUnavailable || e.RetryAfter <= 0 {
		t.Errorf("a stream past the total: %v, want unavailable with Retry-After", err)
	}
	a1.Close()
	a1.Close() // twice is fine
	subscribe(t, h, "c")
	if h.Open() != 3 || obs.opened != 4 || obs.closed != 1 || obs.refusedUser != 1 || obs.refusedAll != 1 {
		t.Errorf("open %d, observer %+v", h.Open(), obs)
	}
}

func TestHubDeliversToTheUsersStreamsOnly(t *testing.T) {
	h := NewHub(Limits{PerUser: 5, Total: 10}, nil)
	a1, a2, b := subscribe(t, h, "a"), subscribe(t, h, "a"), subscribe(t, h, "b")
	h.Deliver(streamEvent("a", 1))
	for i, s := range []*Stream{a1, a2} {
		select {
		case e := <-s.Events():
			if e.Seq != 1 {
				t.Errorf("stream %d got %+v", i, e)
			}
		case <-time.After(time.Second):
			t.Fatalf("stream %d of a got nothing", i)
		}
	}
	select {
	case e := <-b.Events():
		t.Fatalf("b got a's event %+v", e)
	default:
	}
}

// A stream that does not keep up is ended, never waited for: the hub
// delivers to everyone else at once.
func TestHubEndsAStreamThatFellBehind(t *testing.T) {
	h := NewHub(Limits{PerUser: 5, Total: 10}, nil)
	slow, fast := subscribe(t, h, "a"), subscribe(t, h, "a")
	var got int
	for i := range streamBuffer + 1 {
		h.Deliver(streamEvent("a", int64(i+1)))
		<-fast.Events()
		got++
	}
	select {
	case <-slow.Done():
		if slow.Err() != ErrFellBehind {
			t.Errorf("Err %v, want ErrFellBehind", slow.Err())
		}
	default:
		t.Fatal("the slow stream is still open")
	}
	if got != streamBuffer+1 || h.Open() != 1 {
		t.Errorf("fast got %d, %d open", got, h.Open())
	}
}

func TestHubResyncAndClose(t *testing.T) {
	h := NewHub(Limits{PerUser: 5, Total: 10}, nil)
	s := subscribe(t, h, "a")
	h.Resync()
	h.Resync() // coalesces
	select {
	case <-s.Resync():
	default:
		t.Fatal("no resync signal")
	}
	if s.Err() != nil {
		t.Errorf("Err before Done: %v", s.Err())
	}
	h.Close()
	<-s.Done()
	if s.Err() != ErrShutdown || h.Open() != 0 {
		t.Errorf("after Close: %v, %d open", s.Err(), h.Open())
	}
	if _, err := h.Subscribe("a"); !linking.IsCode(err, linking.EUnavailable) {
		t.Errorf("Subscribe after Close: %v", err)
	}
}
