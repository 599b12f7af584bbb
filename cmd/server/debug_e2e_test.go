package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/testkit"
)

func TestDebugAddrServesTheProfilerOnItsOwnListener(t *testing.T) {
	s := testkit.Start(t, run, map[string]string{"DEBUG_ADDR": "127.0.0.1:0"})
	var debugURL string
	select {
	case line := <-s.Logs.Await(func(line string) bool { return strings.Contains(line, debugListening) }):
		var entry struct{ URL string }
		if err := json.Unmarshal([]byte(line), &entry); err != nil || !strings.HasPrefix(entry.URL, "http://127.0.0.1:") {
			t.Fatalf("debug listener line %s: %v", line, err)
		}
		debugURL = entry.URL
	case <-time.After(5 * time.Second):
		t.Fatalf("no debug listener logged\n%s", s.Logs)
	}
	res, err := http.Get(debugURL + "goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
		t.Fatalf("pprof on DEBUG_ADDR: %d %.200s", res.StatusCode, body)
	}
	if r := s.Request(http.MethodGet, "/debug/pprof/", "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("the API port serves the profiler: %d", r.Status)
	}
}

func TestWithoutDebugAddrNoProfilerListens(t *testing.T) {
	s := testkit.Start(t, run, nil)
	if n := s.Logs.Count(debugListening); n != 0 {
		t.Fatalf("a profiler listens without DEBUG_ADDR:\n%s", s.Logs)
	}
}
