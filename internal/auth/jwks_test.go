package auth

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/linkbff/linkbff/internal/linking"
)

func TestUnknownKIDRefreshPicksUpRotatedKey(t *testing.T) {
	oldKey := newRSASigner(t, "2024-key")
	newKey := newECSigner(t, "2025-key")
	server := newJWKSServer(t, oldKey)
	verifier := mustVerifier(t, jwksConfig(server.URL))
	if got := server.fetches.Load(); got != 1 {
		t.Fatalf("fetches after start = %d, want 1", got)
	}

	server.publish(t, oldKey, newKey)
	if _, err := verifier.Verify(t.Context(), newKey.sign(t, validClaims())); err != nil {
		t.Fatalf("token from rotated-in key: %v", err)
	}
	if _, err := verifier.Verify(t.Context(), oldKey.sign(t, validClaims())); err != nil {
		t.Fatalf("token from old key: %v", err)
	}
	if got := server.fetches.Load(); got != 2 {
		t.Fatalf("fetches = %d, want 2 (start + one unknown-kid refresh)", got)
	}

	// The limiter is spent for the hour: a key rotated in now must wait.
	laterKey := newEdSigner(t, "2026-key")
	server.publish(t, oldKey, newKey, laterKey)
	token := laterKey.sign(t, validClaims())
	_, err := verifier.Verify(t.Context(), token)
	if appErr := assertRejected(t, err, token); !errors.Is(appErr, errUnknownKIDRefreshLimited) {
		t.Errorf("reason = %v, want rate-limited refresh", appErr.Err)
	}
	if got := server.fetches.Load(); got != 2 {
		t.Fatalf("fetches = %d, want still 2", got)
	}
}

func TestUnknownKIDFloodIsRateLimited(t *testing.T) {
	known := newRSASigner(t, "known")
	server := newJWKSServer(t, known)
	verifier := mustVerifier(t, jwksConfig(server.URL))

	const attackers = 64
	tokens := make([]string, attackers)
	ghost := newEdSigner(t, "")
	for i := range tokens {
		ghost.kid = "ghost-" + strings.Repeat("x", i%5) + string(rune('a'+i%26))
		tokens[i] = ghost.sign(t, validClaims())
	}

	var wg sync.WaitGroup
	errs := make([]error, attackers)
	for i, token := range tokens {
		wg.Go(func() {
			_, errs[i] = verifier.Verify(t.Context(), token)
		})
	}
	wg.Wait()
	for i, err := range errs {
		assertRejected(t, err, tokens[i])
	}
	// One fetch at start, at most one refresh for the whole flood.
	if got := server.fetches.Load(); got > 2 {
		t.Fatalf("JWKS fetches = %d, want at most 2", got)
	}
	if _, err := verifier.Verify(t.Context(), known.sign(t, validClaims())); err != nil {
		t.Fatalf("known key after flood: %v", err)
	}
}

func TestReadyWhenJWKSDownAtStartThenUp(t *testing.T) {
	signer := newRSASigner(t, "k1")
	server := newJWKSServer(t, signer)
	server.setDown(true)
	const querySecret = "s3cr3t-query-value"
	verifier := mustVerifier(t, jwksConfig(server.URL+"/jwks?token="+querySecret))

	if got := verifier.Mode(); got != "jwks" {
		t.Fatalf("Mode = %q, want jwks", got)
	}
	err := verifier.Ready(t.Context())
	if err == nil {
		t.Fatal("Ready = nil with no keys loaded")
	}
	if !linking.IsCode(err, linking.EUpstreamUnavailable) || !strings.Contains(err.Error(), "no usable keys") {
		t.Errorf("Ready error = %v, want Unavailable saying no usable keys", err)
	}
	if !strings.Contains(err.Error(), "503") {
		t.Errorf("Ready error = %v, want the last fetch failure as cause", err)
	}
	if strings.Contains(err.Error(), querySecret) {
		t.Errorf("Ready error leaks the URL query: %v", err)
	}

	server.setDown(false)
	// A token makes the verifier refetch instead of waiting for its schedule.
	if _, err := verifier.Verify(t.Context(), signer.sign(t, validClaims())); err != nil {
		t.Fatalf("Verify after JWKS came up: %v", err)
	}
	if err := verifier.Ready(t.Context()); err != nil {
		t.Fatalf("Ready after keys loaded: %v", err)
	}
}

func TestNewVerifierDoesNotFailOnUnreachableJWKS(t *testing.T) {
	server := newJWKSServer(t)
	url := server.URL
	server.Close() // connection refused from now on

	verifier, err := NewVerifier(t.Context(), jwksConfig(url))
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	if err := verifier.Ready(t.Context()); err == nil {
		t.Fatal("Ready = nil for an unreachable JWKS")
	}
}

func TestParseSigningKeys(t *testing.T) {
	signer := newECSigner(t, "sig")
	server := newJWKSServer(t, signer)
	server.mu.Lock()
	published := string(server.body)
	server.mu.Unlock()
	sigKey := strings.TrimSuffix(strings.TrimPrefix(published, `{"keys":[`), `]}`)
	encKey := strings.Replace(sigKey, `"use":"sig"`, `"use":"enc"`, 1)
	const octKey = `{"kty":"oct","kid":"hmac","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}`
	const brokenKey = `{"kty":"RSA","kid":"broken","n":"!!","e":"AQAB"}`

	tests := []struct {
		name     string
		body     string
		wantKIDs []string // nil means an error
	}{
		{name: "signing key", body: published, wantKIDs: []string{"sig"}},
		{name: "enc, oct and broken keys skipped", body: `{"keys":[` + encKey + `,` + octKey + `,` + brokenKey + `,` + sigKey + `]}`, wantKIDs: []string{"sig"}},
		{name: "only unusable keys", body: `{"keys":[` + octKey + `,` + encKey + `]}`},
		{name: "empty set", body: `{"keys":[]}`},
		{name: "not JSON", body: `<html>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := parseSigningKeys([]byte(tc.body))
			if tc.wantKIDs == nil {
				if err == nil {
					t.Fatalf("parsed %d keys, want error", len(keys))
				}
				return
			}
			if err != nil {
				t.Fatalf("parseSigningKeys: %v", err)
			}
			var kids []string
			for _, key := range keys {
				kids = append(kids, key.Marshal().KID)
			}
			if strings.Join(kids, ",") != strings.Join(tc.wantKIDs, ",") {
				t.Fatalf("kids = %v, want %v", kids, tc.wantKIDs)
			}
		})
	}
}

func TestFailedRefreshKeepsPreviousKeys(t *testing.T) {
	signer := newRSASigner(t, "k1")
	server := newJWKSServer(t, signer)
	verifier := mustVerifier(t, jwksConfig(server.URL))

	server.setDown(true)
	if _, err := verifier.keys.refresh(t.Context(), false); err == nil {
		t.Fatal("refresh against a down JWKS succeeded")
	}
	if _, err := verifier.Verify(t.Context(), signer.sign(t, validClaims())); err != nil {
		t.Fatalf("Verify after failed refresh: %v", err)
	}
	if err := verifier.Ready(t.Context()); err != nil {
		t.Fatalf("Ready after failed refresh with keys loaded: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://idp.example.com/.well-known/jwks.json", "https://idp.example.com/.well-known/jwks.json"},
		{"https://user:pass@idp.example.com/jwks?key=secret#frag", "https://idp.example.com/jwks"},
	}
	for _, tc := range tests {
		if got := redactURL(tc.in); got != tc.want {
			t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
