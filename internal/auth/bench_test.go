package auth

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func BenchmarkVerifyHS256(b *testing.B) {
	verifier := mustVerifier(b, hs256Config())
	benchmarkVerify(b, verifier, signHS(b, jwt.SigningMethodHS256, []byte(testSecret), "", validClaims()))
}

func BenchmarkVerifyRS256(b *testing.B) {
	signer := newRSASigner(b, "bench")
	verifier := mustVerifier(b, jwksConfig(newJWKSServer(b, signer).URL))
	benchmarkVerify(b, verifier, signer.sign(b, validClaims()))
}

func BenchmarkVerifyES256(b *testing.B) {
	signer := newECSigner(b, "bench")
	verifier := mustVerifier(b, jwksConfig(newJWKSServer(b, signer).URL))
	benchmarkVerify(b, verifier, signer.sign(b, validClaims()))
}

// benchmarkVerify measures a token's first use (full verification) and
// its later uses (remembered).
func benchmarkVerify(b *testing.B, v *Verifier, token string) {
	b.Run("first", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v.verified.entries.Purge()
			if _, err := v.Verify(b.Context(), token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("again", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(b.Context(), token); err != nil {
				b.Fatal(err)
			}
		}
	})
}
