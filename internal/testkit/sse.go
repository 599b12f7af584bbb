package testkit

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SSE is one block of a Server-Sent Events stream: an event (Data set), or
// a block of only id:, retry: or comments.
type SSE struct {
	ID       string // the id: field, "" when the block has none
	Event    string
	Data     string
	Retry    int // the retry: field in ms, 0 when absent
	Comments []string
}

// EventStream is a client's open GET /v1/events, read block by block.
type EventStream struct {
	Status int
	Header http.Header

	cancel context.CancelFunc
	blocks chan SSE
	mu     sync.Mutex
	err    error // why the stream ended
	lastID string
	retry  int
}

// OpenEventStream opens GET /v1/events as token's holder, with lastEventID
// as Last-Event-ID when it is not empty. A refused stream comes back with
// its status and body in the Response, a nil stream.
func (c *Client) OpenEventStream(token, lastEventID string) (*EventStream, Response) {
	c.T.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/v1/events", nil)
	if err != nil {
		c.T.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	// No client timeout: a stream lasts.
	client := &http.Client{Transport: c.HTTP.Transport, CheckRedirect: c.HTTP.CheckRedirect}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		c.T.Fatalf("GET /v1/events: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer cancel()
		defer resp.Body.Close()
		var body strings.Builder
		_, _ = bufio.NewReader(resp.Body).WriteTo(&body)
		return nil, Response{Status: resp.StatusCode, Header: resp.Header, Body: []byte(body.String())}
	}
	s := &EventStream{Status: resp.StatusCode, Header: resp.Header, cancel: cancel, blocks: make(chan SSE, 1000)}
	go s.read(resp)
	c.T.Cleanup(s.Close)
	return s, Response{Status: resp.StatusCode, Header: resp.Header}
}

// read parses the stream per the SSE spec: fields until a blank line.
func (s *EventStream) read(resp *http.Response) {
	defer resp.Body.Close()
	defer close(s.blocks)
	scanner := bufio.NewScanner(resp.Body)
	var b SSE
	var data []string
	started := false
	for scanner.Scan() {
		line := scanner.Text()
		if line == "" {
			if started {
				b.Data = strings.Join(data, "\n")
				s.blocks <- b
			}
			b, data, started = SSE{}, nil, false
			continue
		}
		started = true
		if strings.HasPrefix(line, ":") {
			b.Comments = append(b.Comments, strings.TrimSpace(line[1:]))
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			b.ID = value
			s.mu.Lock()
			s.lastID = value
			s.mu.Unlock()
		case "event":
			b.Event = value
		case "data":
			data = append(data, value)
		case "retry":
			b.Retry, _ = strconv.Atoi(value)
			s.mu.Lock()
			s.retry = b.Retry
			s.mu.Unlock()
		}
	}
	s.mu.Lock()
	s.err = scanner.Err()
	s.mu.Unlock()
}

// NextEvent returns the next block that is an event (it has data),
// skipping ids, retries and comments; ok is false when the stream ended
// first, or nothing came within wait.
func (s *EventStream) NextEvent(wait time.Duration) (SSE, bool) {
	return s.Next(wait, func(b SSE) bool { return b.Data != "" })
}

// Next returns the next block match accepts.
func (s *EventStream) Next(wait time.Duration, match func(SSE) bool) (SSE, bool) {
	deadline := time.After(wait)
	for {
		select {
		case b, open := <-s.blocks:
			if !open {
				return SSE{}, false
			}
			if match(b) {
				return b, true
			}
		case <-deadline:
			return SSE{}, false
		}
	}
}

// Ended waits up to wait for the server to end the stream and reports
// whether it did, dropping the blocks that came before.
func (s *EventStream) Ended(wait time.Duration) bool {
	deadline := time.After(wait)
	for {
		select {
		case _, open := <-s.blocks:
			if !open {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// LastID is the last id: the stream sent: what a client sends back as
// Last-Event-ID.
func (s *EventStream) LastID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastID
}

// Retry is the last retry: hint, in ms.
func (s *EventStream) Retry() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.retry
}

// Close hangs up.
func (s *EventStream) Close() { s.cancel() }

// String describes the stream for failure messages.
func (s *EventStream) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("stream (last id %q, retry %d, err %v)", s.lastID, s.retry, s.err)
}
