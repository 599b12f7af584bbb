package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkCreateLinkToken measures POST /v2/link/token in process, with
// every token kept (as a long dev session keeps them), so a cost that grows
// with the number of tokens shows up as ns/op rising with b.N. Profile it
// with -cpuprofile; scripts/bench-emulator measures the same route over
// the network with wrk.
func BenchmarkCreateLinkToken(b *testing.B) {
	emu, err := New(Config{APIKey: testAPIKey, PublicURL: "http://127.0.0.1:8080/_junction"})
	if err != nil {
		b.Fatal(err)
	}
	defer emu.Close()
	h := emu.Handler()
	created := httptest.NewRecorder()
	h.ServeHTTP(created, teamRequest(b, "/v2/user", map[string]any{"client_user_id": "bench"}))
	var u wireUser
	if err := json.Unmarshal(created.Body.Bytes(), &u); err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"user_id": u.UserID, "provider": "oura", "redirect_url": "http://127.0.0.1:8080/link/callback/s"})

	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/v2/link/token", bytes.NewReader(body))
			req.Header.Set("x-vital-api-key", testAPIKey)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
}

func teamRequest(tb testing.TB, path string, body any) *http.Request {
	tb.Helper()
	encoded, err := json.Marshal(body)
	if err != nil {
		tb.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(encoded))
	req.Header.Set("x-vital-api-key", testAPIKey)
	req.Header.Set("Content-Type", "application/json")
	return req
}
