package main

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/linkbff/linkbff/internal/testkit"
)

// BenchmarkLinkToken measures the app's hot path end to end: JWT check,
// user mapping lookup, session insert and a Junction (emulator) call over
// real HTTP, through the real server on SQLite.
func BenchmarkLinkToken(b *testing.B) {
	s := testkit.Start(b, run, map[string]string{"RATE_LIMIT_USER": "off", "LOG_LEVEL": "info"})
	tokens := make([]string, 16)
	for i := range tokens {
		tokens[i] = s.DevToken(fmt.Sprintf("bench-%d", i))
	}
	// A client of its own: the suite's, which checks every exchange against
	// the OpenAPI document, would be measured too.
	c := testkit.NewClient(b, s.URL)
	b.Cleanup(c.HTTP.CloseIdleConnections)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if r := c.Request(http.MethodPost, "/v1/link/token", tokens[i%len(tokens)], nil); r.Status != http.StatusOK {
				b.Errorf("status %d", r.Status)
			}
		}
	})
}
