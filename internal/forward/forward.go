// Package forward delivers the events in linkbff's outbox to the app's
// backend (APP_WEBHOOK_URL), signed per the Standard Webhooks spec
// (webhook-id, webhook-timestamp, webhook-signature), at least once, with
// retries on a backoff schedule like Svix's. Each event keeps one
// webhook-id across attempts, so the backend can dedupe. Workers on several
// replicas share the outbox through leases: one worker sends an event at a
// time, and a dead worker's events go to another when their lease ends.
package forward

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/linkbff/linkbff/internal/linking"
)

// DefaultSchedule is the wait after each failed attempt, like Svix's
// (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) stretched to about three days
// before an event is marked failed.
const DefaultSchedule = "5s,5m,30m,2h,5h,10h,10h,10h,10h,10h,10h"

// ParseSchedule reads a comma-separated list of waits such as "5s,5m,1h".
func ParseSchedule(v string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(v, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 || d > 7*24*time.Hour {
			return nil, fmt.Errorf("%q is not a wait between 1ms and 168h, as in 5s,5m,30m", strings.TrimSpace(part))
		}
		out = append(out, d)
	}
	return out, nil
}

// Outcomes of an attempt, as Observer hears them.
const (
	OutcomeDelivered = "delivered" // the backend answered 2xx
	OutcomeRetrying  = "retrying"  // it did not; another attempt is scheduled
	OutcomeFailed    = "failed"    // it did not, and that was the last attempt
)

// Observer hears of each attempt's outcome (metrics).
type Observer interface {
	DeliveryAttempted(outcome string)
}

// Config wires a Worker.
type Config struct {
	Outbox linking.Outbox
	// URL is the app's backend: configuration, never input, so no request
	// can make linkbff call anywhere else.
	URL string
	// Secret signs every delivery: whsec_ and base64.
	Secret string
	// Schedule is the wait after each failed attempt; after the last one
	// the event is marked failed.
	Schedule []time.Duration
	// Timeout bounds one attempt; the backend must answer 2xx within it.
	Timeout time.Duration
	// Lease is how long a claimed event is this worker's; default twice
	// Timeout. A worker that dies holds its events that long.
	Lease time.Duration
	// PollInterval is how often the outbox is checked for events other
	// replicas stored or whose retry came due; default 1s.
	PollInterval time.Duration
	// Concurrency is how many deliveries run at once; default 4.
	Concurrency int
	// Owner names this worker in leases; default host name and a random
	// suffix.
	Owner    string
	Observer Observer
	Logger   zerolog.Logger
	// Client sends the deliveries; default one that follows no redirect.
	Client *http.Client
}

// Worker drains the outbox.
type Worker struct {
	cfg    Config
	signer *svix.Webhook
	client *http.Client
	wake   chan struct{}
	log    zerolog.Logger
}

// New checks cfg and returns a Worker; Run starts it.
func New(cfg Config) (*Worker, error) {
	if cfg.Outbox == nil || cfg.URL == "" || len(cfg.Schedule) == 0 || cfg.Timeout <= 0 {
		return nil, errors.New("forward: Outbox, URL, Schedule and Timeout are required")
	}
	if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("forward: URL must be an absolute http(s) URL")
	}
	signer, err := svix.NewWebhook(cfg.Secret)
	if err != nil || !strings.HasPrefix(cfg.Secret, "whsec_") {
		return nil, errors.New("forward: the secret must be whsec_ followed by base64")
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * cfg.Timeout
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		cfg.Owner = host + "-" + hex.EncodeToString(b[:])
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				MaxIdleConnsPerHost:   cfg.Concurrency,
				IdleConnTimeout:       90 * time.Second,
				TLSHandshakeTimeout:   cfg.Timeout,
				ResponseHeaderTimeout: cfg.Timeout,
			},
			// A redirect would send a signed event somewhere the operator
			// did not configure: it counts as a failed attempt.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &Worker{cfg: cfg, signer: signer, client: client, wake: make(chan struct{}, 1),
		log: cfg.Logger.With().Str("component", "forward").Logger()}, nil
}

// Owner is the name this worker's leases carry.
func (w *Worker) Owner() string { return w.cfg.Owner }

// Wake makes the worker look at the outbox now: an event was just stored.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Publish is linking's Publisher: an event just stored for the backend
// wakes the worker, so it leaves without waiting for the next poll.
func (w *Worker) Publish(_ context.Context, events []linking.Event) {
	for _, e := range events {
		if e.Delivery.State == linking.DeliveryPending {
			w.Wake()
			return
		}
	}
}

// Run delivers until ctx ends. Attempts in flight then are abandoned and
// their events handed back, so another replica takes them at once.
func (w *Worker) Run(ctx context.Context) {
	w.log.Info().Str("owner", w.cfg.Owner).Str("url", redactedURL(w.cfg.URL)).Int("attempts", len(w.cfg.Schedule)+1).
		Msg("forwarding events to the app's backend")
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		claimed, soonest := w.drain(ctx)
		if ctx.Err() != nil {
			return
		}
		if claimed == w.cfg.Concurrency {
			continue // there may be more due right now
		}
		wait := w.cfg.PollInterval
		if !soonest.IsZero() {
			wait = min(wait, max(time.Until(soonest), 0))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// drain delivers one batch of due events and returns how many it claimed
// and the soonest retry it scheduled.
func (w *Worker) drain(ctx context.Context) (claimed int, soonest time.Time) {
	events, err := w.cfg.Outbox.ClaimDeliveries(ctx, w.cfg.Owner, time.Now(), w.cfg.Lease, w.cfg.Concurrency)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn().Err(err).Msg("could not claim events to forward")
		}
		return 0, time.Time{}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, e := range events {
		wg.Go(func() {
			next := w.deliver(ctx, e)
			mu.Lock()
			defer mu.Unlock()
			if !next.IsZero() && (soonest.IsZero() || next.Before(soonest)) {
				soonest = next
			}
		})
	}
	wg.Wait()
	return len(events), soonest
}

// deliver makes one attempt and records it; it returns the next attempt's
// time when one is scheduled.
func (w *Worker) deliver(ctx context.Context, e linking.Event) time.Time {
	log := w.log.With().Str("event_id", e.ID).Str("event_type", e.Type).Int("attempt", e.Delivery.Attempts).Logger()
	status, err := w.send(ctx, e)
	if err != nil && ctx.Err() != nil {
		// Shutting down: hand the event back, due now, for another replica.
		w.finish(e, linking.Delivery{State: linking.DeliveryPending, NextAttemptAt: e.Delivery.NextAttemptAt,
			LastStatus: e.Delivery.LastStatus, LastError: "interrupted: linkbff shut down"})
		return time.Time{}
	}
	now := time.Now().UTC()
	d := linking.Delivery{LastStatus: status}
	switch {
	case err == nil:
		d.State, d.DeliveredAt = linking.DeliveryDelivered, &now
		log.Info().Int("status", status).Msg("event forwarded")
		w.observe(OutcomeDelivered)
	case e.Delivery.Attempts > len(w.cfg.Schedule):
		d.State, d.LastError = linking.DeliveryFailed, err.Error()
		log.Warn().Int("status", status).Str("error", d.LastError).Msg("event forwarding failed; giving up (POST /admin/v1/events/{id}/redeliver retries it)")
		w.observe(OutcomeFailed)
	default:
		next := now.Add(jitter(w.cfg.Schedule[e.Delivery.Attempts-1]))
		d.State, d.NextAttemptAt, d.LastError = linking.DeliveryPending, &next, err.Error()
		log.Info().Int("status", status).Str("error", d.LastError).Time("next_attempt_at", next).Msg("event forwarding failed; will retry")
		w.observe(OutcomeRetrying)
	}
	w.finish(e, d)
	if d.NextAttemptAt != nil {
		return *d.NextAttemptAt
	}
	return time.Time{}
}

// finish records an attempt even while shutting down.
func (w *Worker) finish(e linking.Event, d linking.Delivery) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.cfg.Outbox.FinishDelivery(ctx, e.ID, w.cfg.Owner, d); err != nil {
		// The lease runs out and the event is attempted again: at least once.
		w.log.Warn().Err(err).Str("event_id", e.ID).Msg("could not record a forwarding attempt")
	}
}

func (w *Worker) observe(outcome string) {
	if w.cfg.Observer != nil {
		w.cfg.Observer.DeliveryAttempted(outcome)
	}
}

// maxAnswer is how much of the backend's answer is read (and dropped), so
// the connection can be reused.
const maxAnswer = 64 << 10

// send posts e, signed, and returns the status; err says why an attempt
// did not succeed, in words that never hold the URL's path or query.
func (w *Worker) send(ctx context.Context, e linking.Event) (int, error) {
	body, err := Body(e)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("cannot build the request")
	}
	now := time.Now()
	signature, err := w.signer.Sign(e.ID, now, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "linkbff")
	req.Header.Set("webhook-id", e.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", signature)
	resp, err := w.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return 0, fmt.Errorf("no answer within %s", w.cfg.Timeout)
		}
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // without the URL
		}
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return resp.StatusCode, nil
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		return resp.StatusCode, fmt.Errorf("answered %d; redirects are not followed", resp.StatusCode)
	}
	return resp.StatusCode, fmt.Errorf("answered %d", resp.StatusCode)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// jitter adds up to a tenth to d, so events that failed together do not
// retry together.
func jitter(d time.Duration) time.Duration {
	if d < 10 {
		return d
	}
	return d + mrand.N(d/10)
}

// redactedURL is the URL for logs: scheme and host only, since a path or
// query may hold a token of the backend's.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
