package auth

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNewVerifierConfigErrors(t *testing.T) {
	const jwksURL = "https://idp.example.com/.well-known/jwks.json"
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // substring
	}{
		{name: "neither mode", cfg: Config{Issuer: testIssuer}, wantErr: "required"},
		{name: "both modes", cfg: Config{JWKSURL: jwksURL, HS256Secret: testSecret, Issuer: testIssuer}, wantErr: "not both"},
		{name: "short secret", cfg: Config{HS256Secret: strings.Repeat("s", 31), Issuer: testIssuer}, wantErr: "at least 32 bytes"},
		{name: "missing issuer", cfg: Config{HS256Secret: testSecret}, wantErr: "Issuer is required"},
		{name: "blank issuer", cfg: Config{HS256Secret: testSecret, Issuer: "  "}, wantErr: "Issuer is required"},
		{name: "none in JWKS allowlist", cfg: Config{JWKSURL: jwksURL, Issuer: testIssuer, Algorithms: []string{"RS256", "none"}}, wantErr: `"none" is never allowed`},
		{name: "None in HS256 allowlist", cfg: Config{HS256Secret: testSecret, Issuer: testIssuer, Algorithms: []string{"None"}}, wantErr: `"none" is never allowed`},
		{name: "HS256 in JWKS allowlist", cfg: Config{JWKSURL: jwksURL, Issuer: testIssuer, Algorithms: []string{"HS256"}}, wantErr: "algorithm confusion"},
		{name: "hs512 in JWKS allowlist", cfg: Config{JWKSURL: jwksURL, Issuer: testIssuer, Algorithms: []string{"ES256", "hs512"}}, wantErr: "algorithm confusion"},
		{name: "RS256 in HS256 allowlist", cfg: Config{HS256Secret: testSecret, Issuer: testIssuer, Algorithms: []string{"RS256"}}, wantErr: "not supported in HS256 mode"},
		{name: "unknown algorithm", cfg: Config{JWKSURL: jwksURL, Issuer: testIssuer, Algorithms: []string{"XX999"}}, wantErr: "not supported in JWKS mode"},
		{name: "leeway above 60s", cfg: Config{HS256Secret: testSecret, Issuer: testIssuer, Leeway: 61 * time.Second}, wantErr: "exceeds the maximum"},
		{name: "negative leeway", cfg: Config{HS256Secret: testSecret, Issuer: testIssuer, Leeway: -time.Second}, wantErr: "negative"},
		{name: "refresh interval too short", cfg: Config{JWKSURL: jwksURL, Issuer: testIssuer, JWKSRefreshInterval: time.Second}, wantErr: "JWKSRefreshInterval must be at least"},
		{name: "unknown-kid rate limit too short", cfg: Config{JWKSURL: jwksURL, Issuer: testIssuer, JWKSUnknownKIDRateLimit: time.Millisecond}, wantErr: "JWKSUnknownKIDRateLimit must be at least"},
		{name: "plain http JWKS on a public host", cfg: Config{JWKSURL: "http://idp.example.com/jwks?key=hunter2", Issuer: testIssuer}, wantErr: "must use https"},
		{name: "relative JWKS URL", cfg: Config{JWKSURL: "/jwks.json", Issuer: testIssuer}, wantErr: "absolute"},
		{name: "non-http JWKS URL", cfg: Config{JWKSURL: "file:///etc/jwks.json", Issuer: testIssuer}, wantErr: "absolute"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if err == nil {
				t.Fatalf("Validate = nil, want error containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %q, want it to contain %q", err, tc.wantErr)
			}
			if v, newErr := NewVerifier(t.Context(), tc.cfg); newErr == nil || newErr.Error() != err.Error() {
				t.Fatalf("NewVerifier = %p, %v; want Validate's error %q", v, newErr, err)
			}
			for _, secret := range []string{testSecret, "hunter2", strings.Repeat("s", 31)} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks a secret: %q", err)
				}
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name           string
		cfg            Config
		wantAlgorithms string
	}{
		{name: "JWKS", cfg: Config{JWKSURL: "https://idp.example.com/jwks", Issuer: testIssuer}, wantAlgorithms: "RS256,ES256,EdDSA"},
		{name: "HS256", cfg: Config{HS256Secret: testSecret, Issuer: testIssuer}, wantAlgorithms: "HS256"},
		{name: "explicit allowlist kept", cfg: Config{JWKSURL: "http://localhost:8080/jwks", Issuer: testIssuer, Algorithms: []string{"PS256", "ES384"}}, wantAlgorithms: "PS256,ES384"},
		{name: "loopback IP may use http", cfg: Config{JWKSURL: "http://127.0.0.1:9/jwks", Issuer: testIssuer}, wantAlgorithms: "RS256,ES256,EdDSA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got, err := tc.cfg.withDefaults()
			if err != nil {
				t.Fatalf("withDefaults: %v", err)
			}
			if algs := strings.Join(got.Algorithms, ","); algs != tc.wantAlgorithms {
				t.Errorf("Algorithms = %s, want %s", algs, tc.wantAlgorithms)
			}
			if got.UserClaim != "sub" || got.Leeway != 30*time.Second || got.MaxTokenAge != 24*time.Hour || got.JWKSRefreshInterval != time.Hour || got.JWKSUnknownKIDRateLimit != 30*time.Second {
				t.Errorf("defaults = claim %q leeway %s max age %s refresh %s unknown-kid %s", got.UserClaim, got.Leeway, got.MaxTokenAge, got.JWKSRefreshInterval, got.JWKSUnknownKIDRateLimit)
			}
			if got.HTTPClient == nil || got.HTTPClient.Timeout != 10*time.Second {
				t.Errorf("HTTPClient = %+v, want one with a 10s timeout", got.HTTPClient)
			}
		})
	}
}

func TestConfigMaxTokenAge(t *testing.T) {
	for _, tc := range []struct{ in, want time.Duration }{
		{0, 24 * time.Hour},
		{time.Hour, time.Hour},
		{30 * 24 * time.Hour, 30 * 24 * time.Hour},
		{NoMaxTokenAge, NoMaxTokenAge},
		{-time.Hour, NoMaxTokenAge},
	} {
		got, err := Config{HS256Secret: testSecret, Issuer: testIssuer, MaxTokenAge: tc.in}.withDefaults()
		if err != nil || got.MaxTokenAge != tc.want {
			t.Errorf("MaxTokenAge %s: got %s, %v; want %s", tc.in, got.MaxTokenAge, err, tc.want)
		}
	}
}

func TestConfigKeepsCallerHTTPClient(t *testing.T) {
	client := &http.Client{Timeout: 3 * time.Second}
	got, err := Config{JWKSURL: "https://idp.example.com/jwks", Issuer: testIssuer, HTTPClient: client}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got.HTTPClient != client {
		t.Fatal("caller's HTTP client replaced")
	}
}

func TestHS256ModeIsReadyImmediately(t *testing.T) {
	v := mustVerifier(t, hs256Config())
	if err := v.Ready(t.Context()); err != nil {
		t.Fatalf("Ready: %v", err)
	}
}
