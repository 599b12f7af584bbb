package emulator

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
)

// routes is the emulator's whole surface on one screen. It uses chi, like
// linkbff's own API, so the repository has one router.
func (e *Emulator) routes() http.Handler {
	r := chi.NewRouter()
	team := e.requireAPIKey

	// Team API (x-vital-api-key).
	r.Post("/v2/user", team(e.createUser))
	r.Get("/v2/user", team(e.listUsers))
	r.Get("/v2/user/{user_id}", team(e.getUser))
	r.Delete("/v2/user/{user_id}", team(e.deleteUser))
	r.Get("/v2/user/resolve/{client_user_id}", team(e.resolveUser))
	r.Get("/v2/user/providers/{user_id}", team(e.connectedProviders))
	r.Delete("/v2/user/{user_id}/{provider}", team(e.deregisterProvider))
	r.Post("/v2/user/{user_id}/sign_in_token", team(e.signInToken))
	r.Post("/v2/link/token", team(e.createLinkToken))
	r.Post("/v2/link/connect/demo", team(e.connectDemo))
	r.Get("/v2/providers", team(e.teamProviders))

	// Link-token API (x-vital-link-token, no API key).
	r.Get("/v2/link/provider/oauth/{oauth_provider}", e.oauthProvider)
	r.Get("/v2/link/providers", e.linkProviders)

	// Hosted Link pages, one per auth type, the widget script and logos
	// (browser).
	r.Get("/link", e.linkRedirectSlash)
	r.Get("/link/", e.linkStart)
	r.Get("/link/initialize.js", e.widgetScript)
	r.Get("/link/page.js", e.pageScript)
	r.Get("/link/oauth/{provider}", e.consentScreen)
	r.Get("/link/password/{provider}", e.passwordForm)
	r.Post("/link/password/{provider}", e.passwordSubmit)
	r.Post("/link/mfa/{provider}", e.mfaSubmit)
	r.Get("/link/email/{provider}", e.emailForm)
	r.Post("/link/email/{provider}", e.emailSubmit)
	r.Get("/link/sdk/{provider}", e.sdkExplanation)
	r.Get("/link/complete", e.linkComplete)
	r.Get("/logos/{file}", e.serveLogo)

	// Emulator-only controls for tests and demos (x-vital-api-key).
	r.Post("/_emulator/connection-error", team(e.controlConnectionError))
	// The demo connection again, under the controls, which linkbff's dev
	// mode opens without its per-process API key.
	r.Post("/_emulator/connect-demo", team(e.connectDemo))
	r.Get("/_emulator/deliveries", team(e.controlDeliveries))

	// FastAPI's answers for anything else.
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeDetail(w, http.StatusNotFound, "Not Found")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Allow", strings.Join(allowedMethods(r, req), ", "))
		writeDetail(w, http.StatusMethodNotAllowed, "Method Not Allowed")
	})
	return r
}

// allowedMethods lists what the path answers to, for 405's Allow header.
func allowedMethods(routes chi.Routes, r *http.Request) []string {
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	var out []string
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		if routes.Match(chi.NewRouteContext(), method, path) {
			out = append(out, method)
		}
	}
	return out
}

// pathParam is a path parameter, unescaped: chi matches on the escaped
// path when the request has one, so "a%2Fb" arrives as is.
func pathParam(r *http.Request, name string) string {
	v := chi.URLParam(r, name)
	if r.URL.RawPath != "" {
		if unescaped, err := url.PathUnescape(v); err == nil {
			return unescaped
		}
	}
	return v
}
