package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
)

var _ linking.Outbox = (*Store)(nil)

// eventQueries are the outbox's statements, kept apart from the rest so the
// event table stays one file's business.
type eventQueries struct {
	insert, eventByID, streamEvents, latestStreamSeq, forwardedEvents string
	claim, finish, redeliver, prune, deleteUserEvents, lockStream     string
}

const eventColumns = `seq, id, type, app_user_id, junction_user_id, provider, status, error_type, reason, junction_body,
	streamed, created_at, delivery, attempts, next_attempt_at, last_status, last_error, delivered_at`

func newEventQueries(d Dialect) eventQueries {
	q := eventQueries{
		insert: `INSERT INTO events (id, type, app_user_id, junction_user_id, provider, status, error_type, reason,
			junction_body, streamed, created_at, delivery, next_attempt_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		eventByID: `SELECT ` + eventColumns + ` FROM events WHERE id = ?`,
		streamEvents: `SELECT ` + eventColumns + ` FROM events
			WHERE app_user_id = ? AND streamed = ? AND seq > ? ORDER BY seq LIMIT ?`,
		latestStreamSeq: `SELECT COALESCE(MAX(seq), 0) FROM events WHERE app_user_id = ? AND streamed = ?`,
		forwardedEvents: `SELECT ` + eventColumns + ` FROM events
			WHERE delivery <> 'none' AND (? = '' OR delivery = ?) AND (CAST(? AS BIGINT) = 0 OR seq < ?)
			ORDER BY seq DESC LIMIT ?`,
		// The due rows are picked and locked first (skipping rows another
		// replica is picking), then leased: a row leased to someone else is
		// not due until its lease ends.
		claim: `WITH due AS (
				SELECT seq FROM events
				WHERE delivery = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
				ORDER BY next_attempt_at, seq LIMIT ?` + d.SkipLocked + `
			)
			UPDATE events SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
			WHERE seq IN (SELECT seq FROM due)
			RETURNING ` + eventColumns,
		// Only the lease holder records a result: a worker whose lease ran
		// out (and whose event another worker took) changes nothing.
		finish: `UPDATE events SET delivery = ?, next_attempt_at = ?, last_status = ?, last_error = ?, delivered_at = ?,
				lease_owner = '', lease_until = NULL
			WHERE id = ? AND lease_owner = ?`,
		// A delivered or failed event starts a fresh schedule; a pending one
		// only skips its wait. An attempt in flight is left alone.
		redeliver: `UPDATE events SET
				attempts = CASE WHEN delivery = 'pending' THEN attempts ELSE 0 END,
				delivery = 'pending', next_attempt_at = ?
			WHERE id = ? AND delivery <> 'none' AND (lease_until IS NULL OR lease_until <= ?)`,
		prune:            `DELETE FROM events WHERE created_at < ? AND delivery <> 'pending'`,
		deleteUserEvents: `DELETE FROM events WHERE app_user_id = ? AND delivery <> 'pending'`,
		lockStream:       d.LockStream,
	}
	for _, p := range []*string{
		&q.insert, &q.eventByID, &q.streamEvents, &q.latestStreamSeq, &q.forwardedEvents,
		&q.claim, &q.finish, &q.redeliver, &q.prune, &q.deleteUserEvents, &q.lockStream,
	} {
		*p = rebind(d, *p)
	}
	return q
}

// insertEvents stores events in tx and sets each one's Seq, first locking
// the streams they go to where the dialect must (in sorted order, so two
// transactions never deadlock on those locks).
func (s *Store) insertEvents(ctx context.Context, tx handle, events []*linking.Event) error {
	if s.eq.lockStream != "" {
		var users []string
		for _, e := range events {
			if e.Stream && !slices.Contains(users, e.AppUserID) {
				users = append(users, e.AppUserID)
			}
		}
		slices.Sort(users)
		for _, user := range users {
			if _, err := tx.exec(ctx, s.eq.lockStream, user); err != nil {
				return err
			}
		}
	}
	for _, e := range events {
		state := e.Delivery.State
		if state == "" {
			state = linking.DeliveryNone
		}
		err := tx.queryRow(ctx, s.eq.insert,
			e.ID, e.Type, e.AppUserID, e.JunctionUserID, e.Provider, e.Status, e.ErrorType, e.Reason,
			e.Junction, e.Stream, s.d.EncodeTime(nowIfZero(e.CreatedAt)), string(state), s.encodeNullable(e.Delivery.NextAttemptAt),
		).Scan(&e.Seq)
		if err != nil {
			return err
		}
	}
	return nil
}

// RecordWebhookEvent records eventID and stores events in one transaction;
// a seen eventID changes nothing and reports recorded=false.
func (s *Store) RecordWebhookEvent(ctx context.Context, eventID string, events ...*linking.Event) (bool, error) {
	recorded := false
	err := s.inTx(ctx, "record webhook event", func(tx handle) error {
		res, err := tx.exec(ctx, s.q.insertEvent, eventID, s.d.EncodeTime(time.Now()))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		recorded = true
		return s.insertEvents(ctx, tx, events)
	})
	return recorded, err
}

type rowScanner interface{ Scan(dest ...any) error }

func scanEvent(row rowScanner) (linking.Event, error) {
	var e linking.Event
	var state string
	var createdAt, nextAttemptAt, deliveredAt dbTime
	err := row.Scan(&e.Seq, &e.ID, &e.Type, &e.AppUserID, &e.JunctionUserID, &e.Provider, &e.Status, &e.ErrorType, &e.Reason,
		&e.Junction, &e.Stream, &createdAt, &state, &e.Delivery.Attempts, &nextAttemptAt, &e.Delivery.LastStatus,
		&e.Delivery.LastError, &deliveredAt)
	if errors.Is(err, sql.ErrNoRows) {
		return linking.Event{}, linking.Errorf(linking.ENotFound, "no such event")
	}
	if err != nil {
		return linking.Event{}, err
	}
	e.CreatedAt = createdAt.t
	e.Delivery.State = linking.DeliveryState(state)
	e.Delivery.NextAttemptAt, e.Delivery.DeliveredAt = nextAttemptAt.ptr(), deliveredAt.ptr()
	return e, nil
}

func scanEvents(rows *sql.Rows, err error) ([]linking.Event, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []linking.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// StreamEvents lists an app user's streamed events after afterSeq, oldest
// first.
func (s *Store) StreamEvents(ctx context.Context, appUserID string, afterSeq int64, limit int) (out []linking.Event, err error) {
	err = s.run(ctx, "stream events", func() error {
		out, err = scanEvents(s.read().query(ctx, s.eq.streamEvents, appUserID, true, afterSeq, limit))
		return err
	})
	return out, err
}

// LatestStreamSeq is the Seq of the app user's newest streamed event, or 0.
func (s *Store) LatestStreamSeq(ctx context.Context, appUserID string) (seq int64, err error) {
	err = s.run(ctx, "latest stream seq", func() error {
		return s.read().queryRow(ctx, s.eq.latestStreamSeq, appUserID, true).Scan(&seq)
	})
	return seq, err
}

// ForwardedEvents lists forwarded events, newest first.
func (s *Store) ForwardedEvents(ctx context.Context, q linking.EventQuery) (out []linking.Event, err error) {
	err = s.run(ctx, "forwarded events", func() error {
		out, err = scanEvents(s.read().query(ctx, s.eq.forwardedEvents,
			string(q.State), string(q.State), q.BeforeSeq, q.BeforeSeq, q.Limit))
		return err
	})
	return out, err
}

// Redeliver makes a forwarded event due again at at and returns it as
// stored.
func (s *Store) Redeliver(ctx context.Context, id string, at time.Time) (linking.Event, error) {
	var e linking.Event
	err := s.inTx(ctx, "redeliver event", func(tx handle) error {
		when := s.d.EncodeTime(at)
		if _, err := tx.exec(ctx, s.eq.redeliver, when, id, when); err != nil {
			return err
		}
		var err error
		e, err = scanEvent(tx.queryRow(ctx, s.eq.eventByID, id))
		if err == nil && e.Delivery.State == linking.DeliveryNone {
			err = linking.Errorf(linking.EConflict, "this event was not forwarded: its type was not in APP_WEBHOOK_EVENTS, or no APP_WEBHOOK_URL was set, when it happened")
		}
		return err
	})
	if err != nil {
		return linking.Event{}, err
	}
	return e, nil
}

// ClaimDeliveries leases up to limit due events to owner, oldest due first.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]linking.Event, error) {
	var out []linking.Event
	err := s.inTx(ctx, "claim deliveries", func(tx handle) error {
		at := s.d.EncodeTime(now)
		var err error
		out, err = scanEvents(tx.query(ctx, s.eq.claim, at, at, limit, owner, s.d.EncodeTime(now.Add(lease))))
		return err
	})
	// RETURNING keeps no order.
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, err
}

// FinishDelivery records an attempt's result while owner holds the lease.
func (s *Store) FinishDelivery(ctx context.Context, id, owner string, d linking.Delivery) error {
	return s.run(ctx, "finish delivery", func() error {
		_, err := s.write().exec(ctx, s.eq.finish, string(d.State), s.encodeNullable(d.NextAttemptAt), d.LastStatus,
			d.LastError, s.encodeNullable(d.DeliveredAt), id, owner)
		return err
	})
}

// PruneEvents deletes events created before before, but those pending
// delivery.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) error {
	return s.run(ctx, "prune events", func() error {
		_, err := s.write().exec(ctx, s.eq.prune, s.d.EncodeTime(before))
		return err
	})
}
