package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// maxRecordedAttempts bounds the delivery log of a long-running emulator.
const maxRecordedAttempts = 1000

// deliveryLog records webhook delivery attempts for /_emulator/deliveries.
type deliveryLog struct {
	mu       sync.Mutex
	attempts []deliveryAttempt
	// closed stops new webhook deliveries after Close.
	closed bool
}

// deliveryAttempt is one try at delivering a webhook, as listed by
// GET /_emulator/deliveries.
type deliveryAttempt struct {
	SvixID     string `json:"svix_id"`
	EventType  string `json:"event_type"`
	Attempt    int    `json:"attempt"`
	StatusCode int    `json:"status_code,omitempty"`
	Error      string `json:"error,omitempty"`
	Delivered  bool   `json:"delivered"`
	At         string `json:"at"`
}

// sendWebhook signs and delivers payload in the background, retrying per
// RetrySchedule with the same svix-id. It does nothing without a WebhookURL
// or after Close.
func (e *Emulator) sendWebhook(eventType string, payload any) {
	if e.webhook == nil {
		return
	}
	body, err := json.Marshal(payload)
	if err != nil {
		e.cfg.Logger.Error().Err(err).Str("event_type", eventType).Msg("cannot encode webhook")
		return
	}
	msgID := "msg_" + randomHex(14)
	e.delivery.mu.Lock()
	if e.delivery.closed {
		e.delivery.mu.Unlock()
		return
	}
	// Added under the lock that Close takes before Wait, so no Add races Wait.
	e.deliveries.Add(1)
	e.delivery.mu.Unlock()
	go e.deliver(msgID, eventType, body)
}

func (e *Emulator) deliver(msgID, eventType string, body []byte) {
	defer e.deliveries.Done()
	log := e.cfg.Logger.With().Str("svix_id", msgID).Str("event_type", eventType).Logger()
	for attempt := 1; ; attempt++ {
		status, err := e.deliverOnce(msgID, body)
		delivered := err == nil && status >= 200 && status <= 299
		record := deliveryAttempt{SvixID: msgID, EventType: eventType, Attempt: attempt, StatusCode: status, Delivered: delivered, At: formatTime(time.Now())}
		if err != nil {
			record.Error = err.Error()
		}
		e.recordAttempt(record)
		if delivered {
			log.Info().Int("attempt", attempt).Int("status", status).Msg("webhook delivered")
			return
		}
		if e.deliveryCtx.Err() != nil {
			return
		}
		if attempt > len(e.cfg.RetrySchedule) {
			log.Warn().Int("attempt", attempt).Int("status", status).Msg("webhook delivery failed; giving up")
			return
		}
		delay := e.cfg.RetrySchedule[attempt-1]
		log.Warn().Int("attempt", attempt).Int("status", status).Dur("retry_in", delay).Msg("webhook delivery failed; will retry")
		timer := time.NewTimer(delay)
		select {
		case <-e.deliveryCtx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

// errRedirect marks a 3xx answer, which Svix treats as a failure.
var errRedirect = errors.New("redirect responses are not followed")

// deliverOnce POSTs the signed body once, freshly timestamped. Errors never
// include the URL, which may carry a secret.
func (e *Emulator) deliverOnce(msgID string, body []byte) (int, error) {
	timestamp := time.Now() // wall clock: receivers compare it with theirs
	signature, err := e.webhook.Sign(msgID, timestamp, body)
	if err != nil {
		return 0, errors.New("cannot sign webhook")
	}
	req, err := http.NewRequestWithContext(e.deliveryCtx, http.MethodPost, e.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("cannot build webhook request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Svix-Webhooks/1.44 (linkbff junction emulator)")
	req.Header.Set("svix-id", msgID)
	req.Header.Set("svix-timestamp", strconv.FormatInt(timestamp.Unix(), 10))
	req.Header.Set("svix-signature", signature)

	client := *e.cfg.HTTPClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		if e.deliveryCtx.Err() != nil {
			return 0, errors.New("delivery canceled by Close")
		}
		return 0, errors.New("webhook request failed (connection error or timeout)")
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		return resp.StatusCode, errRedirect
	}
	return resp.StatusCode, nil
}

func (e *Emulator) recordAttempt(a deliveryAttempt) {
	e.delivery.mu.Lock()
	defer e.delivery.mu.Unlock()
	e.delivery.attempts = append(e.delivery.attempts, a)
	if over := len(e.delivery.attempts) - maxRecordedAttempts; over > 0 {
		e.delivery.attempts = append([]deliveryAttempt(nil), e.delivery.attempts[over:]...)
	}
}
