package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The identity provider the rig plays: linkbff trusts an HS256 secret or
// the JWKS the upstream serves.
const (
	benchIssuer   = "https://id.bench.example/"
	benchAudience = "linkbff-bench"
	rsaKeyID      = "bench-rsa"
	ecKeyID       = "bench-ec"
)

type identity struct {
	hsSecret []byte
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
}

func newIdentity() (*identity, error) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	return &identity{hsSecret: []byte(base64.RawURLEncoding.EncodeToString(secret)), rsaKey: rsaKey, ecKey: ecKey}, nil
}

// jwks is the public half, as an identity provider publishes it.
func (id *identity) jwks() []byte {
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	out, _ := json.Marshal(map[string]any{"keys": []map[string]string{
		{"kty": "RSA", "kid": rsaKeyID, "alg": "RS256", "use": "sig", "n": b64(id.rsaKey.N.Bytes()), "e": b64(big.NewInt(int64(id.rsaKey.E)).Bytes())},
		{"kty": "EC", "kid": ecKeyID, "alg": "ES256", "use": "sig", "crv": "P-256", "x": b64(id.ecKey.X.FillBytes(make([]byte, 32))), "y": b64(id.ecKey.Y.FillBytes(make([]byte, 32)))},
	}})
	return out
}

// Algorithms the rig signs with.
const (
	algHS256 = "HS256"
	algRS256 = "RS256"
	algES256 = "ES256"
)

// token signs an hour-long token for user.
func (id *identity) token(alg, user string) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{"sub": user, "iss": benchIssuer, "aud": benchAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	var t *jwt.Token
	var key any
	switch alg {
	case algHS256:
		t, key = jwt.NewWithClaims(jwt.SigningMethodHS256, claims), id.hsSecret
	case algRS256:
		t, key = jwt.NewWithClaims(jwt.SigningMethodRS256, claims), id.rsaKey
		t.Header["kid"] = rsaKeyID
	case algES256:
		t, key = jwt.NewWithClaims(jwt.SigningMethodES256, claims), id.ecKey
		t.Header["kid"] = ecKeyID
	default:
		return "", fmt.Errorf("unknown algorithm %s", alg)
	}
	return t.SignedString(key)
}

// writeTokens writes one token per user to path, for wrk's script.
func (id *identity) writeTokens(path, alg string, users []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, u := range users {
		tok, err := id.token(alg, u)
		if err != nil {
			f.Close()
			return err
		}
		w.WriteString(tok)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// userNames are n user names with prefix.
func userNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}
