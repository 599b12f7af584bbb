package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/events"
	"github.com/linkbff/linkbff/internal/linking"
)

// EventStreamPath is the live stream's route. It is the one route without
// a request deadline: a stream lives until its idle timeout, its token's
// expiry, its client leaving or linkbff shutting down.
const EventStreamPath = "/v1/events"

// StreamSettings shape each live stream.
type StreamSettings struct {
	Heartbeat   time.Duration // a comment line this often on an idle stream
	IdleTimeout time.Duration // no event this long: the stream ends, the client reconnects
}

// streamEvent is one event as GET /v1/events sends it, in `data:`.
type streamEvent struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Provider   *string   `json:"provider"`
	Status     *string   `json:"status"`
	ErrorType  *string   `json:"error_type"`
	Reason     string    `json:"reason,omitempty"`      // connection.disconnected
	ReportedBy string    `json:"reported_by,omitempty"` // link.completed: browser
	CreatedAt  time.Time `json:"created_at"`
}

// Reconnection delays the stream asks for (SSE retry:, milliseconds).
const (
	reconnectDefault = 3000 // a dropped connection
	reconnectSoon    = 250  // the stream ended on purpose (idle, fell behind)
)

// streamWriteTimeout bounds each write: a client that stops reading is
// dropped instead of holding the stream forever.
const streamWriteTimeout = 10 * time.Second

// A resume or resync reads missed events in pages; maxBacklog bounds them
// all (a client further behind reloads GET /v1/connections anyway when its
// stream opens).
const (
	backlogPage = 200
	maxBacklog  = 2000
)

// handleEventStream serves the caller's events as Server-Sent Events:
// connection.created, connection.error, connection.disconnected and
// link.completed, each with its id: for Last-Event-ID resume. Browsers read
// it with fetch, which can send the Authorization header EventSource
// cannot, so no token ever travels in a URL.
func handleEventStream(log zerolog.Logger, svc *linking.Service, hub *events.Hub, settings StreamSettings) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := userID(r)
		afterSeq, resume, err := lastEventID(r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		stream, err := hub.Subscribe(user)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		defer stream.Close()

		// The catch-up is read after subscribing, so nothing falls between
		// the two; what both hold is sent once.
		sse := newSSEWriter(w, log, r)
		var backlog []linking.Event
		if resume {
			backlog, err = catchUp(r, svc, user, afterSeq)
		} else {
			afterSeq, err = svc.LatestStreamSeq(r.Context(), user)
		}
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		if !sse.start() {
			return
		}
		sse.comment("linkbff event stream")
		sse.retry(reconnectDefault)
		sse.cursor(afterSeq) // a reconnect resumes from here, or from a later event
		for _, e := range backlog {
			sse.event(e)
		}
		if !sse.flush() {
			return
		}

		heartbeat := time.NewTicker(settings.Heartbeat)
		defer heartbeat.Stop()
		idle := time.NewTimer(settings.IdleTimeout)
		defer idle.Stop()
		var expired <-chan time.Time
		if p, _ := auth.PrincipalFrom(r.Context()); !p.ExpiresAt.IsZero() {
			t := time.NewTimer(time.Until(p.ExpiresAt))
			defer t.Stop()
			expired = t.C
		}
		for {
			select {
			case e := <-stream.Events():
				if sse.event(e) {
					idle.Reset(settings.IdleTimeout)
				}
			case <-stream.Resync():
				missed, err := catchUp(r, svc, user, sse.lastSeq)
				if err != nil {
					log.Warn().Err(err).Str("request_id", requestIDFrom(r.Context())).Msg("event stream could not catch up; ending it so the client resumes")
					sse.retry(reconnectDefault)
					sse.flush()
					return
				}
				for _, e := range missed {
					sse.event(e)
				}
			case <-heartbeat.C:
				sse.comment("ping")
			case <-idle.C:
				sse.comment("idle; reconnect")
				sse.retry(reconnectSoon)
				sse.flush()
				return
			case <-expired:
				// Reconnecting with the same token gets a 401: the client
				// signs the user in again.
				sse.comment("token expired")
				sse.flush()
				return
			case <-stream.Done():
				if errors.Is(stream.Err(), events.ErrShutdown) {
					// Spread the reconnects over the replicas that stay.
					sse.comment("linkbff is restarting; reconnect")
					sse.retry(500 + rand.IntN(2000))
				} else {
					sse.comment("fell behind; resume")
					sse.retry(reconnectSoon)
				}
				sse.flush()
				return
			case <-r.Context().Done():
				return
			}
			if !sse.flush() {
				return
			}
		}
	})
}

// catchUp reads the user's events after afterSeq, page by page.
func catchUp(r *http.Request, svc *linking.Service, user string, afterSeq int64) ([]linking.Event, error) {
	var out []linking.Event
	for {
		page, err := svc.StreamEventsSince(r.Context(), user, afterSeq, backlogPage)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < backlogPage || len(out) >= maxBacklog {
			return out, nil
		}
		afterSeq = page[len(page)-1].Seq
	}
}

// lastEventID reads Last-Event-ID, the id of the last event a client saw
// (a Seq): resume is false without one.
func lastEventID(r *http.Request) (afterSeq int64, resume bool, err error) {
	v := strings.TrimSpace(r.Header.Get("Last-Event-ID"))
	if v == "" {
		return 0, false, nil
	}
	seq, err := strconv.ParseInt(v, 10, 64)
	if err != nil || seq < 0 {
		return 0, false, linking.FieldErrorf("Last-Event-ID", "Last-Event-ID must be the id of an event this stream sent")
	}
	return seq, true, nil
}

// sseWriter writes one stream. Writes after a failed one do nothing;
// flush reports whether the stream is still healthy.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	log     zerolog.Logger
	r       *http.Request
	err     error
	lastSeq int64
	sent    recentSeqs
}

func newSSEWriter(w http.ResponseWriter, log zerolog.Logger, r *http.Request) *sseWriter {
	return &sseWriter{w: w, rc: http.NewResponseController(w), log: log, r: r, sent: newRecentSeqs(1024)}
}

// start sends the headers. The server's write timeout bounds ordinary
// requests, and a stream is not one: each write gets its own deadline
// instead. (Its read timeout is no matter: net/http lifts it once a
// request without a body is read.)
func (s *sseWriter) start() bool {
	if err := s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)); err != nil {
		s.log.Error().Err(err).Msg("event stream: cannot set write deadlines; the server's write timeout will cut the stream")
	}
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	s.w.WriteHeader(http.StatusOK)
	return s.flush()
}

func (s *sseWriter) write(format string, args ...any) {
	if s.err != nil {
		return
	}
	if err := s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.err = err
		return
	}
	_, s.err = fmt.Fprintf(s.w, format, args...)
}

func (s *sseWriter) flush() bool {
	if s.err == nil {
		s.err = s.rc.Flush()
	}
	if s.err != nil && s.r.Context().Err() == nil {
		s.log.Debug().Err(s.err).Str("request_id", requestIDFrom(s.r.Context())).Msg("event stream closed by a failed write")
	}
	return s.err == nil
}

func (s *sseWriter) comment(text string) { s.write(": %s\n\n", text) }
func (s *sseWriter) retry(ms int)        { s.write("retry: %d\n\n", ms) }

// cursor sets the client's last event id without an event, and where a
// catch-up starts.
func (s *sseWriter) cursor(seq int64) {
	s.write("id: %d\n\n", seq)
	s.lastSeq = seq
}

// event sends e unless this stream sent it already, and reports whether
// it did.
func (s *sseWriter) event(e linking.Event) bool {
	name := e.StreamName()
	if name == "" || !s.sent.add(e.Seq) {
		return false
	}
	data, err := json.Marshal(streamEvent{
		ID: e.ID, Type: name, Provider: nonEmpty(e.Provider), Status: nonEmpty(e.Status), ErrorType: nonEmpty(e.ErrorType),
		Reason: e.Reason, ReportedBy: reportedBy(e), CreatedAt: e.CreatedAt,
	})
	if err != nil {
		return false
	}
	s.write("id: %d\nevent: %s\ndata: %s\n\n", e.Seq, name, data)
	s.lastSeq = max(s.lastSeq, e.Seq)
	return true
}

func reportedBy(e linking.Event) string {
	if e.Type == linking.EventLinkCompleted {
		return linking.ReportedByBrowser
	}
	return ""
}

// recentSeqs remembers the last n Seqs sent, so an event that arrives both
// live and in a catch-up is sent once.
type recentSeqs struct {
	set   map[int64]bool
	order []int64
	n     int
}

func newRecentSeqs(n int) recentSeqs { return recentSeqs{set: map[int64]bool{}, n: n} }

// add reports whether seq is new, and remembers it.
func (r *recentSeqs) add(seq int64) bool {
	if r.set[seq] {
		return false
	}
	if len(r.order) == r.n {
		delete(r.set, r.order[0])
		r.order = r.order[1:]
	}
	r.set[seq] = true
	r.order = append(r.order, seq)
	return true
}
