package handlers

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/linking"
)

func handleListConnections(log zerolog.Logger, svc *linking.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := svc.Connections(r.Context(), userID(r))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, list)
	})
}

func handleDisconnect(log zerolog.Logger, svc *linking.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := svc.Disconnect(r.Context(), userID(r), chi.URLParam(r, "provider")); err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type providerResponse struct {
	Slug               string   `json:"slug"`
	Name               string   `json:"name"`
	Logo               string   `json:"logo"`
	Description        string   `json:"description"`
	AuthType           string   `json:"auth_type"`
	SupportedResources []string `json:"supported_resources"`
}

func handleListProviders(log zerolog.Logger, svc *linking.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		providers, err := svc.Providers(r.Context())
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		out := make([]providerResponse, 0, len(providers))
		for _, p := range providers {
			resources := p.SupportedResources
			if resources == nil {
				resources = []string{}
			}
			out = append(out, providerResponse{Slug: p.Slug, Name: p.Name, Logo: p.Logo, Description: p.Description, AuthType: p.AuthType, SupportedResources: resources})
		}
		encode(w, http.StatusOK, map[string]any{"providers": out})
	})
}

type signInTokenResponse struct {
	UserID      string `json:"user_id"`
	SignInToken string `json:"sign_in_token"`
}

func handleSignInToken(log zerolog.Logger, svc *linking.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, token, err := svc.SignInToken(r.Context(), userID(r))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, signInTokenResponse{UserID: id, SignInToken: token})
	})
}

func handleDeleteMe(log zerolog.Logger, svc *linking.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := svc.DeleteAppUser(r.Context(), userID(r)); err != nil {
			encodeError(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
