package handlers

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/linking"
)

type linkTokenRequest struct {
	Provider          string   `json:"provider"`
	FilterOnProviders []string `json:"filter_on_providers"`
	ReturnTo          string   `json:"return_to"`
}

// linkTokenResponse carries the same two fields as Junction's, so
// useVitalLink's open(link_token) and "open link_web_url" both work.
type linkTokenResponse struct {
	LinkToken  string `json:"link_token"`
	LinkWebURL string `json:"link_web_url"`
}

func handleLinkToken(log zerolog.Logger, svc *linking.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req linkTokenRequest
		if err := decode(w, r, &req); err != nil {
			encodeError(w, r, log, err)
			return
		}
		token, err := svc.StartLink(r.Context(), userID(r), linking.LinkRequest{
			Provider:          req.Provider,
			FilterOnProviders: req.FilterOnProviders,
			ReturnTo:          req.ReturnTo,
		})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, linkTokenResponse{LinkToken: token.Token, LinkWebURL: token.WebURL})
	})
}

type providerSummary struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
	Logo string `json:"logo"`
}

type oauthLinkResponse struct {
	OAuthURL string          `json:"oauth_url"`
	Provider providerSummary `json:"provider"`
}

func handleOAuthLink(log zerolog.Logger, svc *linking.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		link, err := svc.OAuthLink(r.Context(), userID(r), chi.URLParam(r, "provider"), r.URL.Query().Get("return_to"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		p := link.Provider
		encode(w, http.StatusOK, oauthLinkResponse{
			OAuthURL: link.URL,
			Provider: providerSummary{Slug: p.Slug, Name: p.Name, Logo: p.Logo},
		})
	})
}
