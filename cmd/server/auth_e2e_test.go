package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/linkbff/linkbff/internal/emulator"
	"github.com/linkbff/linkbff/internal/testkit"
)

const testAPIKey = "sk_us_e2eSECRETkeyDoNotLeak0123456789"

// prodEnv is linkbff in production mode against a separately started
// emulator (standing in for api.junction.com) and a JWKS.
type prodEnv struct {
	*testkit.Server
	idp    *testkit.IdentityProvider
	emu    *emulator.Emulator
	emuURL string // where the emulator listens
	calls  *callCounter
	// breaks, when set, answers matching Junction calls itself.
	breaks atomic.Pointer[junctionBreak]
}

// junctionBreak makes Junction answer status (with Retry-After, when set)
// to every call whose "METHOD /path" starts with one of prefixes.
type junctionBreak struct {
	prefixes   []string
	status     int
	retryAfter string
}

func (b *junctionBreak) answer(w http.ResponseWriter, r *http.Request) bool {
	for _, p := range b.prefixes {
		if strings.HasPrefix(r.Method+" "+r.URL.Path, p) {
			if b.retryAfter != "" {
				w.Header().Set("Retry-After", b.retryAfter)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(b.status)
			_, _ = w.Write([]byte(`{"detail":"broken on purpose by the test"}`))
			return true
		}
	}
	return false
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

// productionServer is linkbff in production mode, with extra settings,
// against a fresh emulator.
func productionServer(t *testing.T, extra map[string]string) *prodEnv {
	t.Helper()
	p := newProdEnv(t)
	p.start(t, extra)
	return p
}

// newProdEnv starts the identity provider and the emulator; start then
// runs linkbff against them.
func newProdEnv(t *testing.T) *prodEnv {
	t.Helper()
	idp := testkit.NewIdentityProvider(t)
	emuSrv := httptest.NewUnstartedServer(nil)
	emu, err := emulator.New(emulator.Config{APIKey: testAPIKey, PublicURL: "http://" + emuSrv.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	calls := &callCounter{byPath: map[string]int{}}
	p := &prodEnv{idp: idp, emu: emu, calls: calls}
	emuSrv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.mu.Lock()
		calls.byPath[r.Method+" "+r.URL.Path]++
		calls.mu.Unlock()
		if b := p.breaks.Load(); b != nil && b.answer(w, r) {
			return
		}
		emu.Handler().ServeHTTP(w, r)
	})
	emuSrv.Start()
	t.Cleanup(func() { emuSrv.Close(); emu.Close() })
	p.emuURL = emuSrv.URL
	return p
}

// start runs linkbff in production mode: the emulator as Junction, the
// identity provider's JWKS, no per-user limit; extra settings win.
func (p *prodEnv) start(t *testing.T, extra map[string]string) {
	t.Helper()
	addr := testkit.FreeAddr(t)
	env := map[string]string{
		"JUNCTION_API_KEY":    testAPIKey,
		"JUNCTION_BASE_URL":   p.emuURL,
		"LISTEN_ADDR":         addr,
		"PUBLIC_URL":          "http://" + addr,
		"ALLOWED_RETURN_URLS": "https://app.example.com",
		"RATE_LIMIT_USER":     "off",
	}
	maps.Copy(env, p.idp.Env())
	maps.Copy(env, extra)
	p.Server = testkit.Start(t, run, env)
}

func TestJWTFailuresAreRejected(t *testing.T) {
	s := productionServer(t, nil)
	idp := s.idp
	hsAgainstJWKS := func() string {
		// Algorithm confusion: HS256 keyed with the RSA public key.
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, testkit.Claims("mallory"))
		tok.Header["kid"] = testkit.RSAKeyID
		pub, _ := json.Marshal(idp.RSAKey.PublicKey)
		str, _ := tok.SignedString(pub)
		return str
	}
	algNone := func() string {
		str, _ := jwt.NewWithClaims(jwt.SigningMethodNone, testkit.Claims("mallory")).SignedString(jwt.UnsafeAllowNoneSignatureType)
		return str
	}
	unknownKid := func() string {
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, testkit.Claims("mallory"))
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
		"expired":        idp.Sign(t, testkit.Claims("mallory", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-5 * time.Minute).Unix() })),
		"no exp":         idp.Sign(t, testkit.Claims("mallory", func(c jwt.MapClaims) { delete(c, "exp") })),
		"wrong issuer":   idp.Sign(t, testkit.Claims("mallory", func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com/" })),
		"wrong audience": idp.Sign(t, testkit.Claims("mallory", func(c jwt.MapClaims) { c["aud"] = "someone-else" })),
		"empty subject":  idp.Sign(t, testkit.Claims("")),
	}
	for name, token := range tests {
		r := s.Request(http.MethodPost, "/v1/link/token", token, nil)
		if r.Status != http.StatusUnauthorized || r.ErrorCode(t) != "unauthenticated" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: no WWW-Authenticate header", name)
		}
	}

	good := idp.Sign(t, testkit.Claims("user-1"))
	if r := s.Request(http.MethodPost, "/v1/link/token", good, nil); r.Status != http.StatusOK {
		t.Fatalf("valid RS256 token refused: %d %s", r.Status, r.Body)
	}
	esToken := idp.SignES256(t, testkit.Claims("user-2"))
	if r := s.Request(http.MethodPost, "/v1/link/token", esToken, nil); r.Status != http.StatusOK {
		t.Fatalf("valid ES256 token refused: %d %s", r.Status, r.Body)
	}
	// The dev sign-in does not exist outside dev mode.
	if r := s.Request(http.MethodPost, "/_dev/token", "", map[string]string{"user": "x"}); r.Status != http.StatusNotFound {
		t.Fatalf("/_dev/token in production mode: %d", r.Status)
	}
}

func TestConcurrentFirstRequestsCreateOneJunctionUser(t *testing.T) {
	s := productionServer(t, nil)
	token := s.idp.Sign(t, testkit.Claims("first-timer"))
	var wg sync.WaitGroup
	statuses := make(chan int, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- s.Request(http.MethodPost, "/v1/link/token", token, nil).Status
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
	s := productionServer(t, map[string]string{"LOG_LEVEL": "debug", "JUNCTION_WEBHOOK_SECRET": testkit.WebhookSecret})
	idp := s.idp
	token := idp.Sign(t, testkit.Claims("leak-check"))
	expired := idp.Sign(t, testkit.Claims("leak-check", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }))
	var bodies []string
	record := func(r testkit.Response) {
		bodies = append(bodies, string(r.Body))
		for k, v := range r.Header {
			bodies = append(bodies, k+": "+strings.Join(v, ","))
		}
	}
	lt := s.NewLinkToken(token, map[string]any{"provider": "oura", "return_to": "https://app.example.com/x"})
	record(s.Request(http.MethodPost, "/v1/link/token", token, map[string]any{"provider": "oura"}))
	record(s.Request(http.MethodPost, "/v1/link/token", expired, nil))
	record(s.Request(http.MethodPost, "/v1/link/token", token, map[string]any{"provider": "no_such_provider"}))
	record(s.Request(http.MethodGet, "/v1/link/oauth/oura", token, nil))
	record(s.Request(http.MethodGet, "/v1/connections", token, nil))
	record(s.Request(http.MethodGet, "/v1/providers", token, nil))
	record(s.Request(http.MethodPost, "/v1/mobile/sign-in-token", token, nil))
	record(s.Request(http.MethodGet, s.FinishLink(lt, "oura", testkit.Act("approve")), "", nil))
	record(s.Request(http.MethodGet, "/readyz", "", nil))
	body := testkit.ConnectionCreatedEvent(s.JunctionUserID(token), "oura")
	record(s.DeliverWebhook(testkit.SignWebhook(t, testkit.WebhookSecret, "msg_leak", time.Now(), body), body))
	record(s.DeliverWebhook(testkit.SignWebhook(t, "whsec_"+"b3RoZXJzZWNyZXRvdGhlcnNlY3JldA==", "msg_leak2", time.Now(), body), body))
	s.Stop()

	logs := s.Logs.String()
	if !strings.Contains(logs, `"message":"request"`) {
		t.Fatal("no access log lines captured")
	}
	for _, secret := range []string{testAPIKey, token, expired, lt.LinkToken, strings.TrimPrefix(testkit.WebhookSecret, "whsec_")} {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret (%.12s…) appears in the log", secret)
		}
	}
	for _, b := range bodies {
		if strings.Contains(b, testAPIKey) || strings.Contains(b, token) || strings.Contains(b, strings.TrimPrefix(testkit.WebhookSecret, "whsec_")) {
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

// Two deployments on one Junction team, each with its own database, serve
// users with the same sub: with distinct namespaces they never share a
// Junction user; with the same namespace and issuer they would, which is
// why the README asks for one namespace per deployment.
func TestDeploymentsWithDistinctNamespacesNeverShareUsers(t *testing.T) {
	p := newProdEnv(t)
	mint := func(namespace string) {
		p.start(t, map[string]string{"JUNCTION_CLIENT_USER_ID_NAMESPACE": namespace})
		if r := p.Request(http.MethodPost, "/v1/link/token", p.idp.Sign(t, testkit.Claims("same-sub")), nil); r.Status != http.StatusOK {
			t.Fatalf("link token: %d %s", r.Status, r.Body)
		}
	}
	mint("0b5f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b")
	mint("9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4")
	if n := p.emu.UserCount(); n != 2 {
		t.Fatalf("two deployments with distinct namespaces share users: %d Junction users, want 2", n)
	}
	mint("9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4")
	if n := p.emu.UserCount(); n != 2 {
		t.Fatalf("a third deployment with the second's namespace did not adopt its user: %d Junction users, want 2", n)
	}
}
