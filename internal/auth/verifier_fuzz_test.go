package auth

// Fuzz tests for JWT verification. Plain `go test` runs the seeds; to fuzz:
//
//	go test ./internal/auth -run '^$' -fuzz '^FuzzVerifySignedPayload$' -fuzztime 10s
//	go test ./internal/auth -run '^$' -fuzz '^FuzzVerifyToken$' -fuzztime 10s

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/linkbff/linkbff/internal/linking"
)

// seedPayload is a claims document that verifies for the next minutes, with
// sub and any extra members given as raw JSON.
func seedPayload(sub string, extra ...string) string {
	now := time.Now().Unix()
	members := append([]string{
		fmt.Sprintf(`"iss":%q`, testIssuer),
		fmt.Sprintf(`"aud":%q`, testAudience),
		fmt.Sprintf(`"iat":%d`, now),
		fmt.Sprintf(`"exp":%d`, now+300),
	}, extra...)
	if sub != "" {
		members = append(members, `"sub":`+sub)
	}
	return "{" + strings.Join(members, ",") + "}"
}

// FuzzVerifySignedPayload signs whatever payload the fuzzer makes with the
// configured secret, so every mutation reaches claim checks and user-id
// extraction rather than stopping at the signature.
func FuzzVerifySignedPayload(f *testing.F) {
	for _, seed := range []string{
		seedPayload(`"user-123"`),
		seedPayload(`"alice\u0000"`),
		seedPayload(`"ali\u001bce"`),
		seedPayload(`"  \t "`),
		seedPayload("\"ali\xffce\""),
		seedPayload(`"ali\ud800ce"`),
		seedPayload(`"` + strings.Repeat("a", 255) + `"`),
		seedPayload(`"` + strings.Repeat("é", 128) + `"`),
		seedPayload(`"用户🙂"`),
		seedPayload(`42`),
		seedPayload(`null`),
		seedPayload(`["user-123"]`),
		seedPayload(`"first"`, `"sub":"\u0000second"`), // duplicate member: the last wins
		seedPayload(`"user-123"`, `"SUB":"other"`, `"ISS":"other"`),
		seedPayload(`"user-123"`, `"exp":9999999999`),
		seedPayload(`"user-123"`, `"exp":1e308`),
		seedPayload(`"user-123"`, `"iat":"yesterday"`),
		seedPayload(`"user-123"`, `"aud":["other","`+testAudience+`"]`),
		seedPayload(`"user-123"`, `"iss":"https://evil.example.com/"`),
		seedPayload(`"user-123"`, `"nbf":1e12`),
		seedPayload(""),
		`{}`, `[]`, `null`, `"sub"`, ``, `{"sub":`,
	} {
		f.Add([]byte(seed))
	}
	verifier := mustVerifier(f, hs256Config())

	f.Fuzz(func(t *testing.T, payload []byte) {
		token := signPayload(t, payload)
		principal, err := verifier.Verify(t.Context(), token)
		if err != nil {
			assertFuzzRejected(t, err, token)
			return
		}
		assertUsableUserID(t, principal.UserID)
		// A map, not a struct: struct fields would also match "SUB" or "Iss".
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatalf("accepted a payload encoding/json refuses: %v", err)
		}
		if claims["sub"] != principal.UserID || claims["iss"] != testIssuer {
			t.Fatalf("accepted user %q of issuer %q; the payload says %v of %v", principal.UserID, testIssuer, claims["sub"], claims["iss"])
		}
		iat, _ := claims["iat"].(float64)
		exp, _ := claims["exp"].(float64)
		if lifetime := exp - iat; lifetime > (24 * time.Hour).Seconds() {
			t.Fatalf("accepted a token living %gs", lifetime)
		}
	})
}

// FuzzVerifyToken feeds whole tokens: anything accepted must carry a valid
// HS256 signature by the configured secret.
func FuzzVerifyToken(f *testing.F) {
	secret := []byte(testSecret)
	valid := signHS(f, jwt.SigningMethodHS256, secret, "", validClaims())
	parts := strings.Split(valid, ".")
	for _, seed := range []string{
		valid,
		signHS(f, jwt.SigningMethodHS256, secret, "kid-1", validClaims()),
		signHS(f, jwt.SigningMethodHS256, []byte(testSecret+"x"), "", validClaims()),
		signHS(f, jwt.SigningMethodHS512, secret, "", validClaims()),
		signHS(f, jwt.SigningMethodHS256, secret, "", claimsWith(map[string]any{"sub": "a\x00b"})),
		unsignedToken(f, "", validClaims()),
		newRSASigner(f, "rsa").sign(f, validClaims()),
		tamperPayload(f, valid),
		parts[0] + "." + parts[1] + ".",
		parts[0] + ".." + parts[2],
		parts[0] + "." + parts[1] + "." + parts[2] + "." + parts[2],
		strings.ToUpper(valid),
		"..", "a.b.c", "", " ", "Bearer " + valid, strings.Repeat("a", maxTokenBytes+1),
	} {
		f.Add(seed)
	}
	verifier := mustVerifier(f, hs256Config())
	checkSignature := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation())

	f.Fuzz(func(t *testing.T, token string) {
		principal, err := verifier.Verify(t.Context(), token)
		if err != nil {
			assertFuzzRejected(t, err, token)
			return
		}
		assertUsableUserID(t, principal.UserID)
		if _, err := checkSignature.Parse(token, func(*jwt.Token) (any, error) { return secret, nil }); err != nil {
			t.Fatalf("accepted a token without a valid signature by the configured secret: %v", err)
		}
	})
}

// assertUsableUserID restates the user-id rules independently of the code
// under test.
func assertUsableUserID(t *testing.T, id string) {
	t.Helper()
	switch {
	case !utf8.ValidString(id):
		t.Fatalf("accepted a user id that is not valid UTF-8: %q", id)
	case strings.TrimSpace(id) == "":
		t.Fatalf("accepted a blank user id: %q", id)
	case len(id) > 255:
		t.Fatalf("accepted a user id of %d bytes", len(id))
	}
	for _, r := range id {
		if r < 0x20 || (0x7f <= r && r <= 0x9f) {
			t.Fatalf("accepted a user id with control character %U: %q", r, id)
		}
	}
}

// assertFuzzRejected is assertRejected for inputs so short that they may
// appear in any error text by chance.
func assertFuzzRejected(t *testing.T, err error, token string) {
	t.Helper()
	appErr, ok := linking.AsError(err)
	if !ok || appErr.Code != linking.EUnauthenticated || appErr.Message != invalidTokenMessage {
		t.Fatalf("error %v: want Unauthenticated with message %q", err, invalidTokenMessage)
	}
	if len(token) >= 32 && strings.Contains(err.Error(), token) {
		t.Fatalf("error text contains the token: %v", err)
	}
}
