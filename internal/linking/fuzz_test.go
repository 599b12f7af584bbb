package linking

import (
	"net/url"
	"strings"
	"testing"
)

// fuzzPolicy allows two web origins, linkbff's own, a deep-link prefix and
// a whole deep-link scheme.
func fuzzPolicy(t testing.TB) *ReturnPolicy {
	p, err := ParseReturnPolicy([]string{"https://app.example.com", "http://localhost:5173", "myapp://linked", "otherapp://"})
	if err != nil {
		t.Fatal(err)
	}
	return p.withOrigin("https://bff.example.com")
}

var fuzzAllowedOrigins = map[string]bool{"https://app.example.com": true, "http://localhost:5173": true, "https://bff.example.com": true}

// Whatever Check accepts parses to an allowed origin, an allowed deep-link
// scheme, or the allowed prefix at a path boundary: never an open redirect.
func FuzzReturnPolicyCheck(f *testing.F) {
	for _, seed := range []string{
		"https://app.example.com/settings", "https://APP.example.com/x?y=1#z", "http://localhost:5173/", "https://bff.example.com/done",
		"myapp://linked", "myapp://linked/done?x=1", "myapp://linked#x", "otherapp://anything", "OtherApp://x",
		"//evil.com", "/relative", "https://app.example.com.evil.com/", "https://app.example.com@evil.com/",
		"https://evil.com\\@app.example.com", "https:\\\\evil.com", "https:/app.example.com", "https:app.example.com",
		"http://app.example.com/", "https://app.example.com:444/", "https://app.example.com:443/", "javascript:alert(1)",
		"JaVaScRiPt:alert(1)", "data:text/html,x", "myapp://linkedevil", "myapp:linked", "myapp:/linked", "evilapp://linked",
		"https://app.example.com/\r\nSet-Cookie:x", "https://%61pp.example.com/", "https://app.example.com%2f@evil.com",
		"https://[::1]/", "https://app.example.com\x00.evil.com", "https://аpp.example.com/", "\thttps://app.example.com",
		"https://app.example.com./", "HTTPS://APP.EXAMPLE.COM", "myapp://linked/../../evil", "", strings.Repeat("a", 3000),
	} {
		f.Add(seed)
	}
	p := fuzzPolicy(f)
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := p.Check("return_to", raw)
		if err != nil {
			if e, ok := AsError(err); !ok || e.Code != EInvalid || e.Field != "return_to" {
				t.Fatalf("Check(%q) failed with %#v, want an invalid return_to", raw, err)
			}
			return
		}
		if strings.ContainsFunc(got, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) {
			t.Fatalf("Check(%q) accepted %q, which holds white space, a control character or a backslash", raw, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("Check(%q) accepted %q, which does not parse: %v", raw, got, err)
		}
		if u.User != nil {
			t.Fatalf("Check(%q) accepted %q, which carries userinfo", raw, got)
		}
		scheme := strings.ToLower(u.Scheme)
		switch scheme {
		case "http", "https":
			if origin := scheme + "://" + strings.ToLower(u.Host); !fuzzAllowedOrigins[origin] || u.Opaque != "" {
				t.Fatalf("Check(%q) accepted %q: origin %q is not allowed", raw, got, origin)
			}
		case "otherapp":
		case "myapp":
			rest, ok := strings.CutPrefix(scheme+got[len(u.Scheme):], "myapp://linked")
			if !ok || (rest != "" && !strings.ContainsRune("/?#", rune(rest[0]))) {
				t.Fatalf("Check(%q) accepted %q outside myapp://linked", raw, got)
			}
		default:
			t.Fatalf("Check(%q) accepted %q with scheme %q", raw, got, u.Scheme)
		}
	})
}

// The callback's query, whatever a browser (or an attacker) puts in it,
// becomes one of three outcomes with an error type that is a short
// identifier, or a 400 naming state.
func FuzzCallbackQuery(f *testing.F) {
	for _, seed := range []string{
		"state=success", "state=error&error_type=provider_credential_error&error=Wrong+password",
		"state=error&error_type=user_cancelled", "state=error&error_type=%3Cscript%3E", "state=error",
		"state=SUCCESS", "state=success&state=error", "state=error&error_type=" + strings.Repeat("x", 65),
		"state=error&error_type=a%0d%0aSet-Cookie:x", "state=%00", "", "%zz", ";;;&&&=",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		q, _ := url.ParseQuery(rawQuery) // as net/http reads it: bad pairs are dropped
		cb := Callback{State: q.Get("state"), ErrorType: q.Get("error_type")}
		outcome, err := cb.normalise()
		if cb.State != "success" && cb.State != "error" {
			if e, ok := AsError(err); !ok || e.Code != EInvalid || e.Field != "state" {
				t.Fatalf("state %q gave %+v, %v; want an invalid state", cb.State, outcome, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("state %q refused: %v", cb.State, err)
		}
		switch {
		case cb.State == "success":
			if outcome != (Outcome{Status: StatusConnected}) {
				t.Fatalf("success became %+v", outcome)
			}
		case outcome.ErrorType == "user_cancelled":
			if outcome.Status != StatusCancelled {
				t.Fatalf("user_cancelled became %+v", outcome)
			}
		default:
			if outcome.Status != StatusError {
				t.Fatalf("error %q became %+v", cb.ErrorType, outcome)
			}
		}
		if cb.State == "error" {
			if !errorTypePattern.MatchString(outcome.ErrorType) {
				t.Fatalf("error type %q recorded as %q, not an identifier", cb.ErrorType, outcome.ErrorType)
			}
			if outcome.ErrorType != cb.ErrorType && outcome.ErrorType != "unknown" {
				t.Fatalf("error type %q rewritten to %q", cb.ErrorType, outcome.ErrorType)
			}
		}
	})
}
