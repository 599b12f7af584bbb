package auth

import (
	"net/http"
	"strings"

	"github.com/linkbff/linkbff/internal/linking"
)

// BearerToken extracts the token from "Authorization: Bearer <token>". The
// scheme is case-insensitive (RFC 9110 §11.1); anything else is an
// Unauthenticated error whose message never repeats the header.
func BearerToken(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", linking.Errorf(linking.EUnauthenticated, "missing bearer token")
	case 1:
	default:
		return "", linking.Errorf(linking.EUnauthenticated, "malformed authorization header")
	}
	scheme, token, found := strings.Cut(strings.TrimSpace(values[0]), " ")
	token = strings.TrimSpace(token)
	if !found || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", linking.Errorf(linking.EUnauthenticated, "malformed authorization header")
	}
	return token, nil
}
