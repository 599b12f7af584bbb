package handlers

import (
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/auth"
)

type devTokenRequest struct {
	User string `json:"user"`
}

type devTokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      string    `json:"user"`
}

// handleDevToken is the dev-mode sign-in: it mints a short-lived token for
// any user name, so the whole flow can be tried without an identity provider.
func handleDevToken(log zerolog.Logger, issuer *auth.DevIssuer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req devTokenRequest
		if err := decode(w, r, &req); err != nil {
			encodeError(w, r, log, err)
			return
		}
		token, exp, err := issuer.Issue(req.User)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, devTokenResponse{Token: token, ExpiresAt: exp.UTC(), User: req.User})
	})
}
