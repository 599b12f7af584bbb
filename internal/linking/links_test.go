package linking

import (
	"testing"
	"time"
)

// Session ids must stay unguessable and match what the callback accepts,
// and increase with time so the stores append them to their id index.
func TestSessionIDsIncreaseAndStayRandom(t *testing.T) {
	start := time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)
	prev := newSessionID(start)
	seen := map[string]bool{prev: true}
	for i := 1; i < 2000; i++ {
		id := newSessionID(start.Add(time.Duration(i/2) * time.Millisecond)) // two per millisecond
		if !sessionIDPattern.MatchString(id) {
			t.Fatalf("session id %q does not match the callback's pattern", id)
		}
		if seen[id] {
			t.Fatalf("session id %q repeated", id)
		}
		seen[id] = true
		if i%2 == 0 && id <= prev {
			t.Fatalf("session id %q (a later millisecond) sorts before %q", id, prev)
		}
		prev = id
	}
}
