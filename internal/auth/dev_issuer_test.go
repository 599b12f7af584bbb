package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/linkbff/linkbff/internal/linking"
)

func TestDevIssuerRoundTrip(t *testing.T) {
	issuer, err := NewDevIssuer("linkbff-dev-issuer", 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	verifier := mustVerifier(t, issuer.Config())

	before := time.Now()
	token, expiresAt, err := issuer.Issue("alice@example.com")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if lo, hi := before.Add(15*time.Minute-time.Second), time.Now().Add(15*time.Minute); expiresAt.Before(lo) || expiresAt.After(hi) {
		t.Errorf("expiresAt = %v, want about 15m from now", expiresAt)
	}
	principal, err := verifier.Verify(t.Context(), token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if want := (Principal{UserID: "alice@example.com", ExpiresAt: expiresAt.Truncate(time.Second)}); !principal.ExpiresAt.Equal(want.ExpiresAt) || principal.UserID != want.UserID {
		t.Fatalf("principal = %+v, want %+v (the token's exp)", principal, want)
	}

	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		t.Fatal(err)
	}
	exp, _ := claims.GetExpirationTime()
	if !exp.Time.Equal(expiresAt) {
		t.Errorf("exp claim %v != returned expiresAt %v", exp.Time, expiresAt)
	}
	if aud, _ := claims.GetAudience(); len(aud) != 1 || aud[0] != devAudience {
		t.Errorf("aud = %v, want [%s]", aud, devAudience)
	}
}

func TestDevIssuerKeysDifferPerInstance(t *testing.T) {
	first, err := NewDevIssuer("dev", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	second, err := NewDevIssuer("dev", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := first.Issue("bob")
	if err != nil {
		t.Fatal(err)
	}
	_, err = mustVerifier(t, second.Config()).Verify(t.Context(), token)
	if appErr := assertRejected(t, err, token); !errors.Is(appErr, jwt.ErrTokenSignatureInvalid) {
		t.Errorf("reason = %v, want signature invalid", appErr.Err)
	}
}

func TestDevIssuerRejectsBadUserIDs(t *testing.T) {
	issuer, err := NewDevIssuer("dev", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		userID string
		valid  bool
	}{
		{name: "letters digits and punctuation", userID: "A-z_0.9@x", valid: true},
		{name: "128 chars", userID: strings.Repeat("a", 128), valid: true},
		{name: "single char", userID: "a", valid: true},
		{name: "empty", userID: ""},
		{name: "129 chars", userID: strings.Repeat("a", 129)},
		{name: "space", userID: "a b"},
		{name: "slash", userID: "a/b"},
		{name: "plus", userID: "a+b"},
		{name: "non-ASCII letter", userID: "josé"},
		{name: "newline", userID: "a\nb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token, _, err := issuer.Issue(tc.userID)
			if tc.valid {
				if err != nil || token == "" {
					t.Fatalf("Issue(%q) = %q, %v; want a token", tc.userID, token, err)
				}
				return
			}
			appErr, ok := linking.AsError(err)
			if !ok || appErr.Code != linking.EInvalid || appErr.Field != "user" {
				t.Fatalf("Issue(%q) error = %v; want Invalid on field user", tc.userID, err)
			}
			if token != "" {
				t.Errorf("token returned with error")
			}
		})
	}
}

func TestNewDevIssuerValidation(t *testing.T) {
	tests := []struct {
		name   string
		issuer string
		ttl    time.Duration
	}{
		{name: "empty issuer", issuer: "", ttl: time.Minute},
		{name: "zero ttl", issuer: "dev", ttl: 0},
		{name: "negative ttl", issuer: "dev", ttl: -time.Minute},
		{name: "ttl above a day", issuer: "dev", ttl: 25 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewDevIssuer(tc.issuer, tc.ttl); err == nil {
				t.Fatal("NewDevIssuer succeeded, want error")
			}
		})
	}
}
