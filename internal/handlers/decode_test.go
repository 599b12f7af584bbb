package handlers

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/linkbff/linkbff/internal/linking"
)

// decodeBody runs decode on body sent with contentType ("" for none).
func decodeBody(contentType, body string) (linkTokenRequest, error) {
	r := httptest.NewRequest(http.MethodPost, "/v1/link/token", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	var req linkTokenRequest
	err := decode(httptest.NewRecorder(), r, &req)
	return req, err
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		want                    linking.ErrorCode // "" = accepted
	}{
		{"object", "application/json", `{"provider":"oura"}`, ""},
		{"charset", "application/json; charset=utf-8", `{"provider":"oura"}`, ""},
		{"upper case type", "Application/JSON", `{}`, ""},
		{"no content type", "", `{}`, ""},
		{"empty body", "application/json", ``, ""},
		{"trailing white space", "application/json", "{} \n\t ", ""},
		{"jsonx", "application/jsonx", `{}`, linking.EInvalid},
		{"json prefix", "application/json-patch+json", `{}`, linking.EInvalid},
		{"form", "application/x-www-form-urlencoded", `provider=oura`, linking.EInvalid},
		{"bad media type", "application/json; =", `{}`, linking.EInvalid},
		{"trailing bracket", "application/json", `{} ]`, linking.EInvalid},
		{"trailing brace", "application/json", `{}}`, linking.EInvalid},
		{"second object", "application/json", `{} {}`, linking.EInvalid},
		{"trailing garbage", "application/json", `{"provider":"oura"} x`, linking.EInvalid},
		{"array", "application/json", `[1]`, linking.EInvalid},
		{"unknown field", "application/json", `{"providr":"oura"}`, linking.EInvalid},
		{"wrong type", "application/json", `{"provider":7}`, linking.EInvalid},
		{"truncated", "application/json", `{"provider":`, linking.EInvalid},
		{"too large", "application/json", `{"provider":"` + strings.Repeat("a", maxJSONBody) + `"}`, linking.ETooLarge},
	}
	for _, tc := range tests {
		req, err := decodeBody(tc.contentType, tc.body)
		if got := linking.ErrorCodeOf(err); got != tc.want {
			t.Errorf("%s: %q → %v, want code %q", tc.name, tc.body, err, tc.want)
		}
		if tc.want == "" && strings.Contains(tc.body, "oura") && req.Provider != "oura" {
			t.Errorf("%s: decoded %+v", tc.name, req)
		}
	}
}

func TestMethodNotAllowedListsAllowedMethods(t *testing.T) {
	r := chi.NewRouter()
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	r.Route("/v1", func(r chi.Router) {
		r.Method(http.MethodPost, "/link/token", ok)
		r.Method(http.MethodGet, "/connections", ok)
		r.Method(http.MethodDelete, "/connections/{provider}", ok)
	})
	r.Method(http.MethodGet, "/readyz", ok)
	r.MethodNotAllowed(handleMethodNotAllowed(r))
	for path, want := range map[string]string{
		"/v1/link/token":       "POST",
		"/v1/connections/oura": "DELETE",
		"/readyz":              "GET",
	} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodPut, path, nil))
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != want {
			t.Errorf("PUT %s: %d Allow %q, want 405 Allow %q", path, w.Code, w.Header().Get("Allow"), want)
		}
	}
}

// Whatever an app sends, decode answers a 400 or 413, or accepts exactly one
// JSON object (or nothing) with known fields, sent as application/json.
func FuzzDecode(f *testing.F) {
	for _, seed := range []struct{ contentType, body string }{
		{"application/json", `{"provider":"oura","filter_on_providers":["oura"],"return_to":"https://app.example.com"}`},
		{"application/json; charset=utf-8", `{}`}, {"", ``}, {"application/jsonx", `{}`}, {"text/plain", `{}`},
		{"application/json", `{} ]`}, {"application/json", `{} {}`}, {"application/json", `[1]`}, {"application/json", `null`},
		{"application/json", `"str"`}, {"application/json", `{"PROVIDER":"oura"}`}, {"application/json", `{"provider":"oura","provider":7}`},
		{"application/json", "\ufeff{}"}, {"application/json", `{"provider":"\xff\xfe"}`}, {"application/json", strings.Repeat("[", 5000)},
		{"application/json", `{"filter_on_providers":[` + strings.Repeat(`"a",`, 100) + `"a"]}`}, {"application/json; =", `{}`},
	} {
		f.Add(seed.contentType, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		_, err := decodeBody(contentType, string(body))
		if err != nil {
			if code := linking.ErrorCodeOf(err); code != linking.EInvalid && code != linking.ETooLarge {
				t.Fatalf("decode(%q, %q) failed with %v, want a 400 or 413", contentType, body, err)
			}
			return
		}
		if contentType != "" {
			if mediaType, _, err := mime.ParseMediaType(contentType); err != nil || mediaType != "application/json" {
				t.Fatalf("accepted Content-Type %q", contentType)
			}
		}
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 || string(trimmed) == "null" {
			return
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &fields); err != nil {
			t.Fatalf("accepted %q, which is not one JSON object: %v", body, err)
		}
		for name := range fields {
			known := false
			for _, f := range []string{"provider", "filter_on_providers", "return_to"} {
				known = known || strings.EqualFold(name, f) // encoding/json matches names so
			}
			if !known {
				t.Fatalf("accepted unknown field %q", name)
			}
		}
	})
}
