package testkit

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
)

// LogSink collects a server's JSON log, line by line, and tells waiters
// when a line they look for arrives.
type LogSink struct {
	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	lines   []string
	waiters []waiter
}

type waiter struct {
	match func(line string) bool
	found chan string
}

func (s *LogSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all.Write(p)
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		line := string(s.partial[:i])
		s.partial = s.partial[i+1:]
		s.lines = append(s.lines, line)
		s.waiters = notify(s.waiters, line)
	}
	return len(p), nil
}

// notify hands line to each waiter it matches and keeps the others.
func notify(waiters []waiter, line string) []waiter {
	kept := waiters[:0]
	for _, w := range waiters {
		if w.match(line) {
			w.found <- line
			continue
		}
		kept = append(kept, w)
	}
	return kept
}

// String is the whole log so far.
func (s *LogSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.all.String()
}

// Lines are the complete lines so far.
func (s *LogSink) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// Count is how many times substr appears in the log so far.
func (s *LogSink) Count(substr string) int {
	return strings.Count(s.String(), substr)
}

// Await returns a channel that receives the first line, past or future,
// that match accepts.
func (s *LogSink) Await(match func(line string) bool) <-chan string {
	s.mu.Lock()
	defer s.mu.Unlock()
	found := make(chan string, 1)
	for _, line := range s.lines {
		if match(line) {
			found <- line
			return found
		}
	}
	s.waiters = append(s.waiters, waiter{match: match, found: found})
	return found
}

// The lines linkbff and the emulator log once they accept connections.
const (
	LinkbffListening  = "linkbff listening"
	EmulatorListening = "junction emulator listening"
)

// ListeningURL reads the public URL from a JSON log line whose message is
// message, as both servers log it when they start.
func ListeningURL(line, message string) (string, bool) {
	var entry struct {
		Message   string `json:"message"`
		PublicURL string `json:"public_url"`
	}
	if json.Unmarshal([]byte(line), &entry) != nil || entry.Message != message || entry.PublicURL == "" {
		return "", false
	}
	return entry.PublicURL, true
}
