package auth

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/linking"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    string // "" means an error
	}{
		{name: "canonical", headers: []string{"Bearer abc.def.ghi"}, want: "abc.def.ghi"},
		{name: "lower-case scheme", headers: []string{"bearer abc.def.ghi"}, want: "abc.def.ghi"},
		{name: "upper-case scheme", headers: []string{"BEARER abc.def.ghi"}, want: "abc.def.ghi"},
		{name: "surrounding spaces", headers: []string{"  Bearer   abc.def.ghi  "}, want: "abc.def.ghi"},
		{name: "missing header"},
		{name: "empty header", headers: []string{""}},
		{name: "scheme only", headers: []string{"Bearer"}},
		{name: "scheme and spaces", headers: []string{"Bearer    "}},
		{name: "basic scheme", headers: []string{"Basic dXNlcjpwYXNz"}},
		{name: "token without scheme", headers: []string{"abc.def.ghi"}},
		{name: "two tokens", headers: []string{"Bearer abc def"}},
		{name: "two headers", headers: []string{"Bearer abc", "Bearer def"}},
		{name: "scheme glued to token", headers: []string{"Bearerabc.def.ghi"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for _, h := range tc.headers {
				r.Header.Add("Authorization", h)
			}
			got, err := BearerToken(r)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("BearerToken = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if !linking.IsCode(err, linking.EUnauthenticated) {
				t.Fatalf("BearerToken = %q, %v; want Unauthenticated error", got, err)
			}
			for _, h := range tc.headers {
				if fields := strings.Fields(h); len(fields) > 1 && strings.Contains(err.Error(), fields[1]) {
					t.Errorf("error repeats the credential: %v", err)
				}
			}
		})
	}
}

func TestPrincipalContext(t *testing.T) {
	if _, ok := PrincipalFrom(t.Context()); ok {
		t.Fatal("PrincipalFrom found a principal in a bare context")
	}
	want := Principal{UserID: "u1"}
	got, ok := PrincipalFrom(WithPrincipal(t.Context(), want))
	if !ok || got != want {
		t.Fatalf("PrincipalFrom = %+v, %v; want %+v, true", got, ok, want)
	}
}
