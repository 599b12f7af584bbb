package emulator

import "net/http"

// routes is the emulator's whole surface on one screen.
func (e *Emulator) routes() http.Handler {
	mux := http.NewServeMux()
	team := e.requireAPIKey

	// Team API (x-vital-api-key).
	mux.HandleFunc("POST /v2/user", team(e.createUser))
	mux.HandleFunc("GET /v2/user", team(e.listUsers))
	mux.HandleFunc("GET /v2/user/{user_id}", team(e.getUser))
	mux.HandleFunc("DELETE /v2/user/{user_id}", team(e.deleteUser))
	mux.HandleFunc("GET /v2/user/resolve/{client_user_id}", team(e.resolveUser))
	mux.HandleFunc("GET /v2/user/providers/{user_id}", team(e.connectedProviders))
	mux.HandleFunc("DELETE /v2/user/{user_id}/{provider}", team(e.deregisterProvider))
	mux.HandleFunc("POST /v2/user/{user_id}/sign_in_token", team(e.signInToken))
	mux.HandleFunc("POST /v2/link/token", team(e.createLinkToken))
	mux.HandleFunc("GET /v2/providers", team(e.teamProviders))

	// Link-token API (x-vital-link-token, no API key).
	mux.HandleFunc("GET /v2/link/provider/oauth/{oauth_provider}", e.oauthProvider)
	mux.HandleFunc("GET /v2/link/providers", e.linkProviders)

	// Hosted Link pages and logos (browser).
	mux.HandleFunc("GET /link", e.linkRedirectSlash)
	mux.HandleFunc("GET /link/{$}", e.linkStart)
	mux.HandleFunc("GET /link/oauth/{provider}", e.consentScreen)
	mux.HandleFunc("GET /link/complete", e.linkComplete)
	mux.HandleFunc("GET /logos/{file}", e.serveLogo)

	// Emulator-only controls for tests and demos (x-vital-api-key).
	mux.HandleFunc("POST /_emulator/connection-error", team(e.controlConnectionError))
	mux.HandleFunc("GET /_emulator/deliveries", team(e.controlDeliveries))

	// FastAPI's answer for anything else.
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeDetail(w, http.StatusNotFound, "Not Found")
	})
	return mux
}
