package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func hs256Config() Config {
	return Config{HS256Secret: testSecret, Issuer: testIssuer, Audience: testAudience}
}

func TestVerifyHS256Mode(t *testing.T) {
	verifier := mustVerifier(t, hs256Config())
	secret := []byte(testSecret)
	now := time.Now()

	tests := []struct {
		name       string
		token      string
		wantUserID string
		wantReason error
	}{
		{name: "valid", token: signHS(t, jwt.SigningMethodHS256, secret, "", validClaims()), wantUserID: testUserID},
		{name: "kid header is ignored", token: signHS(t, jwt.SigningMethodHS256, secret, "any-kid", validClaims()), wantUserID: testUserID},
		{name: "wrong secret", token: signHS(t, jwt.SigningMethodHS256, []byte(testSecret+"x"), "", validClaims()), wantReason: jwt.ErrTokenSignatureInvalid},
		{name: "HS512 not in allowlist", token: signHS(t, jwt.SigningMethodHS512, secret, "", validClaims()), wantReason: jwt.ErrTokenSignatureInvalid},
		{name: "alg none", token: unsignedToken(t, "", validClaims()), wantReason: jwt.ErrTokenSignatureInvalid},
		{name: "RS256 token", token: newRSASigner(t, "").sign(t, validClaims()), wantReason: jwt.ErrTokenSignatureInvalid},
		{name: "expired", token: signHS(t, jwt.SigningMethodHS256, secret, "", claimsWith(map[string]any{"exp": now.Add(-time.Hour).Unix()})), wantReason: jwt.ErrTokenExpired},
		{name: "exp missing", token: signHS(t, jwt.SigningMethodHS256, secret, "", claimsWith(map[string]any{"exp": nil})), wantReason: jwt.ErrTokenRequiredClaimMissing},
		{name: "wrong issuer", token: signHS(t, jwt.SigningMethodHS256, secret, "", claimsWith(map[string]any{"iss": "someone-else"})), wantReason: jwt.ErrTokenInvalidIssuer},
		{name: "wrong audience", token: signHS(t, jwt.SigningMethodHS256, secret, "", claimsWith(map[string]any{"aud": "someone-else"})), wantReason: jwt.ErrTokenInvalidAudience},
		{name: "audiences without ours", token: signHS(t, jwt.SigningMethodHS256, secret, "", claimsWith(map[string]any{"aud": []string{"someone-else", testAudience + "/"}})), wantReason: jwt.ErrTokenInvalidAudience},
		{name: "audience missing", token: signHS(t, jwt.SigningMethodHS256, secret, "", claimsWith(map[string]any{"aud": nil})), wantReason: jwt.ErrTokenRequiredClaimMissing},
		{name: "audience empty", token: signHS(t, jwt.SigningMethodHS256, secret, "", claimsWith(map[string]any{"aud": []string{}})), wantReason: jwt.ErrTokenRequiredClaimMissing},
		{name: "empty sub", token: signHS(t, jwt.SigningMethodHS256, secret, "", claimsWith(map[string]any{"sub": ""}))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			principal, err := verifier.Verify(t.Context(), tc.token)
			if tc.wantUserID != "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if principal.UserID != tc.wantUserID || principal.ExpiresAt.IsZero() {
					t.Fatalf("principal = %+v, want user %q and the token's exp", principal, tc.wantUserID)
				}
				return
			}
			appErr := assertRejected(t, err, tc.token)
			if tc.wantReason != nil && !errors.Is(appErr, tc.wantReason) {
				t.Errorf("reason = %v, want %v", appErr.Err, tc.wantReason)
			}
		})
	}
}

func TestVerifyLeeway(t *testing.T) {
	secret := []byte(testSecret)
	// Offsets stay far from the leeway boundaries so a slow machine cannot
	// move a case across one.
	tests := []struct {
		name   string
		leeway time.Duration // 0 means the 30s default
		claims map[string]any
		accept bool
	}{
		{name: "expired 10s ago within default leeway", claims: map[string]any{"exp": -10}, accept: true},
		{name: "expired 50s ago beyond default leeway", claims: map[string]any{"exp": -50}},
		{name: "expired 10s ago beyond 1s leeway", leeway: time.Second, claims: map[string]any{"exp": -10}},
		{name: "expired 50s ago within 60s leeway", leeway: time.Minute, claims: map[string]any{"exp": -50}, accept: true},
		{name: "nbf 10s ahead within default leeway", claims: map[string]any{"nbf": 10}, accept: true},
		{name: "nbf 50s ahead beyond default leeway", claims: map[string]any{"nbf": 50}},
		{name: "iat 10s ahead within default leeway", claims: map[string]any{"iat": 10}, accept: true},
		{name: "iat 50s ahead beyond default leeway", claims: map[string]any{"iat": 50}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := hs256Config()
			cfg.Leeway = tc.leeway
			verifier := mustVerifier(t, cfg)
			now := time.Now()
			changes := map[string]any{}
			for claim, offsetSeconds := range tc.claims {
				changes[claim] = now.Add(time.Duration(offsetSeconds.(int)) * time.Second).Unix()
			}
			token := signHS(t, jwt.SigningMethodHS256, secret, "", claimsWith(changes))
			_, err := verifier.Verify(t.Context(), token)
			if tc.accept {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			assertRejected(t, err, token)
		})
	}
}
