package handlers

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/linking"
)

// connectionResponse is one connection; absent values are null so apps can
// tell "unknown" from "empty".
type connectionResponse struct {
	Provider       string     `json:"provider"`
	Name           string     `json:"name"`
	Logo           string     `json:"logo"`
	Status         string     `json:"status"` // "connected" | "error"
	ConnectedAt    *time.Time `json:"connected_at"`
	ErrorType      *string    `json:"error_type"`
	ExternalUserID *string    `json:"external_user_id"`
}

// connectionListResponse: stale is true when Junction could not be asked and
// the list comes from webhooks alone.
type connectionListResponse struct {
	Connections []connectionResponse `json:"connections"`
	Stale       bool                 `json:"stale,omitempty"`
}

func handleListConnections(log zerolog.Logger, svc *linking.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := svc.Connections(r.Context(), userID(r))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, connectionListResponse{Connections: connectionsResponse(list.Connections), Stale: list.Stale})
	})
}

func connectionsResponse(list []linking.Connection) []connectionResponse {
	out := make([]connectionResponse, 0, len(list))
	for _, c := range list {
		out = append(out, connectionResponse{
			Provider: c.Provider, Name: c.Name, Logo: c.Logo, Status: c.Status, ConnectedAt: c.ConnectedAt,
			ErrorType: nonEmpty(c.ErrorType), ExternalUserID: nonEmpty(c.ExternalUserID),
		})
	}
	return out
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

type providersResponse struct {
	Providers []providerResponse `json:"providers"`
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
		out := providersResponse{Providers: make([]providerResponse, 0, len(providers))}
		for _, p := range providers {
			resources := p.SupportedResources
			if resources == nil {
				resources = []string{}
			}
			out.Providers = append(out.Providers, providerResponse{Slug: p.Slug, Name: p.Name, Logo: p.Logo, Description: p.Description, AuthType: p.AuthType, SupportedResources: resources})
		}
		encode(w, http.StatusOK, out)
	})
}

type signInTokenResponse struct {
	UserID      string `json:"user_id"`
	SignInToken string `json:"sign_in_token"`
}

func handleSignInToken(log zerolog.Logger, svc *linking.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := svc.SignInToken(r.Context(), userID(r))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, signInTokenResponse{UserID: t.JunctionUserID, SignInToken: t.Token})
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
