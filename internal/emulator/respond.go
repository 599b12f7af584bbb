package emulator

import (
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
)

// writeJSON sends v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"detail":"Internal Server Error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeDetail sends Junction's plain error shape {"detail":"<text>"}.
func writeDetail(w http.ResponseWriter, status int, text string) {
	writeJSON(w, status, wireDetail{Detail: text})
}

type wireDetail struct {
	Detail string `json:"detail"`
}

const userNotFound = "User not found"

// requireAPIKey guards team endpoints with x-vital-api-key.
func (e *Emulator) requireAPIKey(next http.HandlerFunc) http.HandlerFunc {
	want := []byte(e.cfg.APIKey)
	return func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("x-vital-api-key")
		if got == "" {
			writeDetail(w, http.StatusUnauthorized, "Missing x-vital-api-key header.")
			return
		}
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			writeDetail(w, http.StatusUnauthorized, "Invalid API key.")
			return
		}
		next(w, r)
	}
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }
