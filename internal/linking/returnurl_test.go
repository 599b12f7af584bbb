package linking

import (
	"testing"
)

func TestReturnPolicyCheck(t *testing.T) {
	p, err := ParseReturnPolicy([]string{"https://app.example.com", "http://localhost:5173", "myapp://linked", "otherapp://", "prefixapp://cb/"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		raw  string
		want bool
	}{
		{"https://app.example.com/settings", true},
		{"https://app.example.com", true},
		{"https://APP.example.com/x?y=1#z", true},
		{"http://localhost:5173/", true},
		{"myapp://linked", true},
		{"myapp://linked/done?x=1", true},
		{"myapp://linked?x=1", true},
		{"otherapp://anything/at/all", true},
		{"prefixapp://cb/ok", true},
		// Open-redirect attempts.
		{"//evil.com", false},
		{"/relative", false},
		{"https://app.example.com.evil.com/", false},
		{"https://evil.com/https://app.example.com", false},
		{"https://app.example.com@evil.com/", false},
		{"https://user:pass@app.example.com/", false},
		{"https://evil.com\\@app.example.com", false},
		{"https:\\\\evil.com", false},
		{"https:/app.example.com", false},
		{"http://app.example.com/", false}, // scheme is part of the origin
		{"https://app.example.com:444/", false},
		{"javascript:alert(1)", false},
		{"JavaScript:alert(1)", false},
		{"data:text/html,<script>alert(1)</script>", false},
		{"myapp://linkedevil", false},
		{"myapp://other", false},
		{"prefixapp://cbx", false},
		{"evilapp://linked", false},
		{"https://app.example.com/\r\nSet-Cookie:x", false},
		{"", false},
	}
	for _, tc := range tests {
		got, err := p.Check("return_to", tc.raw)
		if (err == nil) != tc.want {
			t.Errorf("Check(%q) = %q, %v; want allowed=%v", tc.raw, got, err, tc.want)
		}
		if err != nil {
			e, ok := AsError(err)
			if !ok || e.Code != EInvalid || e.Field != "return_to" {
				t.Errorf("Check(%q) error = %#v, want Invalid naming return_to", tc.raw, err)
			}
		}
	}
}

func TestParseReturnPolicyRejects(t *testing.T) {
	for _, entry := range []string{"javascript:alert(1)", "https://app.example.com/path", "https://u@app.example.com", "not a url", "data:,x"} {
		if _, err := ParseReturnPolicy([]string{entry}); err == nil {
			t.Errorf("ParseReturnPolicy(%q) accepted a bad entry", entry)
		}
	}
}

func TestCallbackNormalise(t *testing.T) {
	tests := []struct {
		cb         Callback
		wantStatus string
		wantType   string
		wantErr    bool
	}{
		{Callback{State: "success"}, StatusConnected, "", false},
		{Callback{State: "error", ErrorType: "user_cancelled"}, StatusCancelled, "user_cancelled", false},
		{Callback{State: "error", ErrorType: "provider_credential_error"}, StatusError, "provider_credential_error", false},
		{Callback{State: "error", ErrorType: "brand_new_type"}, StatusError, "brand_new_type", false},
		{Callback{State: "error", ErrorType: "<script>"}, StatusError, "unknown", false},
		{Callback{State: "error"}, StatusError, "unknown", false},
		{Callback{State: ""}, "", "", true},
		{Callback{State: "SUCCESS"}, "", "", true},
	}
	for _, tc := range tests {
		o, err := tc.cb.normalise()
		if (err != nil) != tc.wantErr || o.Status != tc.wantStatus || o.ErrorType != tc.wantType {
			t.Errorf("normalise(%+v) = %+v, %v; want %s/%s err=%v", tc.cb, o, err, tc.wantStatus, tc.wantType, tc.wantErr)
		}
	}
}
