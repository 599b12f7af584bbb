package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The issuer and audience test tokens carry by default.
const (
	Issuer   = "https://id.example.com/"
	Audience = "linkbff-tests"
)

// Key ids in the identity provider's JWKS.
const (
	RSAKeyID = "rsa-1"
	ECKeyID  = "ec-1"
)

// IdentityProvider serves a JWKS as Auth0 or Clerk would, with one RSA
// and one P-256 key, and signs tokens with them.
type IdentityProvider struct {
	RSAKey  *rsa.PrivateKey
	ECKey   *ecdsa.PrivateKey
	JWKSURL string
}

// NewIdentityProvider starts a JWKS server that stops with the test.
func NewIdentityProvider(t testing.TB) *IdentityProvider {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	jwks := map[string]any{"keys": []map[string]string{
		{"kty": "RSA", "kid": RSAKeyID, "alg": "RS256", "use": "sig", "n": b64(rsaKey.N.Bytes()), "e": b64(big.NewInt(int64(rsaKey.E)).Bytes())},
		{"kty": "EC", "kid": ECKeyID, "alg": "ES256", "use": "sig", "crv": "P-256", "x": b64(ecKey.X.FillBytes(make([]byte, 32))), "y": b64(ecKey.Y.FillBytes(make([]byte, 32)))},
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jwks)
	}))
	t.Cleanup(srv.Close)
	return &IdentityProvider{RSAKey: rsaKey, ECKey: ecKey, JWKSURL: srv.URL}
}

// Env is linkbff's configuration for trusting this provider.
func (p *IdentityProvider) Env() map[string]string {
	return map[string]string{"AUTH_JWKS_URL": p.JWKSURL, "AUTH_ISSUER": Issuer, "AUTH_AUDIENCE": Audience}
}

// Claims are valid claims for sub (an hour to live), changed by mutate.
func Claims(sub string, mutate ...func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"sub": sub, "iss": Issuer, "aud": Audience, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	for _, m := range mutate {
		m(c)
	}
	return c
}

// Sign signs claims with the RSA key (RS256).
func (p *IdentityProvider) Sign(t testing.TB, c jwt.MapClaims) string {
	t.Helper()
	return sign(t, jwt.SigningMethodRS256, RSAKeyID, c, p.RSAKey)
}

// SignES256 signs claims with the P-256 key.
func (p *IdentityProvider) SignES256(t testing.TB, c jwt.MapClaims) string {
	t.Helper()
	return sign(t, jwt.SigningMethodES256, ECKeyID, c, p.ECKey)
}

// SignHS256 signs claims with a shared secret, as AUTH_HS256_SECRET
// deployments do.
func SignHS256(t testing.TB, secret string, c jwt.MapClaims) string {
	t.Helper()
	return sign(t, jwt.SigningMethodHS256, "", c, []byte(secret))
}

func sign(t testing.TB, method jwt.SigningMethod, kid string, c jwt.MapClaims, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
