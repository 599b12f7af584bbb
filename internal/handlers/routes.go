package handlers

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/linkbff/linkbff/api"
)

// addRoutes is the whole HTTP surface of linkbff on one screen.
func addRoutes(r chi.Router, d Deps) {
	r.Method(http.MethodGet, "/healthz", handleHealthz())
	r.Method(http.MethodGet, "/readyz", handleReadyz(d.Log, d.ReadyChecks))
	r.Method(http.MethodGet, "/openapi.json", handleOpenAPI(api.OpenAPI))

	// The app API: JSON, Bearer JWT, CORS for the configured origins.
	r.Route("/v1", func(r chi.Router) {
		r.Use(corsFor(d.CORSAllowedOrigins))
		r.Use(requireUser(d.Log, d.Verifier))
		// perUser guards Junction's quota on every route that calls Junction
		// for each request. The two lists are served from caches that bound
		// their Junction calls already (one per user every 3 s; one shared
		// catalogue every 10 min), so an app may poll them freely.
		perUser := limitBy(d.Log, budgetOf(d.Log, d.UserLimiter, userKey))
		r.With(perUser).Method(http.MethodPost, "/link/token", handleLinkToken(d.Log, d.Linking))
		r.With(perUser).Method(http.MethodGet, "/link/oauth/{provider}", handleOAuthLink(d.Log, d.Linking))
		r.Method(http.MethodGet, "/connections", handleListConnections(d.Log, d.Linking))
		r.With(perUser).Method(http.MethodDelete, "/connections/{provider}", handleDisconnect(d.Log, d.Linking))
		r.Method(http.MethodGet, "/providers", handleListProviders(d.Log, d.Linking))
		r.With(perUser).Method(http.MethodPost, "/mobile/sign-in-token", handleSignInToken(d.Log, d.Linking))
		r.With(perUser).Method(http.MethodDelete, "/me", handleDeleteMe(d.Log, d.Linking))
		// Server-Sent Events; no request deadline (see EventStreamPath).
		if d.Streams != nil {
			r.Method(http.MethodGet, "/events", handleEventStream(d.Log, d.Linking, d.Streams, d.StreamSettings))
		}
	})

	// One per-IP budget per route, so a flood of forged callbacks cannot
	// spend the webhook route's.
	perIP := func(route string) budget { return budgetOf(d.Log, d.IPLimiter, ipKey(route, d.TrustedProxyHeader)) }

	// The user's browser coming back from Junction Link: no auth, per-IP limit.
	r.With(limitBy(d.Log, perIP("callback"))).Method(http.MethodGet, "/link/callback/{session_id}", handleCallback(d.Log, d.Linking, callbackOrigins(d.Linking.ReturnOrigins(), d.CORSAllowedOrigins)))

	// Junction's Svix-signed webhooks, only when a signing secret is set.
	// Only failed verifications spend the per-IP budget: Junction's own
	// deliveries are never limited, whoever shares their address.
	if d.Webhooks != nil {
		r.Method(http.MethodPost, "/webhooks/junction", handleWebhook(d.Log, d.Webhooks, d.Linking, perIP("webhook")))
	}

	// The app's backend: a static key, never a browser (no CORS, no
	// Origin), only when ADMIN_API_KEY is set. Failed attempts spend the
	// caller's per-IP budget.
	if d.AdminAPIKey != "" {
		r.Route("/admin/v1", func(r chi.Router) {
			r.Use(requireAdmin(d.Log, d.AdminAPIKey, perIP("admin")))
			r.Method(http.MethodGet, "/users/{app_user_id}", handleAdminUser(d.Log, d.Linking))
			r.Method(http.MethodGet, "/events", handleAdminEvents(d.Log, d.Linking))
			r.Method(http.MethodPost, "/events/{event_id}/redeliver", handleRedeliver(d.Log, d.Linking))
		})
	}

	// Dev mode only: a sign-in that mints tokens, and the Junction emulator.
	if d.DevIssuer != nil {
		r.Method(http.MethodPost, "/_dev/token", handleDevToken(d.Log, d.DevIssuer))
	}
	if d.Emulator != nil {
		r.Mount("/_junction", http.StripPrefix("/_junction", d.Emulator))
	}
	if d.Demo != nil {
		r.With(contentSecurityPolicy(demoCSP)).Method(http.MethodGet, "/*", d.Demo)
	}
	r.NotFound(handleNotFound())
	r.MethodNotAllowed(handleMethodNotAllowed(r))
}
