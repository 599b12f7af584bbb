package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testServer is linkbff started through run() on 127.0.0.1:0, as a user
// would start it, with its log captured.
type testServer struct {
	t    testing.TB
	URL  string
	logs *logSink
	stop func()
}

// logSink collects the JSON log and reports the listening line.
type logSink struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	listening chan string
	once      sync.Once
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	for _, line := range strings.Split(string(p), "\n") {
		if strings.Contains(line, `"message":"linkbff listening"`) {
			var entry struct {
				PublicURL string `json:"public_url"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil {
				s.once.Do(func() { s.listening <- entry.PublicURL })
			}
		}
	}
	return len(p), nil
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// startServer runs linkbff with env on top of test defaults (dev mode,
// SQLite in a temp dir, any free port) and stops it when the test ends.
func startServer(t testing.TB, env map[string]string) *testServer {
	t.Helper()
	vars := map[string]string{
		"LISTEN_ADDR":  "127.0.0.1:0",
		"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "linkbff.db"),
		"LOG_LEVEL":    "debug",
	}
	for k, v := range env {
		vars[k] = v
	}
	logs := &logSink{listening: make(chan string, 1)}
	var stderr bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"server"}, func(k string) string { return vars[k] }, logs, &stderr)
	}()
	s := &testServer{t: t, logs: logs}
	select {
	case s.URL = <-logs.listening:
	case err := <-done:
		cancel()
		t.Fatalf("run returned before listening: %v\n%s", err, logs)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("server did not start\n%s", logs)
	}
	var stopOnce sync.Once
	s.stop = func() {
		stopOnce.Do(func() {
			// Connections the client dialed but never used look busy to
			// Shutdown for 5 s; a client hanging up lets it finish at once.
			noRedirects.CloseIdleConnections()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run returned %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("server did not shut down")
			}
		})
	}
	t.Cleanup(s.stop)
	return s
}

// noRedirects is a client that shows each redirect instead of following it.
var noRedirects = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response %d is not JSON: %v\n%s", r.Status, err, r.Body)
	}
}

// errorCode returns the API error's code, failing when the body has not
// the {"error":{"code","message"}} shape.
func (r response) errorCode(t testing.TB) string {
	t.Helper()
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	r.json(t, &body)
	if body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("error body lacks code or message: %s", r.Body)
	}
	return body.Error.Code
}

// request sends a request; body may be nil, a string (sent raw) or a value
// encoded as JSON.
func (s *testServer) request(method, path, token string, body any, headers ...string) response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	target := path
	if strings.HasPrefix(path, "/") {
		target = s.URL + path
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// devToken signs in through the dev sign-in.
func (s *testServer) devToken(user string) string {
	s.t.Helper()
	r := s.request(http.MethodPost, "/_dev/token", "", map[string]string{"user": user})
	if r.Status != http.StatusOK {
		s.t.Fatalf("dev token: %d %s", r.Status, r.Body)
	}
	var body struct{ Token string }
	r.json(s.t, &body)
	return body.Token
}

type linkToken struct {
	LinkToken  string `json:"link_token"`
	LinkWebURL string `json:"link_web_url"`
}

func (s *testServer) newLinkToken(token string, body map[string]any) linkToken {
	s.t.Helper()
	r := s.request(http.MethodPost, "/v1/link/token", token, body)
	if r.Status != http.StatusOK {
		s.t.Fatalf("link token: %d %s", r.Status, r.Body)
	}
	var lt linkToken
	r.json(s.t, &lt)
	if lt.LinkToken == "" || lt.LinkWebURL == "" {
		s.t.Fatalf("link token response incomplete: %s", r.Body)
	}
	return lt
}

// finishLink acts as the user's browser on the (emulated) hosted Link page:
// opens link_web_url, presses action for provider, and returns the
// emulator's redirect target: the linkbff callback URL with its outcome.
func (s *testServer) finishLink(lt linkToken, provider string, action url.Values) string {
	s.t.Helper()
	page := s.request(http.MethodGet, lt.LinkWebURL, "", nil)
	if page.Status != http.StatusOK && page.Status != http.StatusTemporaryRedirect && page.Status != http.StatusFound && page.Status != http.StatusSeeOther {
		s.t.Fatalf("link page: %d %s", page.Status, page.Body)
	}
	u, err := url.Parse(lt.LinkWebURL)
	if err != nil {
		s.t.Fatal(err)
	}
	q := url.Values{"token": {lt.LinkToken}, "provider": {provider}}
	for k, v := range action {
		q[k] = v
	}
	base := u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, "/link/")
	r := s.request(http.MethodGet, base+"/link/complete?"+q.Encode(), "", nil)
	if r.Status != http.StatusTemporaryRedirect {
		s.t.Fatalf("link complete: want 307, got %d %s", r.Status, r.Body)
	}
	return r.Header.Get("Location")
}

func act(action string, kv ...string) url.Values {
	v := url.Values{"action": {action}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// eventually polls cond until it holds or 15 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
