package handlers

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/web"
)

// callbackResult is the callback's outcome as JSON and as postMessage data.
type callbackResult struct {
	Status    string  `json:"status"`
	Provider  *string `json:"provider"`
	ErrorType *string `json:"error_type"`
}

// handleCallback serves Junction's redirect_url. What arrives is what the
// user's browser saw (anyone can forge it), so it is recorded on the session
// and shown, never taken as proof of a connection.
func handleCallback(log zerolog.Logger, svc *linking.Service, origins []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		cb := linking.Callback{State: q.Get("state"), ErrorType: q.Get("error_type")}
		result, err := svc.CompleteLink(r.Context(), chi.URLParam(r, "session_id"), cb)
		if err != nil {
			renderCallbackError(w, r, log, err)
			return
		}
		// Junction's human error text is neither logged, shown nor forwarded:
		// anyone can write anything there, and it may name the user.
		log.Info().Str("request_id", requestIDFrom(r.Context())).Str("status", result.Status).Str("error_type", result.ErrorType).Str("provider", result.Provider).Msg("link callback")

		if wantsJSON(r) {
			encode(w, http.StatusOK, callbackResult{Status: result.Status, Provider: nonEmpty(result.Provider), ErrorType: nonEmpty(result.ErrorType)})
			return
		}
		if result.ReturnTo != "" {
			// No body: http.Redirect would add an HTML one, without a CSP.
			w.Header().Set("Location", returnURL(result))
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusSeeOther)
			return
		}
		title, message := describeOutcome(result)
		renderCallbackPage(w, log, http.StatusOK, web.CallbackData{
			Title: title, Message: message, Status: result.Status,
			Provider: result.Provider, ErrorType: result.ErrorType, Origins: origins,
		})
	})
}

// callbackOrigins are the web origins the callback page may post its outcome
// to: the allowed return origins (linkbff's own included) and the CORS ones.
func callbackOrigins(returnOrigins, corsOrigins []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, o := range append(slices.Clone(returnOrigins), corsOrigins...) {
		o = strings.TrimRight(strings.ToLower(o), "/")
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	sort.Strings(out)
	return out
}

// returnURL adds the outcome to the app's return_to, keeping its query.
func returnURL(result linking.LinkResult) string {
	u, err := url.Parse(result.ReturnTo)
	if err != nil { // validated when the session was opened
		return result.ReturnTo
	}
	q := u.Query()
	q.Set("link_status", result.Status)
	if result.Provider != "" {
		q.Set("provider", result.Provider)
	}
	if result.ErrorType != "" {
		q.Set("error_type", result.ErrorType)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func renderCallbackError(w http.ResponseWriter, r *http.Request, log zerolog.Logger, err error) {
	if wantsJSON(r) {
		encodeError(w, r, log, err)
		return
	}
	status, detail, e := describe(err)
	logError(log, r, status, err)
	setRetryAfter(w, status, e)
	title := "Something went wrong"
	switch linking.ErrorCodeOf(err) {
	case linking.ENotFound:
		title = "This link has expired"
	case linking.EInvalid:
		title = "This link is incomplete"
	}
	renderCallbackPage(w, log, status, web.CallbackData{Title: title, Message: detail.Message, Status: "not_found"})
}

func renderCallbackPage(w http.ResponseWriter, log zerolog.Logger, status int, data web.CallbackData) {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	data.Nonce = base64.StdEncoding.EncodeToString(nonce[:])
	var buf bytes.Buffer
	if err := web.CallbackPage.Execute(&buf, data); err != nil {
		log.Error().Err(err).Msg("render callback page")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+data.Nonce+"'; style-src 'nonce-"+data.Nonce+"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// describeOutcome says in plain words what happened.
func describeOutcome(o linking.LinkResult) (title, message string) {
	switch o.Status {
	case linking.StatusConnected:
		return "Connected", "Your account was connected. It can take a moment before your data shows up in the app."
	case linking.StatusCancelled:
		return "Nothing was connected", "You closed the connection window before finishing. You can try again any time."
	}
	switch o.ErrorType {
	case "provider_credential_error", "incorrect_mfa_code":
		return "Sign-in failed", "The provider did not accept the sign-in. Check your details and try again."
	case "provider_password_expired":
		return "Password expired", "Your password at the provider has expired. Renew it there, then try again."
	case "required_scopes_not_granted":
		return "Permissions missing", "You didn't grant all the permissions the app needs. Try again and allow every requested permission."
	case "duplicate_connection":
		return "Already connected", "This provider account is already connected to another user."
	case "unsupported_region":
		return "Not available in your region", "This provider is not supported in your region."
	case "token_expired", "token_consumed", "invalid_token", "token_not_validated":
		return "This link has expired", "The connection link is no longer valid. Start again from the app."
	case "provider_api_error":
		return "The provider is having trouble", "The provider did not respond as expected. Try again in a few minutes."
	}
	return "Connection failed", "The connection could not be completed. Try again, and contact support if it keeps failing."
}

func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
