package auth

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

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
	assertRejected(t, err, token)
	if got := server.fetches.Load(); got != 2 {
		t.Fatalf("fetches = %d, want still 2", got)
	}
}

// The default limit, not a test's hour: a flood of unknown kids costs the
// identity provider one fetch per 30 s.
func TestUnknownKIDFloodIsRateLimited(t *testing.T) {
	known := newRSASigner(t, "known")
	server := newJWKSServer(t, known)
	cfg := jwksConfig(server.URL)
	cfg.JWKSUnknownKIDRateLimit = 0
	verifier := mustVerifier(t, cfg)

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

// verifyWithin runs Verify and fails the test if it has not returned after
// limit, far longer than the refusal should take.
func verifyWithin(t *testing.T, ctx context.Context, verifier *Verifier, token string, limit time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := verifier.Verify(ctx, token)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		t.Fatalf("Verify still waiting after %s", limit)
		return nil
	}
}

// Once the limiter is spent, an unknown kid is refused at once rather than
// holding the request until the next refresh is allowed (30 s later).
func TestUnknownKIDIsRefusedAtOnceWhileLimited(t *testing.T) {
	server := newJWKSServer(t, newRSASigner(t, "known"))
	cfg := jwksConfig(server.URL)
	cfg.JWKSUnknownKIDRateLimit = 0
	verifier := mustVerifier(t, cfg)

	for _, kid := range []string{"ghost-1", "ghost-2"} {
		token := newEdSigner(t, kid).sign(t, validClaims())
		// t.Context() has no deadline: only the verifier bounds the wait.
		assertRejected(t, verifyWithin(t, t.Context(), verifier, token, 5*time.Second), token)
	}
	if got := server.fetches.Load(); got != 2 {
		t.Fatalf("fetches = %d, want 2 (start + one unknown-kid refresh)", got)
	}
}

// An unknown-kid refresh against a JWKS that does not answer ends with the
// request's deadline, not the 10 s fetch timeout.
func TestUnknownKIDRefreshEndsWithTheRequest(t *testing.T) {
	server := newJWKSServer(t, newRSASigner(t, "known"))
	verifier := mustVerifier(t, jwksConfig(server.URL))
	server.setStall(true)

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	token := newEdSigner(t, "rotated").sign(t, validClaims())
	assertRejected(t, verifyWithin(t, ctx, verifier, token, 5*time.Second), token)
	if got := server.fetches.Load(); got != 2 {
		t.Fatalf("fetches = %d, want 2 (start + the abandoned refresh)", got)
	}
}

func TestReadyWhenJWKSDownAtStartThenUp(t *testing.T) {
	signer := newRSASigner(t, "k1")
	server := newJWKSServer(t, signer)
	server.setDown(true)
	const querySecret = "s3cr3t-query-value"
	verifier := mustVerifier(t, jwksConfig(server.URL+"/jwks?token="+querySecret))

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

// jwkset quotes the whole URL in connection errors; Ready's cause, which
// /readyz logs, must not carry its credentials or query.
func TestNewVerifierDoesNotFailOnUnreachableJWKS(t *testing.T) {
	server := newJWKSServer(t)
	server.Close() // connection refused from now on
	const secret = "s3cr3t-query-value"
	url := strings.Replace(server.URL, "http://", "http://user:"+secret+"@", 1) + "/jwks?key=" + secret

	verifier, err := NewVerifier(t.Context(), jwksConfig(url))
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	err = verifier.Ready(t.Context())
	if err == nil {
		t.Fatal("Ready = nil for an unreachable JWKS")
	}
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("Ready error = %v, want the connection failure as cause", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("Ready error leaks the URL's credentials or query: %v", err)
	}
}

// Nothing but the verifier itself calls the JWKS again after a failed
// start: no token arrives while /readyz keeps the instance out of service.
func TestReadyRecoversWithoutTokens(t *testing.T) {
	server := newJWKSServer(t, newRSASigner(t, "k1"))
	server.setDown(true)
	verifier := mustVerifier(t, jwksConfig(server.URL))
	if err := verifier.Ready(t.Context()); err == nil {
		t.Fatal("Ready = nil with no keys loaded")
	}

	server.setDown(false)
	deadline := time.Now().Add(5 * time.Second)
	for verifier.Ready(t.Context()) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("Ready still failing 5s after the JWKS came back (%d fetches)", server.fetches.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBackgroundRefreshReplacesKeys(t *testing.T) {
	oldKey := newRSASigner(t, "old")
	newKey := newECSigner(t, "new")
	server := newJWKSServer(t, oldKey)
	cfg, err := jwksConfig(server.URL).withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	cfg.JWKSRefreshInterval = 50 * time.Millisecond // below Config's minimum
	verifier, err := newVerifier(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}

	server.publish(t, newKey)
	// Two scheduled fetches after the first: the one before last has stored
	// its keys by the time the last starts.
	deadline := time.Now().Add(5 * time.Second)
	for server.fetches.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("fetches = %d after 5s, want scheduled refreshes", server.fetches.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := verifier.Verify(t.Context(), newKey.sign(t, validClaims())); err != nil {
		t.Fatalf("key published since start: %v", err)
	}
	token := oldKey.sign(t, validClaims())
	_, err = verifier.Verify(t.Context(), token)
	assertRejected(t, err, token) // withdrawn by the identity provider
}

func TestFailedRefreshKeepsPreviousKeys(t *testing.T) {
	signer := newRSASigner(t, "k1")
	server := newJWKSServer(t, signer)
	verifier := mustVerifier(t, jwksConfig(server.URL))

	server.setDown(true)
	token := newEdSigner(t, "rotated").sign(t, validClaims())
	_, err := verifier.Verify(t.Context(), token)
	assertRejected(t, err, token)
	if got := server.fetches.Load(); got != 2 {
		t.Fatalf("fetches = %d, want 2 (start + the failed refresh)", got)
	}
	if _, err := verifier.Verify(t.Context(), signer.sign(t, validClaims())); err != nil {
		t.Fatalf("Verify after failed refresh: %v", err)
	}
	if err := verifier.Ready(t.Context()); err != nil {
		t.Fatalf("Ready after failed refresh with keys loaded: %v", err)
	}
}

// Which published keys verify tokens, and what happens to a document that
// offers none: jwkset would store an empty set, and keep encryption and
// symmetric keys, so the verifier filters what it stores.
func TestJWKSKeepsOnlySigningKeys(t *testing.T) {
	sigSigner := newECSigner(t, "sig")
	encSigner := newRSASigner(t, "enc")
	server := newJWKSServer(t, sigSigner, encSigner)
	keys := strings.Split(strings.TrimSuffix(strings.TrimPrefix(server.published(), `{"keys":[`), `]}`), `},{`)
	if len(keys) != 2 {
		t.Fatalf("published %d keys, want 2", len(keys))
	}
	sigKey := keys[0] + "}"
	encKey := "{" + strings.Replace(keys[1], `"use":"sig"`, `"use":"enc"`, 1)
	const octKey = `{"kty":"oct","kid":"hmac","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}`
	const unknownTypeKey = `{"kty":"AKP","kid":"post-quantum","alg":"ML-DSA-44","pub":"AAAA"}`
	const brokenKey = `{"kty":"RSA","kid":"broken","n":"!!","e":"AQAB"}`
	set := func(keys ...string) string { return `{"keys":[` + strings.Join(keys, ",") + `]}` }

	tests := []struct {
		name     string
		document string
		verifies []testSigner // nil: the document is refused and sigSigner, from the first document, still verifies
		refused  []testSigner
	}{
		{name: "signing key", document: set(sigKey), verifies: []testSigner{sigSigner}, refused: []testSigner{encSigner}},
		{name: "encryption, symmetric and unknown-type keys are skipped", document: set(encKey, octKey, unknownTypeKey, sigKey), verifies: []testSigner{sigSigner}, refused: []testSigner{encSigner}},
		{name: "only an encryption key", document: set(encKey), refused: []testSigner{encSigner}},
		{name: "only a symmetric key", document: set(octKey)},
		{name: "empty set", document: set()},
		{name: "a malformed key fails the whole document", document: set(brokenKey, encKey)},
		{name: "not JSON", document: `<html>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server.publish(t, sigSigner)
			verifier := mustVerifier(t, jwksConfig(server.URL))
			server.serve(tc.document)
			// A token with an unknown kid makes the verifier fetch the document.
			ghost := newEdSigner(t, "ghost").sign(t, validClaims())
			_, err := verifier.Verify(t.Context(), ghost)
			assertRejected(t, err, ghost)

			verifies := tc.verifies
			if verifies == nil {
				verifies = []testSigner{sigSigner}
			}
			for _, signer := range verifies {
				if _, err := verifier.Verify(t.Context(), signer.sign(t, validClaims())); err != nil {
					t.Errorf("token from %q: %v", signer.kid, err)
				}
			}
			for _, signer := range tc.refused {
				token := signer.sign(t, validClaims())
				_, err := verifier.Verify(t.Context(), token)
				assertRejected(t, err, token)
			}
			if err := verifier.Ready(t.Context()); err != nil {
				t.Errorf("Ready: %v", err)
			}
		})
	}
}

func TestJWKSWithoutSigningKeysAtStartIsNotReady(t *testing.T) {
	server := newJWKSServer(t)
	server.serve(`{"keys":[]}`)
	verifier := mustVerifier(t, jwksConfig(server.URL))
	err := verifier.Ready(t.Context())
	if err == nil || !strings.Contains(err.Error(), "no usable signing keys") {
		t.Fatalf("Ready = %v, want the empty key set as cause", err)
	}
}

// jwkset decodes the document without a size limit.
func TestOversizedJWKSIsRefused(t *testing.T) {
	signer := newRSASigner(t, "k1")
	server := newJWKSServer(t, signer)
	document := strings.TrimSuffix(server.published(), "}") + `,"padding":"` + strings.Repeat("a", maxJWKSBytes) + `"}`
	server.serve(document)
	verifier := mustVerifier(t, jwksConfig(server.URL))

	err := verifier.Ready(t.Context())
	if err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("Ready = %v, want the size limit as cause", err)
	}
	token := signer.sign(t, validClaims())
	_, err = verifier.Verify(t.Context(), token)
	assertRejected(t, err, token)
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
