package junction

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// asJunctionError returns err as the *Error a client method must return
// for any failure Junction caused: directly, not wrapped in another type.
func asJunctionError(t *testing.T, err error) *Error {
	t.Helper()
	je, ok := err.(*Error)
	if !ok {
		t.Fatalf("err %v (%T) is not a *junction.Error", err, err)
	}
	return je
}

func TestNotFound(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `{"detail":"User not found"}`)
	})
	c, _ := newTestClient(t, f)
	_, err := c.ResolveUser(context.Background(), "missing")
	if !IsNotFound(err) {
		t.Fatalf("err = %v: want IsNotFound", err)
	}
	je := asJunctionError(t, err)
	want := Error{StatusCode: 404, Method: "GET", Path: "/v2/user/resolve/missing", Detail: "User not found"}
	if *je != want {
		t.Fatalf("junction error = %+v", je)
	}
	if je.Retryable() {
		t.Fatal("a 404 is reported retryable")
	}
	if n := len(f.recorded()); n != 1 {
		t.Fatalf("404 was retried: %d requests", n)
	}
	if !IsNotFound(fmt.Errorf("context: %w", je)) {
		t.Fatal("IsNotFound false for a wrapped 404")
	}
	if IsNotFound(errors.New("other")) || IsNotFound(nil) || IsNotFound(&Error{StatusCode: 400}) {
		t.Fatal("IsNotFound true for something other than a Junction 404")
	}
}

// TestStatusErrors pins what a caller learns from each Junction status: the
// status itself, Junction's detail, whether to retry, and Retry-After.
func TestStatusErrors(t *testing.T) {
	tests := []struct {
		status    int
		retryable bool
	}{
		{307, false},
		{400, false},
		{401, false},
		{403, false},
		{404, false},
		{408, true},
		{409, false},
		{418, false},
		{422, false},
		{429, true},
		{500, true},
		{502, true},
		{503, true},
		{599, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "7")
				writeJSON(w, tt.status, `{"detail":"nope"}`)
			})
			c, _ := newTestClient(t, f, func(cfg *Config) { cfg.MaxRetries = -1 })
			err := c.DeleteUser(context.Background(), "u-1")
			je := asJunctionError(t, err)
			if je.StatusCode != tt.status || je.Method != "DELETE" || je.Path != "/v2/user/u-1" || je.Detail != "nope" {
				t.Fatalf("junction error = %+v", je)
			}
			if je.Retryable() != tt.retryable {
				t.Fatalf("Retryable() = %v, want %v", je.Retryable(), tt.retryable)
			}
			if je.RetryAfter != 7*time.Second {
				t.Fatalf("RetryAfter = %s, want 7s", je.RetryAfter)
			}
			if je.Unwrap() != nil {
				t.Fatalf("a status error unwraps to %v", je.Unwrap())
			}
			text := je.Error()
			if !strings.Contains(text, fmt.Sprint(tt.status)) || !strings.Contains(text, "nope") {
				t.Fatalf("Error() = %q, want the status and Junction's detail", text)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		status int
		want   bool
	}{
		{0, true}, {408, true}, {429, true}, {500, true}, {503, true}, {599, true},
		{200, false}, {204, false}, {301, false}, {400, false}, {401, false}, {404, false},
		{409, false}, {422, false}, {499, false}, {600, false},
	}
	for _, tt := range tests {
		if got := (&Error{StatusCode: tt.status}).Retryable(); got != tt.want {
			t.Errorf("Retryable() for status %d = %v, want %v", tt.status, got, tt.want)
		}
	}
}

func TestDetailShapes(t *testing.T) {
	long := strings.Repeat("x", 5000)
	tests := []struct {
		name string
		body string
		want detailInfo
	}{
		{"string", `{"detail":"User not found"}`, detailInfo{Detail: "User not found"}},
		{"conflict object", `{"detail":{"error_type":"INVALID_REQUEST","error_message":"Client user id already exists.","user_id":"u-9","created_on":"2023-02-27T12:31:24+00:00"}}`,
			detailInfo{Detail: "Client user id already exists.", ErrorType: "INVALID_REQUEST", UserID: "u-9", CreatedOn: time.Date(2023, 2, 27, 12, 31, 24, 0, time.UTC)}},
		{"object with msg only", `{"detail":{"msg":"bad"}}`, detailInfo{Detail: "bad"}},
		{"object of wrong types", `{"detail":{"error_type":5,"user_id":{"a":1}}}`, detailInfo{Detail: `{"error_type":5,"user_id":{"a":1}}`}},
		{"validation array", `{"detail":[{"type":"missing","loc":["body","client_user_id"],"msg":"Field required","input":{"secret":"echo"}},{"type":"enum","loc":["body","filter_on_providers",0],"msg":"Input should be 'oura'"}]}`,
			detailInfo{Detail: "body.client_user_id: Field required; body.filter_on_providers.0: Input should be 'oura'"}},
		{"validation array without msg", `{"detail":[{"type":"missing"}]}`, detailInfo{Detail: "missing"}},
		{"array of scalars", `{"detail":[1,2]}`, detailInfo{Detail: "[1,2]"}},
		{"null detail", `{"detail":null}`, detailInfo{Detail: "null"}},
		{"message key", `{"message":"Internal server error"}`, detailInfo{Detail: "Internal server error"}},
		{"html", "<html><body>502 Bad Gateway</body></html>", detailInfo{Detail: "<html><body>502 Bad Gateway</body></html>"}},
		{"control chars", "bad\x00\nbody\xff", detailInfo{Detail: "bad  body\uFFFD"}},
		{"empty", "  ", detailInfo{}},
		{"long garbage", long, detailInfo{Detail: strings.Repeat("x", maxDetailLen) + "…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseDetail([]byte(tt.body)); got != tt.want {
				t.Fatalf("parseDetail = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDetailShapesOverHTTP(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 422, `{"detail":[{"type":"enum","loc":["body","filter_on_providers",0],"msg":"Input should be 'oura'","input":"nope"}]}`)
	})
	c, _ := newTestClient(t, f)
	_, err := c.LinkToken(context.Background(), LinkTokenRequest{UserID: "u-1", FilterOnProviders: []string{"nope"}})
	je := asJunctionError(t, err)
	if je.StatusCode != 422 || je.Detail != "body.filter_on_providers.0: Input should be 'oura'" || je.Path != "/v2/link/token" {
		t.Fatalf("junction error = %+v", je)
	}
	if n := len(f.recorded()); n != 1 {
		t.Fatalf("422 was retried: %d requests", n)
	}
}

func TestUndecodableSuccess(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"user_id": [`)
	})
	c, _ := newTestClient(t, f)
	_, err := c.ResolveUser(context.Background(), "cu-1")
	je := asJunctionError(t, err)
	if je.StatusCode != 200 || je.Path != "/v2/user/resolve/cu-1" || !strings.Contains(je.Detail, "undecodable") {
		t.Fatalf("junction error = %+v", je)
	}
	if !strings.Contains(je.Error(), "unexpected response") {
		t.Fatalf("Error() = %q", je.Error())
	}
}

func TestOversizedSuccessBodyIsRejected(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `[{"name":"`+strings.Repeat("a", maxBodyBytes)+`","slug":"oura"}]`)
	})
	c, _ := newTestClient(t, f)
	_, err := c.Providers(context.Background())
	if je := asJunctionError(t, err); je.StatusCode != 200 || !strings.Contains(je.Detail, "exceeds") {
		t.Fatalf("junction error = %+v", je)
	}
}

// TestAPIKeyNeverInErrors drives every failure path, with a Junction that
// even echoes request headers back, and checks no error text has the key.
func TestAPIKeyNeverInErrors(t *testing.T) {
	bodies := []struct {
		status int
		body   string
	}{
		{400, `{"detail":"exists"}`},
		{401, `{"detail":"Invalid API key: ` + testAPIKey + `"}`},
		{403, `{"detail":{"error_type":"FORBIDDEN","error_message":"key ` + testAPIKey + ` lacks scope"}}`},
		{404, `{"detail":"User not found"}`},
		{422, `{"detail":[{"type":"x","loc":["header","x-vital-api-key"],"msg":"bad","input":"` + testAPIKey + `"}]}`},
		{429, `{"detail":"slow down"}`},
		{500, `garbage ` + testAPIKey},
		{503, ``},
	}
	var errs []error
	for _, b := range bodies {
		f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, b.status, b.body) })
		c, _ := newTestClient(t, f)
		ctx := context.Background()
		_, err := c.CreateUser(ctx, "cu-1")
		errs = append(errs, err, c.DeleteUser(ctx, "u-1"))
		_, err = c.OAuthProvider(ctx, "lt-secret", "oura")
		errs = append(errs, err)
	}
	// Transport failure.
	c, err := New(Config{BaseURL: "http://127.0.0.1:1", APIKey: testAPIKey, MaxRetries: -1,
		HTTPClient: &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			return nil, errors.New("connection refused")
		})}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ResolveUser(context.Background(), "cu-1")
	if je := asJunctionError(t, err); je.StatusCode != 0 || !je.Retryable() {
		t.Fatalf("transport failure = %+v, want a retryable StatusCode 0", je)
	}
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d: want an error", i)
		}
		if text := err.Error(); strings.Contains(text, testAPIKey) || strings.Contains(text, "lt-secret") {
			t.Fatalf("case %d leaks a secret: %s", i, text)
		}
		if je := (*Error)(nil); errors.As(err, &je) && strings.Contains(fmt.Sprintf("%+v", *je), testAPIKey) {
			t.Fatalf("case %d: *Error fields leak the key: %+v", i, *je)
		}
	}
}

func FuzzParseDetail(f *testing.F) {
	seeds := []string{
		`{"detail":"User not found"}`,
		`{"detail":{"error_type":"INVALID_REQUEST","error_message":"exists","user_id":"u","created_on":"2023-02-27T12:31:24+00:00"}}`,
		`{"detail":[{"type":"missing","loc":["body","x",0],"msg":"Field required","input":null}]}`,
		`{"detail":[null,{"loc":"x"}]}`, `{"detail":{"loc":[[]]}}`, `[]`, `null`, `"x"`, "\xff\xfe", "",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		info := parseDetail(body)
		for _, field := range []string{info.Detail, info.ErrorType, info.UserID} {
			if !utf8.ValidString(field) {
				t.Fatalf("invalid UTF-8 in %q", field)
			}
			if utf8.RuneCountInString(field) > maxDetailLen+1 {
				t.Fatalf("field not truncated: %d runes", utf8.RuneCountInString(field))
			}
			if strings.ContainsAny(field, "\n\r\x00") {
				t.Fatalf("control character kept in %q", field)
			}
		}
	})
}
