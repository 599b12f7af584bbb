package emulator

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/go-chi/chi/v5"
)

// The emulator answers like FastAPI for unknown routes and methods, and
// routes the same alone, under a stdlib prefix or mounted in a chi router
// (as linkbff mounts it).
func TestRoutingLikeFastAPI(t *testing.T) {
	mounts := map[string]func(t *testing.T) *harness{
		"stdlib prefix": func(t *testing.T) *harness { return newHarness(t, nil) },
		"chi mount":     newChiMountedHarness,
	}
	for name, start := range mounts {
		t.Run(name, func(t *testing.T) {
			h := start(t)
			u := h.createUser("routing a/b")
			tests := []struct {
				method, path string
				wantStatus   int
				wantDetail   string
				wantAllow    string
			}{
				{"GET", "/nope", http.StatusNotFound, "Not Found", ""},
				{"GET", "/v2/user/" + u.UserID + "/oura/extra", http.StatusNotFound, "Not Found", ""},
				{"PUT", "/v2/user", http.StatusMethodNotAllowed, "Method Not Allowed", "GET, POST"},
				{"POST", "/v2/link/providers", http.StatusMethodNotAllowed, "Method Not Allowed", "GET"},
				{"PATCH", "/v2/user/" + u.UserID, http.StatusMethodNotAllowed, "Method Not Allowed", "GET, DELETE"},
				{"GET", "/v2/user/resolve/" + url.PathEscape("routing a/b"), http.StatusOK, "", ""},
				{"GET", "/v2/user/resolve/nobody", http.StatusNotFound, userNotFound, ""},
				// A literal segment ("providers") must not hide the
				// parameter route for another method.
				{"DELETE", "/v2/user/providers/oura", http.StatusUnprocessableEntity, "", ""},
			}
			for _, tt := range tests {
				r := h.Do(tt.method, tt.path, nil, "x-vital-api-key", testAPIKey)
				if r.Status != tt.wantStatus {
					t.Errorf("%s %s = %d, want %d; body %s", tt.method, tt.path, r.Status, tt.wantStatus, r.Body)
					continue
				}
				if tt.wantDetail != "" {
					var body struct{ Detail string }
					r.JSON(t, &body)
					if body.Detail != tt.wantDetail {
						t.Errorf("%s %s detail = %q, want %q", tt.method, tt.path, body.Detail, tt.wantDetail)
					}
				}
				if got := r.Header.Get("Allow"); got != tt.wantAllow {
					t.Errorf("%s %s Allow = %q, want %q", tt.method, tt.path, got, tt.wantAllow)
				}
			}
		})
	}
}

// newChiMountedHarness mounts the emulator the way linkbff's router does.
func newChiMountedHarness(t *testing.T) *harness {
	t.Helper()
	return newMountedHarness(t, nil, func(emulator http.Handler) http.Handler {
		parent := chi.NewRouter()
		parent.Get("/v2/user", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
		parent.Mount(mountPath, http.StripPrefix(mountPath, emulator))
		return parent
	})
}
