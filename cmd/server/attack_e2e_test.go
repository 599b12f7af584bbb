package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/linkbff/linkbff/internal/testkit"
)

// attackHS256Secret is the HS256 deployment's shared secret.
const attackHS256Secret = "hs256-attack-corpus-secret-0123456789abcdef"

// attack is one hostile request and what linkbff documents for it.
type attack struct {
	group, name string
	server      *testkit.Server
	method      string
	target      string
	body        any // nil, a raw string or a JSON value
	headers     []string
	// want is the documented status; code the documented error code (JSON
	// answers), page a callback page (HTML with its CSP).
	want int
	code string
	page bool
	// check adds what the case is about (a header not set, text not echoed).
	check func(r testkit.Response) error
}

// attackLab is two production deployments, JWKS and HS256, with the
// secrets every answer and log line is scanned for.
type attackLab struct {
	t        *testing.T
	jwks, hs *prodEnv
	// tokens are every JWT the corpus sent, forged or not: no signature may
	// come back in a response or reach a log.
	tokens []string
}

func (l *attackLab) keep(token string) string {
	l.tokens = append(l.tokens, token)
	return token
}

// TestAttackCorpus sends 100+ hostile requests through the real server in
// production mode. Each must get its documented 4xx with a JSON error body
// (the callback: its documented page or redirect), never a 5xx; no answer and
// no log line may hold the Junction key, the webhook secret, the HS256
// secret or any JWT's signature.
func TestAttackCorpus(t *testing.T) {
	common := map[string]string{
		"JUNCTION_WEBHOOK_SECRET": testkit.WebhookSecret,
		"ALLOWED_RETURN_URLS":     "https://app.example.com,myapp://linked",
		"CORS_ALLOWED_ORIGINS":    "https://app.example.com",
		"RATE_LIMIT_IP":           "off", // hundreds of requests from one address
		"LOG_LEVEL":               "debug",
	}
	lab := &attackLab{t: t, jwks: productionServer(t, common)}
	hsEnv := map[string]string{"AUTH_JWKS_URL": "", "AUTH_HS256_SECRET": attackHS256Secret}
	for k, v := range common {
		hsEnv[k] = v
	}
	lab.hs = productionServer(t, hsEnv)

	var corpus []attack
	corpus = append(corpus, lab.jwtForgeries()...)
	corpus = append(corpus, lab.hs256Forgeries()...)
	corpus = append(corpus, lab.openRedirects()...)
	corpus = append(corpus, lab.corsOrigins()...)
	corpus = append(corpus, lab.callbackInjections()...)
	corpus = append(corpus, lab.hostileBodies()...)
	corpus = append(corpus, lab.providerTraversals()...)
	corpus = append(corpus, lab.webhookForgeries()...)
	if len(corpus) < 100 {
		t.Fatalf("the corpus has %d cases, want 100+", len(corpus))
	}

	var answers []string
	for _, a := range corpus {
		name := a.group + "/" + a.name
		r, err := a.server.Send(a.method, a.target, a.body, a.headers...)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		answers = append(answers, string(r.Body))
		for k, v := range r.Header {
			answers = append(answers, k+": "+strings.Join(v, ", "))
		}
		if err := a.verify(r); err != nil {
			t.Errorf("%s: %v\n  %s %s → %d %.300s", name, err, a.method, a.target, r.Status, r.Body)
		}
	}
	t.Logf("%d hostile requests sent", len(corpus))

	lab.jwks.Stop()
	lab.hs.Stop()
	logs := lab.jwks.Logs.String() + lab.hs.Logs.String()
	secrets := map[string]string{
		"the Junction API key": testAPIKey,
		"the webhook secret":   strings.TrimPrefix(testkit.WebhookSecret, "whsec_"),
		"the HS256 secret":     attackHS256Secret,
		// Not a secret, but the README promises the callback's text is never logged.
		"the callback's error text": "attacker-text-for-logs",
	}
	for what, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("%s appears in the log", what)
		}
		for _, a := range answers {
			if strings.Contains(a, secret) {
				t.Errorf("%s appears in a response: %.200s", what, a)
			}
		}
	}
	for _, token := range lab.tokens {
		parts := strings.Split(token, ".")
		if len(parts) != 3 || len(parts[2]) < 16 {
			continue // no signature worth the name
		}
		if strings.Contains(logs, parts[2]) {
			t.Errorf("a JWT signature (%.10s…) appears in the log", parts[2])
		}
		for _, a := range answers {
			if strings.Contains(a, parts[2]) {
				t.Errorf("a JWT signature (%.10s…) appears in a response", parts[2])
			}
		}
	}
}

// verify checks r against what linkbff documents for a.
func (a attack) verify(r testkit.Response) error {
	if r.Status >= 500 {
		return fmt.Errorf("a %d", r.Status)
	}
	if r.Status != a.want {
		return fmt.Errorf("status %d, want %d", r.Status, a.want)
	}
	switch {
	case a.page:
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			return fmt.Errorf("not the callback page with its CSP: %q, CSP %q", r.Header.Get("Content-Type"), r.Header.Get("Content-Security-Policy"))
		}
	case a.want >= 400:
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || body.Error.Message == "" {
			return fmt.Errorf("not a JSON error body")
		}
		if body.Error.Code != a.code {
			return fmt.Errorf("code %q, want %q", body.Error.Code, a.code)
		}
	}
	if a.check != nil {
		return a.check(r)
	}
	return nil
}

// --- JWT forgeries -------------------------------------------------------

func b64(v any) string {
	raw, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// rawJWT assembles a token from a header, claims and a signature as given.
func rawJWT(header map[string]any, claims jwt.MapClaims, sig string) string {
	return b64(header) + "." + b64(claims) + "." + sig
}

func signWith(t *testing.T, method jwt.SigningMethod, header map[string]any, claims jwt.MapClaims, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (l *attackLab) unauthenticated(group, name string, s *prodEnv, token string, headers ...string) attack {
	if token != "" {
		headers = append(testkit.Bearer(l.keep(token)), headers...)
	}
	return attack{group: group, name: name, server: s.Server, method: http.MethodPost, target: "/v1/link/token", headers: headers,
		want: http.StatusUnauthorized, code: "unauthenticated", check: func(r testkit.Response) error {
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				return fmt.Errorf("401 without WWW-Authenticate: Bearer")
			}
			return nil
		}}
}

func (l *attackLab) jwtForgeries() []attack {
	t, s, idp := l.t, l.jwks, l.jwks.idp
	claims := func(mutate ...func(jwt.MapClaims)) jwt.MapClaims { return testkit.Claims("mallory", mutate...) }
	attacker := testkit.NewIdentityProvider(t) // its keys are not the deployment's
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubDER, _ := x509.MarshalPKIXPublicKey(&idp.RSAKey.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	valid := idp.Sign(t, claims())
	parts := strings.Split(valid, ".")
	otherValid := strings.Split(idp.Sign(t, testkit.Claims("someone-else")), ".")
	attackerJWK := map[string]any{"kty": "RSA", "kid": testkit.RSAKeyID, "n": base64.RawURLEncoding.EncodeToString(attacker.RSAKey.N.Bytes()), "e": "AQAB"}

	forged := map[string]string{
		"garbage":                       "not.a.jwt",
		"one segment":                   "eyJhbGciOiJSUzI1NiJ9",
		"alg none":                      rawJWT(map[string]any{"alg": "none", "typ": "JWT"}, claims(), ""),
		"alg None":                      rawJWT(map[string]any{"alg": "None", "typ": "JWT"}, claims(), ""),
		"alg nOnE with signature":       rawJWT(map[string]any{"alg": "nOnE"}, claims(), parts[2]),
		"HS256 keyed with the JWK":      signWith(t, jwt.SigningMethodHS256, map[string]any{"kid": testkit.RSAKeyID}, claims(), []byte(idp.RSAKey.N.Bytes())),
		"HS256 keyed with the PEM":      signWith(t, jwt.SigningMethodHS256, map[string]any{"kid": testkit.RSAKeyID}, claims(), pubPEM),
		"unknown kid":                   signWith(t, jwt.SigningMethodRS256, map[string]any{"kid": "rotated-away"}, claims(), otherRSA),
		"no kid":                        signWith(t, jwt.SigningMethodRS256, nil, claims(), otherRSA),
		"known kid, other key":          signWith(t, jwt.SigningMethodRS256, map[string]any{"kid": testkit.RSAKeyID}, claims(), otherRSA),
		"kid path traversal":            signWith(t, jwt.SigningMethodRS256, map[string]any{"kid": "../../../../dev/null"}, claims(), otherRSA),
		"kid SQL injection":             signWith(t, jwt.SigningMethodRS256, map[string]any{"kid": "' OR '1'='1"}, claims(), otherRSA),
		"jku to the attacker's JWKS":    signWith(t, jwt.SigningMethodRS256, map[string]any{"kid": testkit.RSAKeyID, "jku": attacker.JWKSURL}, claims(), attacker.RSAKey),
		"x5u to the attacker":           signWith(t, jwt.SigningMethodRS256, map[string]any{"kid": testkit.RSAKeyID, "x5u": attacker.JWKSURL}, claims(), attacker.RSAKey),
		"embedded jwk":                  signWith(t, jwt.SigningMethodRS256, map[string]any{"kid": testkit.RSAKeyID, "jwk": attackerJWK}, claims(), attacker.RSAKey),
		"ES256 with the RSA kid":        signWith(t, jwt.SigningMethodES256, map[string]any{"kid": testkit.RSAKeyID}, claims(), otherEC),
		"ES256 by another key":          signWith(t, jwt.SigningMethodES256, map[string]any{"kid": testkit.ECKeyID}, claims(), otherEC),
		"RS512 (not allowed)":           signWith(t, jwt.SigningMethodRS512, map[string]any{"kid": testkit.RSAKeyID}, claims(), idp.RSAKey),
		"PS256 (not allowed)":           signWith(t, jwt.SigningMethodPS256, map[string]any{"kid": testkit.RSAKeyID}, claims(), idp.RSAKey),
		"expired":                       idp.Sign(t, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-5 * time.Minute).Unix() })),
		"no exp":                        idp.Sign(t, claims(func(c jwt.MapClaims) { delete(c, "exp") })),
		"exp as a string":               idp.Sign(t, claims(func(c jwt.MapClaims) { c["exp"] = "never" })),
		"nbf in an hour":                idp.Sign(t, claims(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() })),
		"wrong issuer":                  idp.Sign(t, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com/" })),
		"no issuer":                     idp.Sign(t, claims(func(c jwt.MapClaims) { delete(c, "iss") })),
		"wrong audience":                idp.Sign(t, claims(func(c jwt.MapClaims) { c["aud"] = "another-api" })),
		"audience list without linkbff": idp.Sign(t, claims(func(c jwt.MapClaims) { c["aud"] = []string{"a", "b"} })),
		"no audience":                   idp.Sign(t, claims(func(c jwt.MapClaims) { delete(c, "aud") })),
		"empty sub":                     idp.Sign(t, testkit.Claims("")),
		"sub a number":                  idp.Sign(t, claims(func(c jwt.MapClaims) { c["sub"] = 42 })),
		"sub an object":                 idp.Sign(t, claims(func(c jwt.MapClaims) { c["sub"] = map[string]string{"id": "x"} })),
		"payload swapped":               parts[0] + "." + otherValid[1] + "." + parts[2],
		"signature swapped":             parts[0] + "." + parts[1] + "." + otherValid[2],
		"signature stripped":            parts[0] + "." + parts[1] + ".",
		"signature truncated":           parts[0] + "." + parts[1] + "." + parts[2][:20],
		"bad base64":                    parts[0] + ".!!!." + parts[2],
		"30 KB token":                   parts[0] + "." + strings.Repeat("A", 30<<10) + "." + parts[2],
	}
	var out []attack
	for name, token := range forged {
		out = append(out, l.unauthenticated("jwt", name, s, token))
	}
	out = append(out,
		l.unauthenticated("jwt", "no token", s, ""),
		l.unauthenticated("jwt", "Basic scheme", s, "", "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("admin:admin"))),
		l.unauthenticated("jwt", "Bearer without token", s, "", "Authorization", "Bearer "),
		l.unauthenticated("jwt", "two tokens", s, "", "Authorization", "Bearer "+l.keep(valid)+" "+valid),
		attack{group: "jwt", name: "token in the query", server: s.Server, method: http.MethodPost, target: "/v1/link/token?access_token=" + url.QueryEscape(l.keep(valid)),
			want: http.StatusUnauthorized, code: "unauthenticated"},
	)
	return out
}

func (l *attackLab) hs256Forgeries() []attack {
	t, s := l.t, l.hs
	claims := func(mutate ...func(jwt.MapClaims)) jwt.MapClaims { return testkit.Claims("mallory", mutate...) }
	forged := map[string]string{
		"wrong secret":       testkit.SignHS256(t, attackHS256Secret+"x", claims()),
		"empty secret":       signWith(t, jwt.SigningMethodHS256, nil, claims(), []byte{}),
		"alg none":           rawJWT(map[string]any{"alg": "none"}, claims(), ""),
		"HS384 (not listed)": signWith(t, jwt.SigningMethodHS384, nil, claims(), []byte(attackHS256Secret)),
		"HS512 (not listed)": signWith(t, jwt.SigningMethodHS512, nil, claims(), []byte(attackHS256Secret)),
		"the IdP's RS256":    l.jwks.idp.Sign(t, claims()),
		"expired":            testkit.SignHS256(t, attackHS256Secret, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() })),
		"wrong audience":     testkit.SignHS256(t, attackHS256Secret, claims(func(c jwt.MapClaims) { c["aud"] = "another-api" })),
		"wrong issuer":       testkit.SignHS256(t, attackHS256Secret, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com/" })),
	}
	var out []attack
	for name, token := range forged {
		out = append(out, l.unauthenticated("hs256", name, s, token))
	}
	// The genuine token works, so the 401s above are the forgeries'.
	out = append(out, attack{group: "hs256", name: "genuine token", server: s.Server, method: http.MethodGet, target: "/v1/connections",
		headers: testkit.Bearer(l.keep(testkit.SignHS256(t, attackHS256Secret, testkit.Claims("hs-user")))), want: http.StatusOK})
	return out
}

// --- open redirects ------------------------------------------------------

func (l *attackLab) openRedirects() []attack {
	token := l.keep(l.jwks.idp.Sign(l.t, testkit.Claims("redirector")))
	targets := []string{
		"//evil.com", "///evil.com", "/\\evil.com", "/relative", "https://evil.com", "https://app.example.com.evil.com/",
		"https://app.example.com@evil.com/", "https://evil.com\\@app.example.com", "https:\\\\evil.com", "https:/evil.com",
		"https:evil.com", "http://app.example.com/", "https://app.example.com:8443/", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
		"data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "file:///etc/passwd", "https://аpp.example.com/",
		"https://app.example.com%2f@evil.com", "https://app.example.com\x00.evil.com", "https://app.example.com/\r\nLocation: https://evil.com",
		"\thttps://app.example.com", "myapp://linkedevil", "evilapp://linked", "myapp://linked#\x10", "https://evil.com/?https://app.example.com",
		"https://" + strings.Repeat("a", 3000) + ".app.example.com",
	}
	var out []attack
	for _, target := range targets {
		out = append(out, attack{group: "return_to", name: fmt.Sprintf("%q", target), server: l.jwks.Server, method: http.MethodPost, target: "/v1/link/token",
			body: map[string]any{"return_to": target}, headers: testkit.Bearer(token), want: http.StatusBadRequest, code: "invalid_request",
			check: namesField("return_to")})
	}
	for _, target := range []string{"//evil.com", "https://evil.com", "javascript:alert(1)", "https://app.example.com@evil.com/"} {
		out = append(out, attack{group: "return_to", name: "oauth " + target, server: l.jwks.Server, method: http.MethodGet,
			target: "/v1/link/oauth/oura?return_to=" + url.QueryEscape(target), headers: testkit.Bearer(token),
			want: http.StatusBadRequest, code: "invalid_request", check: namesField("return_to")})
	}
	return out
}

func namesField(field string) func(testkit.Response) error {
	return func(r testkit.Response) error {
		if !strings.Contains(string(r.Body), `"field":"`+field+`"`) {
			return fmt.Errorf("the error does not name %s", field)
		}
		return nil
	}
}

// --- CORS ----------------------------------------------------------------

func (l *attackLab) corsOrigins() []attack {
	token := l.keep(l.jwks.idp.Sign(l.t, testkit.Claims("cors")))
	var out []attack
	for _, origin := range []string{
		"https://evil.com", "null", "https://app.example.com.evil.com", "https://evil.app.example.com", "http://app.example.com",
		"https://app.example.com:444", "https://app.example.co", "http://localhost:5173",
	} {
		noGrant := func(r testkit.Response) error {
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
				return fmt.Errorf("Access-Control-Allow-Origin %q granted", got)
			}
			return nil
		}
		out = append(out,
			attack{group: "cors", name: "preflight " + origin, server: l.jwks.Server, method: http.MethodOptions, target: "/v1/link/token",
				headers: []string{"Origin", origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type"},
				want:    http.StatusOK, check: noGrant},
			attack{group: "cors", name: "GET " + origin, server: l.jwks.Server, method: http.MethodGet, target: "/v1/connections",
				headers: append(testkit.Bearer(token), "Origin", origin), want: http.StatusOK, check: noGrant})
	}
	return out
}

// --- the callback --------------------------------------------------------

// session opens a Link session through the emulator and returns its
// callback path, not yet called.
func (l *attackLab) session(returnTo string) string {
	s := l.jwks
	body := map[string]any{"provider": "oura"}
	if returnTo != "" {
		body["return_to"] = returnTo
	}
	lt := s.NewLinkToken(l.keep(s.idp.Sign(l.t, testkit.Claims("callback-victim"))), body)
	u, err := url.Parse(s.FinishLink(lt, "oura", testkit.Act("close")))
	if err != nil {
		l.t.Fatal(err)
	}
	return u.Path
}

func (l *attackLab) callbackInjections() []attack {
	s := l.jwks.Server
	notEchoed := func(needles ...string) func(testkit.Response) error {
		return func(r testkit.Response) error {
			for _, n := range needles {
				if strings.Contains(string(r.Body), n) {
					return fmt.Errorf("echoes %q", n)
				}
			}
			if r.Header.Get("Set-Cookie") != "" || r.Header.Get("X-Injected") != "" {
				return fmt.Errorf("an injected header was set")
			}
			return nil
		}
	}
	recordedAs := func(errorType string) func(testkit.Response) error {
		return func(r testkit.Response) error {
			if err := notEchoed("<script>alert", "onerror=", "alert(1)", "attacker-text-for-logs")(r); err != nil {
				return err
			}
			if !strings.Contains(string(r.Body), `data-error-type="`+errorType+`"`) {
				return fmt.Errorf("error type not recorded as %q", errorType)
			}
			return nil
		}
	}
	redirectsHome := func(r testkit.Response) error {
		loc, err := url.Parse(r.Header.Get("Location"))
		if err != nil || loc.Scheme != "https" || loc.Host != "app.example.com" || len(r.Body) != 0 {
			return fmt.Errorf("303 to %q with a %d-byte body", r.Header.Get("Location"), len(r.Body))
		}
		if et := loc.Query().Get("error_type"); et != "unknown" {
			return fmt.Errorf("error_type %q forwarded", et)
		}
		return nil
	}
	json := []string{"Accept", "application/json"}
	return []attack{
		{group: "callback", name: "script in error_type", server: s, method: http.MethodGet, target: l.session("") + "?state=error&error_type=" + url.QueryEscape(`<script>alert(1)</script>`), want: http.StatusOK, page: true, check: recordedAs("unknown")},
		{group: "callback", name: "img onerror in error_type", server: s, method: http.MethodGet, target: l.session("") + "?state=error&error_type=" + url.QueryEscape(`"><img src=x onerror=alert(1)>`), want: http.StatusOK, page: true, check: recordedAs("unknown")},
		{group: "callback", name: "script in error text", server: s, method: http.MethodGet, target: l.session("") + "?state=error&error_type=provider_api_error&error=" + url.QueryEscape(`<script>alert(1)</script> attacker-text-for-logs`), want: http.StatusOK, page: true, check: recordedAs("provider_api_error")},
		{group: "callback", name: "CRLF in error_type", server: s, method: http.MethodGet, target: l.session("") + "?state=error&error_type=x%0d%0aSet-Cookie:%20pwned=1", want: http.StatusOK, page: true, check: recordedAs("unknown")},
		{group: "callback", name: "javascript: in error_type", server: s, method: http.MethodGet, target: l.session("") + "?state=error&error_type=javascript:alert(1)", want: http.StatusOK, page: true, check: recordedAs("unknown")},
		{group: "callback", name: "script in state", server: s, method: http.MethodGet, target: l.session("") + "?state=" + url.QueryEscape(`<svg/onload=alert(1)>`), want: http.StatusBadRequest, page: true, check: notEchoed("<svg", "alert(1)")},
		{group: "callback", name: "CRLF in state", server: s, method: http.MethodGet, target: l.session("") + "?state=success%0d%0aX-Injected:%201", want: http.StatusBadRequest, page: true, check: notEchoed("X-Injected")},
		{group: "callback", name: "no state", server: s, method: http.MethodGet, target: l.session(""), want: http.StatusBadRequest, page: true},
		{group: "callback", name: "no state as JSON", server: s, method: http.MethodGet, target: l.session(""), headers: json, want: http.StatusBadRequest, code: "invalid_request"},
		{group: "callback", name: "script in error_type as JSON", server: s, method: http.MethodGet, target: l.session("") + "?state=error&error_type=%3Cscript%3E", headers: json, want: http.StatusOK,
			check: func(r testkit.Response) error {
				if !strings.Contains(string(r.Body), `"error_type":"unknown"`) {
					return fmt.Errorf("error_type not recorded as unknown")
				}
				return nil
			}},
		{group: "callback", name: "Location injection via error_type", server: s, method: http.MethodGet, target: l.session("https://app.example.com/done") + "?state=error&error_type=%0d%0aLocation:%20https://evil.com", want: http.StatusSeeOther, check: redirectsHome},
		{group: "callback", name: "redirect elsewhere via query", server: s, method: http.MethodGet, target: l.session("https://app.example.com/done") + "?state=error&error_type=x%20y&return_to=https://evil.com&redirect_url=https://evil.com", want: http.StatusSeeOther, check: redirectsHome},
		{group: "callback", name: "script in the session id", server: s, method: http.MethodGet, target: "/link/callback/" + url.PathEscape(`<script>alert(1)</script>`) + "?state=success", want: http.StatusNotFound, page: true, check: notEchoed("<script>alert", "alert(1)")},
		{group: "callback", name: "path traversal in the session id", server: s, method: http.MethodGet, target: "/link/callback/..%2f..%2f..%2fetc%2fpasswd?state=success", want: http.StatusNotFound, page: true, check: notEchoed("root:")},
		{group: "callback", name: "unknown session", server: s, method: http.MethodGet, target: "/link/callback/00000000000000000000000000000000?state=success", want: http.StatusNotFound, page: true},
		{group: "callback", name: "10 KB session id", server: s, method: http.MethodGet, target: "/link/callback/" + strings.Repeat("a", 10<<10) + "?state=success", want: http.StatusNotFound, page: true},
		{group: "callback", name: "unknown session as JSON", server: s, method: http.MethodGet, target: "/link/callback/ffffffffffffffffffffffffffffffff?state=success", headers: json, want: http.StatusNotFound, code: "not_found"},
		{group: "callback", name: "POST", server: s, method: http.MethodPost, target: "/link/callback/00000000000000000000000000000000", body: "state=success", want: http.StatusMethodNotAllowed, code: "method_not_allowed"},
	}
}

// --- bodies --------------------------------------------------------------

func (l *attackLab) hostileBodies() []attack {
	token := testkit.Bearer(l.keep(l.jwks.idp.Sign(l.t, testkit.Claims("bodies"))))
	post := func(name string, body any, want int, code string, headers ...string) attack {
		return attack{group: "body", name: name, server: l.jwks.Server, method: http.MethodPost, target: "/v1/link/token", body: body,
			headers: append(append([]string{}, token...), headers...), want: want, code: code}
	}
	filter := make([]string, 101)
	for i := range filter {
		filter[i] = "oura"
	}
	return []attack{
		post("70 KB", `{"provider":"`+strings.Repeat("a", 70<<10)+`"}`, http.StatusRequestEntityTooLarge, "payload_too_large"),
		post("1 MB", `{"provider":"`+strings.Repeat("a", 1<<20)+`"}`, http.StatusRequestEntityTooLarge, "payload_too_large"),
		post("trailing bracket", `{} ]`, http.StatusBadRequest, "invalid_request"),
		post("two objects", `{} {}`, http.StatusBadRequest, "invalid_request"),
		post("truncated", `{"provider":`, http.StatusBadRequest, "invalid_request"),
		post("array", `[{"provider":"oura"}]`, http.StatusBadRequest, "invalid_request"),
		post("string", `"oura"`, http.StatusBadRequest, "invalid_request"),
		post("number", `42`, http.StatusBadRequest, "invalid_request"),
		post("unknown field", `{"provider":"oura","is_admin":true}`, http.StatusBadRequest, "invalid_request"),
		post("wrong type", `{"provider":["oura"]}`, http.StatusBadRequest, "invalid_request"),
		post("byte order mark", "\ufeff{}", http.StatusBadRequest, "invalid_request"),
		post("10000 nested arrays", strings.Repeat("[", 10000)+strings.Repeat("]", 10000), http.StatusBadRequest, "invalid_request"),
		post("5000 nested objects", strings.Repeat(`{"provider":`, 5000), http.StatusBadRequest, "invalid_request"),
		post("101 providers", map[string]any{"filter_on_providers": filter}, http.StatusBadRequest, "invalid_request"),
		post("invalid UTF-8 provider", "{\"provider\":\"oura\xff\xfe\"}", http.StatusBadRequest, "invalid_request"),
		post("NUL in provider", `{"provider":"oura\u0000"}`, http.StatusBadRequest, "invalid_request"),
		post("application/jsonx", `{}`, http.StatusBadRequest, "invalid_request", "Content-Type", "application/jsonx"),
		post("text/plain", `{}`, http.StatusBadRequest, "invalid_request", "Content-Type", "text/plain"),
		post("form", `provider=oura`, http.StatusBadRequest, "invalid_request", "Content-Type", "application/x-www-form-urlencoded"),
		post("multipart", "--x\r\n\r\n{}\r\n--x--", http.StatusBadRequest, "invalid_request", "Content-Type", "multipart/form-data; boundary=x"),
		post("bad media type", `{}`, http.StatusBadRequest, "invalid_request", "Content-Type", "application/json; ="),
		{group: "body", name: "dev sign-in in production", server: l.jwks.Server, method: http.MethodPost, target: "/_dev/token", body: map[string]string{"user": "admin"}, want: http.StatusNotFound, code: "not_found"},
		{group: "body", name: "GET on a POST route", server: l.jwks.Server, method: http.MethodGet, target: "/v1/link/token", headers: token, want: http.StatusMethodNotAllowed, code: "method_not_allowed",
			check: func(r testkit.Response) error {
				if r.Header.Get("Allow") != "POST" {
					return fmt.Errorf("Allow %q", r.Header.Get("Allow"))
				}
				return nil
			}},
	}
}

// --- provider slugs ------------------------------------------------------

func (l *attackLab) providerTraversals() []attack {
	token := testkit.Bearer(l.keep(l.jwks.idp.Sign(l.t, testkit.Claims("traveller"))))
	var out []attack
	slugs := []string{"..%2f..%2fetc%2fpasswd", "%2e%2e", "%2e%2e%2f%2e%2e%2fuser", "OURA", "oura%00", "oura%0d%0aX-Injected:%201", "oura;rm%20-rf",
		"%C3%B6ura", "oura%2f..%2fme", strings.Repeat("a", 65), "%3Cscript%3E", "oura%20"}
	for _, slug := range slugs {
		out = append(out,
			attack{group: "provider", name: "oauth " + slug, server: l.jwks.Server, method: http.MethodGet, target: "/v1/link/oauth/" + slug, headers: token,
				want: http.StatusBadRequest, code: "invalid_request"},
			attack{group: "provider", name: "disconnect " + slug, server: l.jwks.Server, method: http.MethodDelete, target: "/v1/connections/" + slug, headers: token,
				want: http.StatusBadRequest, code: "invalid_request"})
	}
	for _, p := range []string{"../../etc/passwd", "oura/../../admin", "OURA"} {
		out = append(out, attack{group: "provider", name: "token for " + p, server: l.jwks.Server, method: http.MethodPost, target: "/v1/link/token",
			body: map[string]any{"provider": p}, headers: token, want: http.StatusBadRequest, code: "invalid_request", check: namesField("provider")})
	}
	out = append(out,
		attack{group: "provider", name: "filter entry ../x", server: l.jwks.Server, method: http.MethodPost, target: "/v1/link/token",
			body: map[string]any{"filter_on_providers": []string{"oura", "../x"}}, headers: token, want: http.StatusBadRequest, code: "invalid_request", check: namesField("filter_on_providers")},
		attack{group: "provider", name: "dot segments in the path", server: l.jwks.Server, method: http.MethodGet, target: "/v1/link/oauth/../../_dev/token", headers: token,
			want: http.StatusNotFound, code: "not_found"},
	)
	return out
}

// --- webhooks ------------------------------------------------------------

func (l *attackLab) webhookForgeries() []attack {
	t := l.t
	body := testkit.ConnectionCreatedEvent("3fa85f64-5717-4562-b3fc-2c963f66afa6", "oura")
	now := time.Now()
	deliver := func(name string, h http.Header, b []byte, want int, code string) attack {
		return attack{group: "webhook", name: name, server: l.jwks.Server, method: http.MethodPost, target: testkit.WebhookPath, body: string(b),
			headers: testkit.HeaderPairs(h), want: want, code: code}
	}
	signed := func(id string, ts time.Time) http.Header {
		return testkit.SignWebhook(t, testkit.WebhookSecret, id, ts, body)
	}
	with := func(h http.Header, k, v string) http.Header { h = h.Clone(); h.Set(k, v); return h }
	valid := signed("msg_attack", now)
	sig := valid.Get("Svix-Signature")
	return []attack{
		deliver("no signature", http.Header{}, body, http.StatusUnauthorized, "unauthenticated"),
		deliver("another secret", testkit.SignWebhook(t, "whsec_"+"b3RoZXJzZWNyZXRvdGhlcnNlY3JldA==", "msg_a1", now, body), body, http.StatusUnauthorized, "unauthenticated"),
		deliver("tampered body", valid, append([]byte(" "), body...), http.StatusUnauthorized, "unauthenticated"),
		deliver("other svix-id", with(valid, "Svix-Id", "msg_other"), body, http.StatusUnauthorized, "unauthenticated"),
		deliver("stale timestamp", signed("msg_a2", now.Add(-10*time.Minute)), body, http.StatusUnauthorized, "unauthenticated"),
		deliver("future timestamp", signed("msg_a3", now.Add(10*time.Minute)), body, http.StatusUnauthorized, "unauthenticated"),
		deliver("timestamp not a number", with(valid, "Svix-Timestamp", "yesterday"), body, http.StatusUnauthorized, "unauthenticated"),
		deliver("v2 scheme", with(valid, "Svix-Signature", strings.Replace(sig, "v1,", "v2,", 1)), body, http.StatusUnauthorized, "unauthenticated"),
		deliver("empty signature", with(valid, "Svix-Signature", ""), body, http.StatusUnauthorized, "unauthenticated"),
		deliver("bogus signatures", with(valid, "Svix-Signature", "v1,AAAA v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32))), body, http.StatusUnauthorized, "unauthenticated"),
		deliver("signature of another body", with(valid, "Svix-Signature", testkit.SignWebhook(t, testkit.WebhookSecret, "msg_attack", now, []byte("{}")).Get("Svix-Signature")), body, http.StatusUnauthorized, "unauthenticated"),
		deliver("2 MiB", signed("msg_a4", now), make([]byte, 2<<20), http.StatusRequestEntityTooLarge, "payload_too_large"),
		{group: "webhook", name: "GET", server: l.jwks.Server, method: http.MethodGet, target: testkit.WebhookPath, want: http.StatusMethodNotAllowed, code: "method_not_allowed"},
	}
}
