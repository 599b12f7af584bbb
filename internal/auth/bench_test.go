package auth

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func BenchmarkVerifyHS256(b *testing.B) {
	verifier := mustVerifier(b, hs256Config())
	token := signHS(b, jwt.SigningMethodHS256, []byte(testSecret), "", validClaims())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verifier.Verify(b.Context(), token); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRS256(b *testing.B) {
	signer := newRSASigner(b, "bench")
	server := newJWKSServer(b, signer)
	verifier := mustVerifier(b, jwksConfig(server.URL))
	token := signer.sign(b, validClaims())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verifier.Verify(b.Context(), token); err != nil {
			b.Fatal(err)
		}
	}
}
