package emulator

import (
	"fmt"
	"testing"
	"time"
)

func mintInto(s *tokenStore, name string, now time.Time, ttl time.Duration) {
	s.add(&linkToken{token: name, userID: "u", expiresAt: now.Add(ttl)}, now)
}

func TestTokenStoreForgetsAfterRetention(t *testing.T) {
	s := newTokenStore()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	mintInto(s, "old", start, time.Hour)
	mintInto(s, "newer", start.Add(time.Hour), time.Hour)

	// Expired but within retention: a late visit is told "expired".
	late := start.Add(2 * time.Hour)
	if _, status := s.check("old", late); status != tokenExpired {
		t.Fatalf("old token within retention: status %v, want expired", status)
	}
	// Minting after the retention period forgets exactly the tokens past it.
	mintInto(s, "trigger", start.Add(time.Hour+tokenRetention+time.Minute), time.Hour)
	if _, status := s.check("old", late); status != tokenInvalid {
		t.Errorf("old token past retention: status %v, want invalid (forgotten)", status)
	}
	if _, status := s.check("newer", late); status != tokenExpired {
		t.Errorf("newer token: status %v, want still remembered as expired", status)
	}
}

func TestTokenStoreBoundsMemory(t *testing.T) {
	s := newTokenStore()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const extra = 1000
	for i := range maxTokens + extra {
		mintInto(s, fmt.Sprint(i), now, time.Hour)
	}
	if n := len(s.byValue); n != maxTokens {
		t.Fatalf("%d tokens kept, want the cap %d", n, maxTokens)
	}
	if live := len(s.queue) - s.head; live != maxTokens {
		t.Fatalf("queue holds %d live entries, want %d", live, maxTokens)
	}
	if len(s.queue) > 2*maxTokens {
		t.Fatalf("queue never compacted: %d entries", len(s.queue))
	}
	if _, status := s.check(fmt.Sprint(extra-1), now); status != tokenInvalid {
		t.Errorf("an oldest token is still known (status %v)", status)
	}
	if _, status := s.check(fmt.Sprint(extra), now); status != tokenValid {
		t.Errorf("the oldest kept token: status %v, want valid", status)
	}
}

func TestTokenStoreConsumesOnce(t *testing.T) {
	s := newTokenStore()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	mintInto(s, "t", now, time.Minute)
	if _, status := s.consume("t", now); status != tokenValid {
		t.Fatalf("first use: %v", status)
	}
	if _, status := s.consume("t", now); status != tokenConsumed {
		t.Fatalf("second use: %v, want consumed", status)
	}
	if _, status := s.check("", now); status != tokenInvalid {
		t.Fatalf("empty token: %v", status)
	}
}
