package auth

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// countKeyLookups makes v count how often a token's signature is checked.
func countKeyLookups(v *Verifier) *atomic.Int32 {
	var n atomic.Int32
	inner := v.keyfunc
	v.keyfunc = func(ctx context.Context) jwt.Keyfunc {
		lookup := inner(ctx)
		return func(t *jwt.Token) (any, error) {
			n.Add(1)
			return lookup(t)
		}
	}
	return &n
}

func TestATokenIsVerifiedOnce(t *testing.T) {
	for _, signer := range []testSigner{newRSASigner(t, "rsa"), newECSigner(t, "ec")} {
		t.Run(signer.method.Alg(), func(t *testing.T) {
			v := mustVerifier(t, jwksConfig(newJWKSServer(t, signer).URL))
			lookups := countKeyLookups(v)
			token := signer.sign(t, validClaims())
			for range 3 {
				p, err := v.Verify(t.Context(), token)
				if err != nil || p.UserID != testUserID {
					t.Fatalf("Verify: %+v, %v", p, err)
				}
			}
			if n := lookups.Load(); n != 1 {
				t.Fatalf("3 uses of one token checked its signature %d times, want 1", n)
			}
			other := signer.sign(t, claimsWith(map[string]any{"sub": "someone-else"}))
			if p, err := v.Verify(t.Context(), other); err != nil || p.UserID != "someone-else" {
				t.Fatalf("another token: %+v, %v", p, err)
			}
		})
	}
}

func TestARememberedTokenStillExpires(t *testing.T) {
	v := mustVerifier(t, hs256Config())
	lookups := countKeyLookups(v)
	now := time.Now()
	v.now = func() time.Time { return now }
	token := signHS(t, jwt.SigningMethodHS256, []byte(testSecret), "", claimsWith(map[string]any{"exp": now.Add(2 * time.Minute).Unix()}))
	if _, err := v.Verify(t.Context(), token); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2*time.Minute + defaultLeeway - time.Second) // within exp + leeway
	if _, err := v.Verify(t.Context(), token); err != nil {
		t.Fatalf("within the leeway: %v", err)
	}
	if n := lookups.Load(); n != 1 {
		t.Fatalf("signature checked %d times before expiry, want 1", n)
	}
	now = now.Add(2 * time.Second) // past exp + leeway
	assertRejected(t, func() error { _, err := v.Verify(t.Context(), token); return err }(), token)
}

func TestARememberedTokenIsVerifiedAgainAfterAWhile(t *testing.T) {
	v := mustVerifier(t, hs256Config())
	lookups := countKeyLookups(v)
	now := time.Now()
	v.now = func() time.Time { return now }
	token := signHS(t, jwt.SigningMethodHS256, []byte(testSecret), "", claimsWith(map[string]any{"exp": now.Add(time.Hour).Unix()}))
	for _, at := range []time.Duration{0, maxVerifiedAge - time.Second, maxVerifiedAge} {
		now = now.Add(at)
		if _, err := v.Verify(t.Context(), token); err != nil {
			t.Fatal(err)
		}
	}
	if n := lookups.Load(); n != 2 {
		t.Fatalf("signature checked %d times over %s, want 2 (once more after %s)", n, 2*maxVerifiedAge, maxVerifiedAge)
	}
}

func TestRejectedTokensAreNotRemembered(t *testing.T) {
	v := mustVerifier(t, hs256Config())
	lookups := countKeyLookups(v)
	forged := signHS(t, jwt.SigningMethodHS256, []byte("another-secret-of-at-least-32-bytes!"), "", validClaims())
	for range 2 {
		assertRejected(t, func() error { _, err := v.Verify(t.Context(), forged); return err }(), forged)
	}
	if n := lookups.Load(); n != 2 {
		t.Fatalf("a forged token was checked %d times in 2 uses, want 2", n)
	}
}
