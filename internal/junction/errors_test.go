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

	"github.com/linkbff/linkbff/internal/apperr"
)

func isInvalid(err error) bool { return apperr.Is(err, apperr.Invalid) }

func asJunctionError(t *testing.T, err error) *Error {
	t.Helper()
	var je *Error
	if !errors.As(err, &je) {
		t.Fatalf("err %v (%T) does not wrap *junction.Error", err, err)
	}
	return je
}

func TestNotFound(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `{"detail":"User not found"}`)
	})
	c, _ := newTestClient(t, f)
	_, err := c.GetUser(context.Background(), "missing")
	if !IsNotFound(err) || apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("err = %v: want IsNotFound and apperr NotFound", err)
	}
	ae, _ := apperr.As(err)
	if strings.Contains(ae.Message, "User not found") {
		t.Fatalf("apperr message %q repeats Junction's detail", ae.Message)
	}
	je := asJunctionError(t, err)
	want := Error{StatusCode: 404, Method: "GET", Path: "/v2/user/missing", Detail: "User not found"}
	if *je != want {
		t.Fatalf("junction error = %+v", je)
	}
	if n := len(f.recorded()); n != 1 {
		t.Fatalf("404 was retried: %d requests", n)
	}
	if IsNotFound(errors.New("other")) || IsNotFound(nil) {
		t.Fatal("IsNotFound true for a non-Junction error")
	}
}

func TestStatusToAppCode(t *testing.T) {
	tests := []struct {
		status int
		want   apperr.Code
	}{
		{400, apperr.Invalid},
		{401, apperr.Internal},
		{403, apperr.Internal},
		{404, apperr.NotFound},
		{408, apperr.Unavailable},
		{409, apperr.Conflict},
		{418, apperr.Internal},
		{422, apperr.Invalid},
		{429, apperr.RateLimited},
		{500, apperr.Unavailable},
		{502, apperr.Unavailable},
		{503, apperr.Unavailable},
		{307, apperr.Internal},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "7")
				writeJSON(w, tt.status, `{"detail":"nope"}`)
			})
			c, _ := newTestClient(t, f, func(cfg *Config) { cfg.MaxRetries = -1 })
			err := c.DeleteUser(context.Background(), "u-1")
			if got := apperr.CodeOf(err); got != tt.want {
				t.Fatalf("status %d → %s, want %s (err %v)", tt.status, got, tt.want, err)
			}
			if got := asJunctionError(t, err).AppCode(); got != tt.want {
				t.Fatalf("AppCode() = %s", got)
			}
			ae, _ := apperr.As(err)
			if tt.want == apperr.RateLimited && ae.RetryAfter != 7*time.Second {
				t.Fatalf("RateLimited RetryAfter = %s", ae.RetryAfter)
			}
		})
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
		writeJSON(w, 422, `{"detail":[{"type":"less_than_equal","loc":["query","limit"],"msg":"Input should be less than or equal to 500","input":"900"}]}`)
	})
	c, _ := newTestClient(t, f)
	_, err := c.ListUsers(context.Background(), 0, 900)
	if !isInvalid(err) {
		t.Fatalf("err = %v, want Invalid", err)
	}
	je := asJunctionError(t, err)
	if je.Detail != "query.limit: Input should be less than or equal to 500" || je.Path != "/v2/user" {
		t.Fatalf("junction error = %+v", je)
	}
	if strings.Contains(je.Error(), "limit=900") {
		t.Fatalf("Error() carries the query: %s", je.Error())
	}
}

func TestUndecodableSuccessIsUnavailable(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"user_id": [`)
	})
	c, _ := newTestClient(t, f)
	_, err := c.GetUser(context.Background(), "u-1")
	if apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("err = %v, want Unavailable", err)
	}
}

func TestOversizedSuccessBodyIsRejected(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"users":[],"pad":"`+strings.Repeat("a", maxBodyBytes)+`"}`)
	})
	c, _ := newTestClient(t, f)
	_, err := c.ListUsers(context.Background(), 0, 0)
	if je := asJunctionError(t, err); !strings.Contains(je.Detail, "exceeds") {
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
	_, err = c.GetUser(context.Background(), "u-1")
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
