package linking

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The events linkbff emits itself, next to Junction's own
// (EventConnectionCreated, EventConnectionError and the data events).
const (
	// EventLinkCompleted: a Link flow ended, as the user's browser reported
	// it at the callback (not proof of a connection).
	EventLinkCompleted = "link.completed"
	// EventConnectionDisconnected: the app disconnected a provider, or
	// deleted the user with all their connections.
	EventConnectionDisconnected = "connection.disconnected"
)

// Why a connection was disconnected (Event.Reason).
const (
	ReasonDisconnected = "disconnected" // DELETE /v1/connections/{provider}
	ReasonUserDeleted  = "user_deleted" // DELETE /v1/me
)

// ReportedByBrowser marks what only the user's browser said (the callback).
const ReportedByBrowser = "browser"

// DefaultForwardedEvents are the event types forwarded to the app's backend
// unless it asks for others: the connection events.
var DefaultForwardedEvents = []string{EventConnectionCreated, EventConnectionError, EventConnectionDisconnected}

// Event is something that happened to an app user's connections, kept in
// the store's outbox. It is forwarded to the app's backend when Delivery
// says so, and shown on the user's live stream when Stream is set.
type Event struct {
	// ID is the webhook-id the app's backend dedupes on: it never changes,
	// whatever the number of attempts.
	ID string
	// Seq is assigned by the store when the event is stored; it orders
	// events and is the live stream's cursor.
	Seq  int64
	Type string // Junction's event_type, EventLinkCompleted or EventConnectionDisconnected
	// AppUserID is "" when linkbff has no app user for the Junction user.
	AppUserID      string
	JunctionUserID string
	Provider       string // slug; "" when the user picked in Link, or for data events
	// Status is the Link outcome (link.completed) or the connection's
	// status (StatusConnected, StatusError).
	Status    string
	ErrorType string
	Reason    string // connection.disconnected: ReasonDisconnected or ReasonUserDeleted
	// Junction is the verified body of a Junction event, forwarded as it
	// came with app_user_id added.
	Junction []byte
	// Stream says the user's live stream shows the event.
	Stream    bool
	CreatedAt time.Time
	Delivery  Delivery
}

// DeliveryState is how far forwarding an event to the app's backend got.
type DeliveryState string

const (
	DeliveryNone      DeliveryState = "none" // not forwarded: no backend, or a type it did not ask for
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed" // every attempt of the schedule failed
)

// Delivery is the forwarding of one event to the app's backend.
type Delivery struct {
	State         DeliveryState
	Attempts      int
	NextAttemptAt *time.Time // pending events only
	LastStatus    int        // HTTP status of the last attempt; 0 when none came
	LastError     string
	DeliveredAt   *time.Time
}

// StreamName is what the live stream calls the event, or "" when the
// stream does not show events of its type.
func (e Event) StreamName() string {
	switch e.Type {
	case EventConnectionCreated:
		return "connection.created"
	case EventConnectionError:
		return "connection.error"
	case EventConnectionDisconnected, EventLinkCompleted:
		return e.Type
	}
	return ""
}

// Publisher tells the live streams of every replica about events the store
// has committed. It is best effort: a stream that misses a notice catches
// up from the store when it reconnects (Last-Event-ID).
type Publisher interface {
	Publish(ctx context.Context, events []Event)
}

// Publishers tells each of its publishers, in order.
type Publishers []Publisher

func (ps Publishers) Publish(ctx context.Context, events []Event) {
	for _, p := range ps {
		p.Publish(ctx, events)
	}
}

// Outbox is the store's event table: the outbox the forwarding worker
// drains, and the history live streams resume from. Failures are *Error as
// for Store.
type Outbox interface {
	// StreamEvents lists an app user's streamed events with Seq > afterSeq,
	// oldest first, at most limit.
	StreamEvents(ctx context.Context, appUserID string, afterSeq int64, limit int) ([]Event, error)
	// LatestStreamSeq is the Seq of the app user's newest streamed event, 0
	// when there is none.
	LatestStreamSeq(ctx context.Context, appUserID string) (int64, error)
	// ForwardedEvents lists forwarded events, newest first.
	ForwardedEvents(ctx context.Context, q EventQuery) ([]Event, error)
	// Redeliver makes a forwarded event due again at at, unless an attempt
	// is in flight; ENotFound for an unknown id, EConflict for an event that
	// was never forwarded. It returns the event as stored.
	Redeliver(ctx context.Context, id string, at time.Time) (Event, error)
	// ClaimDeliveries leases up to limit due pending events to owner until
	// now+lease and counts an attempt on each. An event leased to another
	// owner is never returned before its lease ends, so each event is sent
	// by one worker at a time, and a dead worker's events come back when
	// their leases end.
	ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Event, error)
	// FinishDelivery records an attempt's result, if owner still holds the
	// lease, and ends the lease. d.State is DeliveryDelivered, DeliveryFailed,
	// or DeliveryPending with the next attempt's time.
	FinishDelivery(ctx context.Context, id, owner string, d Delivery) error
	// PruneEvents deletes events created before before, except those still
	// pending delivery.
	PruneEvents(ctx context.Context, before time.Time) error
}

// EventQuery selects forwarded events.
type EventQuery struct {
	State     DeliveryState // "" for every forwarded event
	BeforeSeq int64         // 0 for the newest
	Limit     int
}

// EventFilter is the set of event types forwarded to the app's backend:
// exact types, families ("daily.data.*") or everything ("*"). A nil filter
// forwards nothing.
type EventFilter struct {
	all      bool
	exact    map[string]bool
	prefixes []string
}

var eventPattern = regexp.MustCompile(`^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$`)

// ParseEventFilter reads APP_WEBHOOK_EVENTS entries; none is the default.
func ParseEventFilter(entries []string) (*EventFilter, error) {
	if len(entries) == 0 {
		entries = DefaultForwardedEvents
	}
	f := &EventFilter{exact: map[string]bool{}}
	for _, e := range entries {
		if !eventPattern.MatchString(e) {
			return nil, fmt.Errorf("%q is not an event type (e.g. provider.connection.created), a family (daily.data.*) or *", e)
		}
		switch {
		case e == "*":
			f.all = true
		case strings.HasSuffix(e, ".*"):
			f.prefixes = append(f.prefixes, strings.TrimSuffix(e, "*"))
		default:
			f.exact[e] = true
		}
	}
	return f, nil
}

// Allows reports whether events of eventType are forwarded.
func (f *EventFilter) Allows(eventType string) bool {
	if f == nil {
		return false
	}
	return f.all || f.exact[eventType] || slices.ContainsFunc(f.prefixes, func(p string) bool { return strings.HasPrefix(eventType, p) })
}

// newEvent is an event of eventType for m's users, due for forwarding when
// the filter asks for its type and streamed when the stream shows it.
func (s *Service) newEvent(eventType string, m UserMapping) Event {
	e := Event{
		ID:             newEventID(),
		Type:           eventType,
		AppUserID:      m.AppUserID,
		JunctionUserID: m.JunctionUserID,
		CreatedAt:      s.now().UTC(),
		Delivery:       Delivery{State: DeliveryNone},
	}
	e.Stream = e.AppUserID != "" && e.StreamName() != ""
	if s.forward.Allows(eventType) {
		next := e.CreatedAt
		e.Delivery = Delivery{State: DeliveryPending, NextAttemptAt: &next}
	}
	return e
}

// kept reports whether an event is worth storing: someone will read it.
func (e Event) kept() bool { return e.Stream || e.Delivery.State == DeliveryPending }

// keep is the events worth storing.
func keep(events ...*Event) []*Event {
	out := events[:0:0]
	for _, e := range events {
		if e.kept() {
			out = append(out, e)
		}
	}
	return out
}

// publish tells the live streams of the events the store kept (those it
// gave a Seq).
func (s *Service) publish(ctx context.Context, events ...*Event) {
	var stored []Event
	for _, e := range events {
		if e != nil && e.Seq != 0 {
			stored = append(stored, *e)
		}
	}
	if len(stored) > 0 && s.publisher != nil {
		s.publisher.Publish(ctx, stored)
	}
}

func newEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "evt_" + hex.EncodeToString(b[:])
}

// StreamEventsSince is the backlog a reconnecting stream missed: the app
// user's streamed events after afterSeq, oldest first.
func (s *Service) StreamEventsSince(ctx context.Context, appUserID string, afterSeq int64, limit int) ([]Event, error) {
	if s.outbox == nil {
		return nil, nil
	}
	return s.outbox.StreamEvents(ctx, appUserID, afterSeq, limit)
}

// LatestStreamSeq is where a new stream starts: the Seq of the app user's
// newest streamed event.
func (s *Service) LatestStreamSeq(ctx context.Context, appUserID string) (int64, error) {
	if s.outbox == nil {
		return 0, nil
	}
	return s.outbox.LatestStreamSeq(ctx, appUserID)
}

// maxEventPage bounds one page of the admin's event list.
const maxEventPage = 500

// ForwardedEvents lists events forwarded (or being forwarded) to the app's
// backend, newest first, for the admin API.
func (s *Service) ForwardedEvents(ctx context.Context, q EventQuery) ([]Event, error) {
	switch q.State {
	case "", DeliveryPending, DeliveryDelivered, DeliveryFailed:
	default:
		return nil, FieldErrorf("status", "status must be pending, delivered or failed")
	}
	if q.Limit <= 0 || q.Limit > maxEventPage {
		return nil, FieldErrorf("limit", "limit must be between 1 and %d", maxEventPage)
	}
	if q.BeforeSeq < 0 {
		return nil, FieldErrorf("before", "before must be a positive seq")
	}
	if s.outbox == nil {
		return []Event{}, nil
	}
	return s.outbox.ForwardedEvents(ctx, q)
}

var eventIDPattern = regexp.MustCompile(`^evt_[0-9a-f]{32}$`)

// RedeliverEvent makes a forwarded event due again now: a failed or
// delivered one starts a fresh schedule, a pending one skips its wait.
func (s *Service) RedeliverEvent(ctx context.Context, id string) (Event, error) {
	if !eventIDPattern.MatchString(id) || s.outbox == nil {
		return Event{}, Errorf(ENotFound, "no event %s", id)
	}
	e, err := s.outbox.Redeliver(ctx, id, s.now().UTC())
	if err != nil {
		return Event{}, err
	}
	s.log.Info().Str("event_id", id).Msg("event redelivery requested")
	return e, nil
}

// UserOverview is what the admin API tells about one app user.
type UserOverview struct {
	Mapping     UserMapping
	Connections ConnectionList
}

// AppUser returns an app user's Junction user and connections, without
// creating anything; ENotFound when linkbff has never mapped the user.
func (s *Service) AppUser(ctx context.Context, appUserID string) (UserOverview, error) {
	m, ok, err := s.existingJunctionUser(ctx, appUserID)
	if err != nil {
		return UserOverview{}, err
	}
	if !ok {
		return UserOverview{}, Errorf(ENotFound, "linkbff has no Junction user for this app user")
	}
	list, err := s.Connections(ctx, appUserID)
	if err != nil {
		return UserOverview{}, err
	}
	return UserOverview{Mapping: m, Connections: list}, nil
}
