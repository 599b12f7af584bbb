package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/linkbff/linkbff/internal/emulator"
)

const (
	testAPIKey   = "sk_us_e2eSECRETkeyDoNotLeak0123456789"
	testIssuer   = "https://id.example.com/"
	testAudience = "linkbff-tests"
)

// identityProvider serves a JWKS like Auth0 or Clerk would.
type identityProvider struct {
	rsaKey *rsa.PrivateKey
	ecKey  *ecdsa.PrivateKey
	srv    *httptest.Server
}

func newIdentityProvider(t *testing.T) *identityProvider {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	idp := &identityProvider{rsaKey: rsaKey, ecKey: ecKey}
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	jwks := map[string]any{"keys": []map[string]string{
		{"kty": "RSA", "kid": "rsa-1", "alg": "RS256", "use": "sig", "n": b64(rsaKey.N.Bytes()), "e": b64(big.NewInt(int64(rsaKey.E)).Bytes())},
		{"kty": "EC", "kid": "ec-1", "alg": "ES256", "use": "sig", "crv": "P-256", "x": b64(ecKey.X.FillBytes(make([]byte, 32))), "y": b64(ecKey.Y.FillBytes(make([]byte, 32)))},
	}}
	idp.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jwks)
	}))
	t.Cleanup(idp.srv.Close)
	return idp
}

func claims(sub string, mutate ...func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"sub": sub, "iss": testIssuer, "aud": testAudience, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	for _, m := range mutate {
		m(c)
	}
	return c
}

func (idp *identityProvider) sign(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = "rsa-1"
	s, err := tok.SignedString(idp.rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// prodEnv is linkbff in production mode against a separately started
// emulator (standing in for api.junction.com) and a JWKS.
type prodEnv struct {
	*testServer
	idp   *identityProvider
	emu   *emulator.Emulator
	calls *callCounter
}

// callCounter counts requests to the emulator by path.
type callCounter struct {
	mu     sync.Mutex
	byPath map[string]int
}

func (c *callCounter) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byPath[path]
}

func productionServer(t *testing.T, extra map[string]string) *prodEnv {
	t.Helper()
	idp := newIdentityProvider(t)
	emuSrv := httptest.NewUnstartedServer(nil)
	emu, err := emulator.New(emulator.Config{APIKey: testAPIKey, PublicURL: "http://" + emuSrv.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	calls := &callCounter{byPath: map[string]int{}}
	emuSrv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.mu.Lock()
		calls.byPath[r.Method+" "+r.URL.Path]++
		calls.mu.Unlock()
		emu.Handler().ServeHTTP(w, r)
	})
	emuSrv.Start()
	t.Cleanup(func() { emuSrv.Close(); emu.Close() })
	addr := freeAddr(t)
	env := map[string]string{
		"JUNCTION_API_KEY":    testAPIKey,
		"JUNCTION_BASE_URL":   emuSrv.URL,
		"LISTEN_ADDR":         addr,
		"PUBLIC_URL":          "http://" + addr,
		"AUTH_JWKS_URL":       idp.srv.URL,
		"AUTH_ISSUER":         testIssuer,
		"AUTH_AUDIENCE":       testAudience,
		"ALLOWED_RETURN_URLS": "https://app.example.com",
		"RATE_LIMIT_USER":     "off",
	}
	for k, v := range extra {
		env[k] = v
	}
	return &prodEnv{testServer: startServer(t, env), idp: idp, emu: emu, calls: calls}
}

// freeAddr picks a free loopback port, for servers whose PUBLIC_URL must be
// known before they start.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestJWTFailuresAreRejected(t *testing.T) {
	s := productionServer(t, nil)
	idp := s.idp
	hsAgainstJWKS := func() string {
		// Algorithm confusion: HS256 keyed with the RSA public key.
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims("mallory"))
		tok.Header["kid"] = "rsa-1"
		pub, _ := json.Marshal(idp.rsaKey.PublicKey)
		str, _ := tok.SignedString(pub)
		return str
	}
	algNone := func() string {
		str, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims("mallory")).SignedString(jwt.UnsafeAllowNoneSignatureType)
		return str
	}
	unknownKid := func() string {
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims("mallory"))
		tok.Header["kid"] = "rotated-away"
		str, _ := tok.SignedString(other)
		return str
	}
	tests := map[string]string{
		"no token":       "",
		"garbage":        "not.a.jwt",
		"alg none":       algNone(),
		"HS256 vs JWKS":  hsAgainstJWKS(),
		"unknown kid":    unknownKid(),
		"expired":        idp.sign(t, claims("mallory", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-5 * time.Minute).Unix() })),
		"no exp":         idp.sign(t, claims("mallory", func(c jwt.MapClaims) { delete(c, "exp") })),
		"wrong issuer":   idp.sign(t, claims("mallory", func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com/" })),
		"wrong audience": idp.sign(t, claims("mallory", func(c jwt.MapClaims) { c["aud"] = "someone-else" })),
		"empty subject":  idp.sign(t, claims("")),
	}
	for name, token := range tests {
		r := s.request(http.MethodPost, "/v1/link/token", token, nil)
		if r.Status != http.StatusUnauthorized || r.errorCode(t) != "unauthenticated" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: no WWW-Authenticate header", name)
		}
	}

	good := idp.sign(t, claims("user-1"))
	if r := s.request(http.MethodPost, "/v1/link/token", good, nil); r.Status != http.StatusOK {
		t.Fatalf("valid RS256 token refused: %d %s", r.Status, r.Body)
	}
	es := jwt.NewWithClaims(jwt.SigningMethodES256, claims("user-2"))
	es.Header["kid"] = "ec-1"
	esToken, _ := es.SignedString(idp.ecKey)
	if r := s.request(http.MethodPost, "/v1/link/token", esToken, nil); r.Status != http.StatusOK {
		t.Fatalf("valid ES256 token refused: %d %s", r.Status, r.Body)
	}
	// The dev sign-in does not exist outside dev mode.
	if r := s.request(http.MethodPost, "/_dev/token", "", map[string]string{"user": "x"}); r.Status != http.StatusNotFound {
		t.Fatalf("/_dev/token in production mode: %d", r.Status)
	}
}

func TestConcurrentFirstRequestsCreateOneJunctionUser(t *testing.T) {
	s := productionServer(t, nil)
	token := s.idp.sign(t, claims("first-timer"))
	var wg sync.WaitGroup
	statuses := make(chan int, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- s.request(http.MethodPost, "/v1/link/token", token, nil).Status
		}()
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != http.StatusOK {
			t.Errorf("a concurrent first request got %d", st)
		}
	}
	if n := s.emu.UserCount(); n != 1 {
		t.Fatalf("50 concurrent first requests created %d Junction users, want 1", n)
	}
}

// Secrets never reach a response or a log line, whatever happens.
func TestSecretsNeverLeak(t *testing.T) {
	s := productionServer(t, map[string]string{"LOG_LEVEL": "debug", "JUNCTION_WEBHOOK_SECRET": testWebhookSecret})
	idp := s.idp
	token := idp.sign(t, claims("leak-check"))
	expired := idp.sign(t, claims("leak-check", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }))
	var bodies []string
	record := func(r response) {
		bodies = append(bodies, string(r.Body))
		for k, v := range r.Header {
			bodies = append(bodies, k+": "+strings.Join(v, ","))
		}
	}
	lt := s.newLinkToken(token, map[string]any{"provider": "oura", "return_to": "https://app.example.com/x"})
	record(s.request(http.MethodPost, "/v1/link/token", token, map[string]any{"provider": "oura"}))
	record(s.request(http.MethodPost, "/v1/link/token", expired, nil))
	record(s.request(http.MethodPost, "/v1/link/token", token, map[string]any{"provider": "no_such_provider"}))
	record(s.request(http.MethodGet, "/v1/link/oauth/oura", token, nil))
	record(s.request(http.MethodGet, "/v1/connections", token, nil))
	record(s.request(http.MethodGet, "/v1/providers", token, nil))
	record(s.request(http.MethodPost, "/v1/mobile/sign-in-token", token, nil))
	record(s.request(http.MethodGet, s.finishLink(lt, "oura", act("approve")), "", nil))
	record(s.request(http.MethodGet, "/readyz", "", nil))
	body := createdEvent(s.junctionUserID(token), "oura")
	record(s.deliver(signedWebhook(t, testWebhookSecret, "msg_leak", time.Now(), body), body))
	record(s.deliver(signedWebhook(t, "whsec_"+"b3RoZXJzZWNyZXRvdGhlcnNlY3JldA==", "msg_leak2", time.Now(), body), body))
	s.stop()

	logs := s.logs.String()
	if !strings.Contains(logs, `"message":"request"`) {
		t.Fatal("no access log lines captured")
	}
	for _, secret := range []string{testAPIKey, token, expired, lt.LinkToken, strings.TrimPrefix(testWebhookSecret, "whsec_")} {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret (%.12s…) appears in the log", secret)
		}
	}
	for _, b := range bodies {
		if strings.Contains(b, testAPIKey) || strings.Contains(b, token) || strings.Contains(b, strings.TrimPrefix(testWebhookSecret, "whsec_")) {
			t.Errorf("a secret appears in a response: %.200s", b)
		}
	}
	if strings.Contains(logs, "state=success") || strings.Contains(logs, "?token=") {
		t.Error("a query string reached the log")
	}
}

func TestMisconfigurationFailsClearly(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{"JUNCTION_API_KEY": testAPIKey}, []string{"PUBLIC_URL", "AUTH_JWKS_URL or AUTH_HS256_SECRET", "AUTH_ISSUER"}},
		{map[string]string{"JUNCTION_API_KEY": testAPIKey, "PUBLIC_URL": "https://x", "AUTH_HS256_SECRET": "short", "AUTH_ISSUER": "i"}, []string{"AUTH_HS256_SECRET must be at least 32 bytes"}},
		{map[string]string{"LISTEN_ADDR": "nonsense"}, []string{"LISTEN_ADDR"}},
		{map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "PROVIDERS_ALLOWLIST": "oura,Fit Bit"}, []string{"PROVIDERS_ALLOWLIST", "Fit Bit"}},
		{map[string]string{"DATABASE_URL": "sqlite:/nonexistent-dir/x/y.db", "LISTEN_ADDR": "127.0.0.1:0"}, []string{"SQLite"}},
	}
	for _, tc := range tests {
		var stderr strings.Builder
		err := run(t.Context(), []string{"server"}, func(k string) string { return tc.env[k] }, &strings.Builder{}, &stderr)
		if err == nil {
			t.Errorf("run(%v) started", tc.env)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
		if strings.Contains(err.Error(), testAPIKey) {
			t.Errorf("error leaks the API key")
		}
	}
}

func TestHelpListsEveryVariable(t *testing.T) {
	var stderr strings.Builder
	if err := run(t.Context(), []string{"server", "-h"}, func(string) string { return "" }, &strings.Builder{}, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"LISTEN_ADDR", "PUBLIC_URL", "DATABASE_URL", "JUNCTION_API_KEY", "JUNCTION_ENV", "JUNCTION_REGION", "JUNCTION_BASE_URL", "AUTH_JWKS_URL", "AUTH_HS256_SECRET", "AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_ALGORITHMS", "AUTH_USER_CLAIM", "CORS_ALLOWED_ORIGINS", "ALLOWED_RETURN_URLS", "PROVIDERS_ALLOWLIST", "LOG_LEVEL", "LOG_FORMAT"} {
		if !strings.Contains(stderr.String(), v) {
			t.Errorf("-h does not list %s", v)
		}
	}
}
