package auth

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

func TestVerifyJWKSMode(t *testing.T) {
	rsaSigner := newRSASigner(t, "rsa-1")
	ecSigner := newECSigner(t, "ec-1")
	edSigner := newEdSigner(t, "ed-1")
	server := newJWKSServer(t, rsaSigner, ecSigner, edSigner)
	verifier := mustVerifier(t, jwksConfig(server.URL))

	// An impostor holding a different RSA key claims the published kid.
	impostor := newRSASigner(t, rsaSigner.kid)
	// A key the JWKS does not publish.
	stranger := newRSASigner(t, "never-published")
	// ES256 header pointing at the RSA key: kid and alg disagree.
	ecUsingRSAKid := ecSigner
	ecUsingRSAKid.kid = rsaSigner.kid

	publicDER, err := x509.MarshalPKIXPublicKey(rsaSigner.public)
	if err != nil {
		t.Fatal(err)
	}
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: publicDER})
	modulus := rsaSigner.public.(*rsa.PublicKey).N.Bytes()

	now := time.Now()
	tests := []struct {
		name       string
		token      string
		wantUserID string
		wantReason error // checked with errors.Is when set
	}{
		{name: "RS256", token: rsaSigner.sign(t, validClaims()), wantUserID: testUserID},
		{name: "ES256", token: ecSigner.sign(t, validClaims()), wantUserID: testUserID},
		{name: "EdDSA", token: edSigner.sign(t, validClaims()), wantUserID: testUserID},
		{name: "no kid tries every published key", token: testSigner{method: rsaSigner.method, private: rsaSigner.private}.sign(t, validClaims()), wantUserID: testUserID},
		{name: "aud as array containing ours", token: rsaSigner.sign(t, claimsWith(map[string]any{"aud": []string{"other", testAudience}})), wantUserID: testUserID},

		{name: "empty token", token: ""},
		{name: "garbage", token: "not-a-jwt", wantReason: jwt.ErrTokenMalformed},
		{name: "too long", token: strings.Repeat("a", maxTokenBytes+1), wantReason: errTokenTooLong},
		{name: "alg none", token: unsignedToken(t, rsaSigner.kid, validClaims()), wantReason: jwt.ErrTokenSignatureInvalid},
		{name: "alg confusion: HS256 keyed with RSA public PEM", token: signHS(t, jwt.SigningMethodHS256, publicPEM, rsaSigner.kid, validClaims()), wantReason: jwt.ErrTokenSignatureInvalid},
		{name: "alg confusion: HS256 keyed with RSA public DER", token: signHS(t, jwt.SigningMethodHS256, publicDER, rsaSigner.kid, validClaims()), wantReason: jwt.ErrTokenSignatureInvalid},
		{name: "alg confusion: HS256 keyed with RSA modulus", token: signHS(t, jwt.SigningMethodHS256, modulus, rsaSigner.kid, validClaims()), wantReason: jwt.ErrTokenSignatureInvalid},
		{name: "RS384 not in default allowlist", token: testSigner{kid: rsaSigner.kid, method: jwt.SigningMethodRS384, private: rsaSigner.private}.sign(t, validClaims()), wantReason: jwt.ErrTokenSignatureInvalid},
		{name: "signed by impostor key with published kid", token: impostor.sign(t, validClaims()), wantReason: jwt.ErrTokenSignatureInvalid},
		{name: "kid and alg disagree", token: ecUsingRSAKid.sign(t, validClaims()), wantReason: jwt.ErrTokenUnverifiable},
		{name: "unknown kid", token: stranger.sign(t, validClaims()), wantReason: jwkset.ErrKeyNotFound},
		{name: "expired", token: rsaSigner.sign(t, claimsWith(map[string]any{"exp": now.Add(-2 * time.Minute).Unix()})), wantReason: jwt.ErrTokenExpired},
		{name: "exp missing", token: rsaSigner.sign(t, claimsWith(map[string]any{"exp": nil})), wantReason: jwt.ErrTokenRequiredClaimMissing},
		{name: "nbf in the future", token: rsaSigner.sign(t, claimsWith(map[string]any{"nbf": now.Add(2 * time.Minute).Unix()})), wantReason: jwt.ErrTokenNotValidYet},
		{name: "iat in the future", token: rsaSigner.sign(t, claimsWith(map[string]any{"iat": now.Add(2 * time.Minute).Unix()})), wantReason: jwt.ErrTokenUsedBeforeIssued},
		{name: "wrong issuer", token: rsaSigner.sign(t, claimsWith(map[string]any{"iss": "https://evil.example.com/"})), wantReason: jwt.ErrTokenInvalidIssuer},
		{name: "issuer missing", token: rsaSigner.sign(t, claimsWith(map[string]any{"iss": nil})), wantReason: jwt.ErrTokenRequiredClaimMissing},
		{name: "wrong audience", token: rsaSigner.sign(t, claimsWith(map[string]any{"aud": "https://other.example.com"})), wantReason: jwt.ErrTokenInvalidAudience},
		{name: "audiences without ours", token: rsaSigner.sign(t, claimsWith(map[string]any{"aud": []string{"https://other.example.com", strings.ToUpper(testAudience)}})), wantReason: jwt.ErrTokenInvalidAudience},
		{name: "audience missing", token: rsaSigner.sign(t, claimsWith(map[string]any{"aud": nil})), wantReason: jwt.ErrTokenRequiredClaimMissing},
		{name: "sub empty", token: rsaSigner.sign(t, claimsWith(map[string]any{"sub": ""}))},
		{name: "sub missing", token: rsaSigner.sign(t, claimsWith(map[string]any{"sub": nil}))},
		{name: "sub not a string", token: rsaSigner.sign(t, claimsWith(map[string]any{"sub": 42}))},
		{name: "tampered payload", token: tamperPayload(t, rsaSigner.sign(t, validClaims())), wantReason: jwt.ErrTokenSignatureInvalid},
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
			if principal != (Principal{}) {
				t.Errorf("principal = %+v on rejection, want zero", principal)
			}
		})
	}
}

// tamperPayload swaps the payload for one naming another user, keeping the
// original header and signature.
func tamperPayload(t testing.TB, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	forged := testSigner{method: jwt.SigningMethodHS256, private: []byte(testSecret)}.sign(t, claimsWith(map[string]any{"sub": "admin"}))
	parts[1] = strings.Split(forged, ".")[1]
	return strings.Join(parts, ".")
}

func TestVerifyJWKSWithoutAudienceConfigured(t *testing.T) {
	signer := newECSigner(t, "ec-1")
	server := newJWKSServer(t, signer)
	cfg := jwksConfig(server.URL)
	cfg.Audience = ""
	verifier := mustVerifier(t, cfg)

	for _, claims := range []map[string]any{{"aud": nil}, {"aud": "anything"}} {
		if _, err := verifier.Verify(t.Context(), signer.sign(t, claimsWith(claims))); err != nil {
			t.Errorf("claims %v: %v", claims, err)
		}
	}
}

func TestVerifyJWKSAllowlistNarrowsAlgorithms(t *testing.T) {
	rsaSigner := newRSASigner(t, "rsa-1")
	ecSigner := newECSigner(t, "ec-1")
	server := newJWKSServer(t, rsaSigner, ecSigner)
	cfg := jwksConfig(server.URL)
	cfg.Algorithms = []string{"ES256"}
	verifier := mustVerifier(t, cfg)

	if _, err := verifier.Verify(t.Context(), ecSigner.sign(t, validClaims())); err != nil {
		t.Fatalf("ES256: %v", err)
	}
	token := rsaSigner.sign(t, validClaims())
	_, err := verifier.Verify(t.Context(), token)
	if appErr := assertRejected(t, err, token); !errors.Is(appErr, jwt.ErrTokenSignatureInvalid) {
		t.Errorf("reason = %v, want signature invalid", appErr.Err)
	}
}

func TestVerifyCustomUserClaim(t *testing.T) {
	const claim = "https://example.com/app_user_id"
	signer := newEdSigner(t, "ed-1")
	server := newJWKSServer(t, signer)
	cfg := jwksConfig(server.URL)
	cfg.UserClaim = claim
	verifier := mustVerifier(t, cfg)

	tests := []struct {
		name   string
		claims map[string]any
		want   string // "" means rejected
	}{
		{name: "custom claim wins over sub", claims: map[string]any{claim: "app-user-7"}, want: "app-user-7"},
		{name: "custom claim missing though sub set", claims: map[string]any{}},
		{name: "custom claim empty", claims: map[string]any{claim: ""}},
		{name: "custom claim not a string", claims: map[string]any{claim: map[string]any{"id": "x"}}},
		{name: "custom claim blank", claims: map[string]any{claim: " \t "}},
		{name: "custom claim with NUL", claims: map[string]any{claim: "app-user-7\x00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := signer.sign(t, claimsWith(tc.claims))
			principal, err := verifier.Verify(t.Context(), token)
			if tc.want == "" {
				assertRejected(t, err, token)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if principal.UserID != tc.want {
				t.Fatalf("UserID = %q, want %q", principal.UserID, tc.want)
			}
		})
	}
}
