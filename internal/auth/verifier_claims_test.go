package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifyRefusesUnusableUserIDs(t *testing.T) {
	verifier := mustVerifier(t, hs256Config())
	tests := []struct {
		name   string
		userID any
		accept bool
	}{
		{name: "plain", userID: "alice", accept: true},
		{name: "non-ASCII letters", userID: "ünïcødé-用户-🙂", accept: true},
		{name: "spaces inside and around", userID: " alice smith ", accept: true},
		{name: "255 bytes", userID: strings.Repeat("é", 127) + "a", accept: true},
		{name: "256 bytes", userID: strings.Repeat("é", 128)},
		{name: "4 KiB", userID: strings.Repeat("a", 4<<10)},
		{name: "empty", userID: ""},
		{name: "spaces only", userID: "   "},
		{name: "tabs and newlines only", userID: "\t\r\n"},
		{name: "no-break space only", userID: "\u00a0\u3000"},
		{name: "NUL", userID: "alice\x00"},
		{name: "NUL only", userID: "\x00"},
		{name: "newline inside", userID: "alice\nadmin"},
		{name: "escape sequence", userID: "\x1b[31malice"},
		{name: "DEL", userID: "ali\x7fce"},
		{name: "C1 control", userID: "ali\u009bce"},
		{name: "replacement character", userID: "ali\ufffdce"},
		{name: "number", userID: 42},
		{name: "array", userID: []string{"alice"}},
		{name: "null", userID: json.RawMessage("null")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := signHS(t, jwt.SigningMethodHS256, []byte(testSecret), "", claimsWith(map[string]any{"sub": tc.userID}))
			principal, err := verifier.Verify(t.Context(), token)
			if tc.accept {
				if err != nil || principal.UserID != tc.userID {
					t.Fatalf("Verify = %+v, %v; want user %q", principal, err, tc.userID)
				}
				return
			}
			if appErr := assertRejected(t, err, token); !errors.Is(appErr, errUnusableUserClaim) {
				t.Errorf("reason = %v, want an unusable user claim", appErr.Err)
			}
		})
	}
}

// Claims that no Go value encodes: the token's own JSON carries bytes that
// are not UTF-8, or escapes that decode to no character.
func TestVerifyRefusesUserIDsThatAreNotUTF8(t *testing.T) {
	verifier := mustVerifier(t, hs256Config())
	now := time.Now().Unix()
	for name, sub := range map[string]string{
		"invalid byte":        "\"ali\xffce\"",
		"truncated sequence":  "\"alice\xe2\x82\"",
		"overlong NUL":        "\"\xc0\x80\"",
		"lone surrogate":      `"ali\ud800ce"`,
		"escaped NUL":         `"alice\u0000"`,
		"escaped line break":  `"alice\u2028\u000a"`,
		"escaped DEL only":    `"\u007f"`,
		"escaped spaces only": `"\u0020\u00a0"`,
	} {
		t.Run(name, func(t *testing.T) {
			payload := fmt.Sprintf(`{"iss":%q,"aud":%q,"sub":%s,"iat":%d,"exp":%d}`, testIssuer, testAudience, sub, now, now+300)
			token := signPayload(t, []byte(payload))
			_, err := verifier.Verify(t.Context(), token)
			if appErr := assertRejected(t, err, token); !errors.Is(appErr, errUnusableUserClaim) {
				t.Errorf("reason = %v, want an unusable user claim", appErr.Err)
			}
		})
	}
}

func TestVerifyMaxTokenAge(t *testing.T) {
	now := time.Now()
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	const year2286 = 9999999999 // 2286-11-20
	tests := []struct {
		name       string
		maxAge     time.Duration // 0: the 24h default
		claims     map[string]any
		accept     bool
		wantReason error
	}{
		{name: "5 minutes", claims: map[string]any{}, accept: true},
		{name: "exactly 24h", claims: map[string]any{"iat": at(-time.Hour), "exp": at(23 * time.Hour)}, accept: true},
		{name: "24h and a second", claims: map[string]any{"iat": at(-time.Hour), "exp": at(23*time.Hour + time.Second)}, wantReason: errTokenLivesTooLong},
		{name: "issued two days ago, valid another hour", claims: map[string]any{"iat": at(-48 * time.Hour), "exp": at(time.Hour)}, wantReason: errTokenLivesTooLong},
		{name: "expires in 2286", claims: map[string]any{"exp": year2286}, wantReason: errTokenLivesTooLong},
		{name: "expires in the year 285 billion", claims: map[string]any{"exp": int64(9e18)}, wantReason: errTokenLivesTooLong},
		{name: "expires at the end of float64", claims: map[string]any{"exp": 1.7e308}},
		{name: "no iat", claims: map[string]any{"iat": nil}, wantReason: jwt.ErrTokenRequiredClaimMissing},
		{name: "iat not a number", claims: map[string]any{"iat": "yesterday"}, wantReason: jwt.ErrTokenInvalidClaims},
		{name: "1h cap, 2h token", maxAge: time.Hour, claims: map[string]any{"exp": at(2 * time.Hour)}, wantReason: errTokenLivesTooLong},
		{name: "1h cap, 30m token", maxAge: time.Hour, claims: map[string]any{"exp": at(30 * time.Minute)}, accept: true},
		{name: "no cap, expires in 2286", maxAge: NoMaxTokenAge, claims: map[string]any{"exp": year2286}, accept: true},
		{name: "no cap, no iat", maxAge: -time.Hour, claims: map[string]any{"iat": nil}, accept: true},
		{name: "no cap, still expired", maxAge: NoMaxTokenAge, claims: map[string]any{"exp": at(-time.Hour)}, wantReason: jwt.ErrTokenExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := hs256Config()
			cfg.MaxTokenAge = tc.maxAge
			verifier := mustVerifier(t, cfg)
			token := signHS(t, jwt.SigningMethodHS256, []byte(testSecret), "", claimsWith(tc.claims))
			_, err := verifier.Verify(t.Context(), token)
			if tc.accept {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			appErr := assertRejected(t, err, token)
			if tc.wantReason != nil && !errors.Is(appErr, tc.wantReason) {
				t.Errorf("reason = %v, want %v", appErr.Err, tc.wantReason)
			}
		})
	}
}
