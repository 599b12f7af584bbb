package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/linkbff/linkbff/internal/linking"
)

const (
	testIssuer   = "https://idp.example.com/"
	testAudience = "https://api.example.com"
	testUserID   = "user-123"
	testSecret   = "0123456789abcdef0123456789abcdef-test-secret"
)

// testSigner is a key pair the tests sign with and publish in a JWKS.
type testSigner struct {
	kid     string
	method  jwt.SigningMethod
	private any
	public  any
}

func newRSASigner(t testing.TB, kid string) testSigner {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return testSigner{kid: kid, method: jwt.SigningMethodRS256, private: key, public: &key.PublicKey}
}

func newECSigner(t testing.TB, kid string) testSigner {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testSigner{kid: kid, method: jwt.SigningMethodES256, private: key, public: &key.PublicKey}
}

func newEdSigner(t testing.TB, kid string) testSigner {
	t.Helper()
	public, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testSigner{kid: kid, method: jwt.SigningMethodEdDSA, private: private, public: public}
}

// sign returns a token with the signer's alg and kid (none when kid is "").
func (s testSigner) sign(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	token := jwt.NewWithClaims(s.method, claims)
	if s.kid != "" {
		token.Header["kid"] = s.kid
	}
	signed, err := token.SignedString(s.private)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// validClaims are claims every test verifier accepts; cases mutate a copy.
func validClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": testIssuer,
		"aud": testAudience,
		"sub": testUserID,
		"iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
	}
}

func claimsWith(changes map[string]any) jwt.MapClaims {
	claims := validClaims()
	for name, value := range changes {
		if value == nil {
			delete(claims, name)
			continue
		}
		claims[name] = value
	}
	return claims
}

func signHS(t testing.TB, method jwt.SigningMethod, secret []byte, kid string, claims jwt.MapClaims) string {
	t.Helper()
	token := jwt.NewWithClaims(method, claims)
	if kid != "" {
		token.Header["kid"] = kid
	}
	signed, err := token.SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// signPayload signs payload verbatim with HS256 and testSecret, so a test
// can send claims that jwt.MapClaims could not encode (invalid UTF-8, any
// JSON at all).
func signPayload(t testing.TB, payload []byte) string {
	t.Helper()
	encoding := base64.RawURLEncoding
	signingString := encoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + encoding.EncodeToString(payload)
	signature, err := jwt.SigningMethodHS256.Sign(signingString, []byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return signingString + "." + encoding.EncodeToString(signature)
}

func unsignedToken(t testing.TB, kid string, claims jwt.MapClaims) string {
	t.Helper()
	token := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
	if kid != "" {
		token.Header["kid"] = kid
	}
	signed, err := token.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// jwksServer serves the public keys of its signers and counts fetches.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int64

	mu    sync.Mutex
	body  []byte
	down  bool
	stall bool // hold each request until the client gives up
}

func newJWKSServer(t testing.TB, signers ...testSigner) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.publish(t, signers...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		body, down, stall := s.body, s.down, s.stall
		s.mu.Unlock()
		if stall {
			<-r.Context().Done()
			return
		}
		if down {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// publish replaces the served key set.
func (s *jwksServer) publish(t testing.TB, signers ...testSigner) {
	t.Helper()
	store := jwkset.NewMemoryStorage()
	for _, signer := range signers {
		jwk, err := jwkset.NewJWKFromKey(signer.public, jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: signer.kid, ALG: jwkset.ALG(signer.method.Alg()), USE: jwkset.UseSig},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.KeyWrite(context.Background(), jwk); err != nil {
			t.Fatal(err)
		}
	}
	body, err := store.JSONPublic(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.serve(string(body))
}

// serve replaces the served document with body as is.
func (s *jwksServer) serve(body string) {
	s.mu.Lock()
	s.body = []byte(body)
	s.mu.Unlock()
}

// published returns the document being served.
func (s *jwksServer) published() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.body)
}

func (s *jwksServer) setDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

func (s *jwksServer) setStall(stall bool) {
	s.mu.Lock()
	s.stall = stall
	s.mu.Unlock()
}

func jwksConfig(url string) Config {
	return Config{
		JWKSURL:  url,
		Issuer:   testIssuer,
		Audience: testAudience,
		// Long enough that no test sees a second limited refresh.
		JWKSUnknownKIDRateLimit: time.Hour,
	}
}

func mustVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	v, err := NewVerifier(t.Context(), cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// assertRejected checks the contract of every Verify failure: code
// Unauthenticated, the generic message, a cause for logs, and the token
// nowhere in the error text.
func assertRejected(t *testing.T, err error, token string) *linking.Error {
	t.Helper()
	if err == nil {
		t.Fatal("Verify accepted the token, want rejection")
	}
	appErr, ok := linking.AsError(err)
	if !ok || appErr.Code != linking.EUnauthenticated {
		t.Fatalf("error %v: want *linking.Error with code %q", err, linking.EUnauthenticated)
	}
	if appErr.Message != invalidTokenMessage {
		t.Errorf("message = %q, want %q", appErr.Message, invalidTokenMessage)
	}
	if appErr.Err == nil {
		t.Error("no wrapped cause for the logs")
	}
	if token != "" && strings.Contains(err.Error(), token) {
		t.Errorf("error text contains the token: %v", err)
	}
	return appErr
}
