package emulator

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The hosted Link pages link to each other with relative URLs so that they
// work whatever prefix the handler is mounted under.

// errorMessages is the human text sent in the redirect's error parameter.
var errorMessages = map[string]string{
	"invalid_token":               "The link token is invalid.",
	"token_expired":               "The link token has expired.",
	"token_consumed":              "The link token has already been used.",
	"token_not_validated":         "The link token was not validated.",
	"user_cancelled":              "The user closed Link without connecting.",
	"provider_credential_error":   "The provider rejected the credentials.",
	"provider_password_expired":   "The password at the provider has expired.",
	"provider_api_error":          "The provider's API returned an error.",
	"unsupported_region":          "The provider does not support this region.",
	"duplicate_connection":        "This provider account is already connected to another user.",
	"required_scopes_not_granted": "The user did not grant the required permissions.",
	"incorrect_mfa_code":          "The multi-factor authentication code was incorrect.",
}

func errorMessage(errorType string) string {
	if msg, ok := errorMessages[errorType]; ok {
		return msg
	}
	return "Connection failed (" + errorType + ")."
}

// linkRedirectSlash sends /link to /link/ so relative links resolve.
func (e *Emulator) linkRedirectSlash(w http.ResponseWriter, r *http.Request) {
	target := "link/"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	redirect(w, target, http.StatusMovedPermanently)
}

// linkStart is link_web_url: the provider list, or straight to the consent
// screen when the token names a provider.
func (e *Emulator) linkStart(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("token")
	t, status := e.checkToken(raw)
	if status != tokenValid {
		e.finishWithError(w, r, t, status.errorType(), http.StatusBadRequest)
		return
	}
	if t.provider != "" {
		redirect(w, "oauth/"+url.PathEscape(t.provider)+"?token="+url.QueryEscape(raw), http.StatusFound)
		return
	}
	data := pageData{Title: "Connect a device", CloseHref: "complete?token=" + url.QueryEscape(raw) + "&action=close"}
	for _, p := range t.offeredProviders() {
		item := providerItemOf(p, "../")
		item.Href = "oauth/" + url.PathEscape(p.slug) + "?token=" + url.QueryEscape(raw)
		data.Providers = append(data.Providers, item)
	}
	e.renderPage(w, http.StatusOK, "providers", data)
}

// consentScreen imitates a provider's OAuth consent (or sign-in) page.
func (e *Emulator) consentScreen(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("token")
	t, status := e.checkToken(raw)
	if status != tokenValid {
		e.finishWithError(w, r, t, status.errorType(), http.StatusBadRequest)
		return
	}
	p, ok := findProvider(pathParam(r, "provider"))
	if !ok || !p.linkable() || !t.allows(p.slug) {
		e.renderResult(w, http.StatusBadRequest, "Provider not available", "This provider cannot be connected with this link.", "invalid_provider")
		return
	}
	e.renderConsent(w, http.StatusOK, p, raw, "")
}

func (e *Emulator) renderConsent(w http.ResponseWriter, status int, p provider, rawToken, inlineError string) {
	base := "../complete?token=" + url.QueryEscape(rawToken) + "&provider=" + url.QueryEscape(p.slug) + "&action="
	e.renderPage(w, status, "consent", pageData{
		Title:       "Connect " + p.name,
		Provider:    providerItemOf(p, "../../"),
		InlineError: inlineError,
		ApproveHref: base + "approve",
		DenyHref:    base + "deny",
		CloseHref:   base + "close",
	})
}

func providerItemOf(p provider, logoPrefix string) providerItem {
	return providerItem{
		Slug: p.slug, Name: p.name, Description: p.description, AuthType: p.authType,
		Resources: slices.Clone(p.resources), LogoSrc: logoPrefix + "logos/" + p.slug + ".svg",
	}
}

// linkComplete is where the consent buttons lead. It consumes the token
// (once) and sends the outcome to redirect_url with a 307, like Junction.
//
// action=close without on_close=redirect only shows a page and leaves the
// token unused, as closing the real widget does. action=deny on a password
// or email provider without on_error=redirect shows the error inline and
// also leaves the token unused. action=error&error_type=X (for tests)
// finishes with any error type.
func (e *Emulator) linkComplete(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	raw, action := q.Get("token"), q.Get("action")
	if !slices.Contains([]string{"approve", "deny", "close", "error"}, action) {
		e.renderResult(w, http.StatusBadRequest, "Unknown action", "The action must be approve, deny, close or error.", "invalid_request")
		return
	}
	t, status := e.checkToken(raw)
	if status != tokenValid {
		e.finishWithError(w, r, t, status.errorType(), http.StatusBadRequest)
		return
	}
	if action == "close" && t.onClose != "redirect" {
		e.renderResult(w, http.StatusOK, "Link closed", "No provider was connected.", "")
		return
	}
	var p provider
	if action != "close" {
		var ok bool
		p, ok = findProvider(q.Get("provider"))
		if !ok || !p.linkable() || !t.allows(p.slug) {
			e.renderResult(w, http.StatusBadRequest, "Provider not available", "This provider cannot be connected with this link.", "invalid_provider")
			return
		}
	}
	if action == "deny" && !p.isOAuth() && t.onError != "redirect" {
		e.renderConsent(w, http.StatusOK, p, raw, errorMessage("provider_credential_error"))
		return
	}

	t, status = e.consumeToken(raw)
	if status != tokenValid {
		e.finishWithError(w, r, t, status.errorType(), http.StatusBadRequest)
		return
	}
	switch action {
	case "approve":
		if !e.connect(r, t.userID, p) {
			e.finishWithError(w, r, t, "invalid_token", http.StatusBadRequest)
			return
		}
		e.finishWithSuccess(w, r, t, p)
	case "deny":
		e.finishWithError(w, r, t, "provider_credential_error", http.StatusOK)
	case "close":
		e.finishWithError(w, r, t, "user_cancelled", http.StatusOK)
	case "error":
		errorType := q.Get("error_type")
		if errorType == "" {
			errorType = "provider_api_error"
		}
		e.finishWithError(w, r, t, errorType, http.StatusOK)
	}
}

// connect records the connection and schedules its webhook; false when the
// user was deleted meanwhile.
func (e *Emulator) connect(r *http.Request, userID string, p provider) bool {
	e.mu.Lock()
	u, ok := e.state.usersByID[userID]
	if !ok {
		e.mu.Unlock()
		return false
	}
	c := u.upsertConnection(p.slug, e.now())
	wp := e.wireProviderOf(r, p)
	event := wireConnectionCreatedEvent{
		EventType:    "provider.connection.created",
		UserID:       u.id,
		ClientUserID: u.clientUserID,
		TeamID:       e.cfg.TeamID,
		Data: wireConnectionCreatedData{
			UserID:               u.id,
			Source:               wp,
			Provider:             wp,
			ExternalUserID:       ptr(c.externalUserID),
			ResourceAvailability: resourceAvailability(p),
		},
	}
	e.mu.Unlock()
	e.stateChanged()
	e.sendWebhook(event.EventType, event)
	return true
}

func (e *Emulator) finishWithSuccess(w http.ResponseWriter, r *http.Request, t linkToken, p provider) {
	if t.redirectURL == "" {
		e.renderResult(w, http.StatusOK, p.name+" connected", p.name+" is now connected to your app.", "")
		return
	}
	redirect(w, appendQuery(t.redirectURL, url.Values{"state": {"success"}}), http.StatusTemporaryRedirect)
}

// finishWithError redirects to the token's redirect_url with the error, or
// shows it when there is none (always for an unknown token).
func (e *Emulator) finishWithError(w http.ResponseWriter, r *http.Request, t linkToken, errorType string, pageStatus int) {
	message := errorMessage(errorType)
	if t.redirectURL == "" {
		e.renderResult(w, pageStatus, "Could not connect", message, errorType)
		return
	}
	target := appendQuery(t.redirectURL, url.Values{"state": {"error"}, "error_type": {errorType}, "error": {message}})
	redirect(w, target, http.StatusTemporaryRedirect)
}

// redirect sets Location verbatim. http.Redirect would rewrite a relative
// target against r.URL.Path, which lost the mount prefix to StripPrefix.
func redirect(w http.ResponseWriter, location string, status int) {
	w.Header().Set("Location", location)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
}

// appendQuery adds params after any query redirect_url already has,
// keeping that query and any fragment byte for byte.
func appendQuery(rawURL string, params url.Values) string {
	base, fragment, hasFragment := strings.Cut(rawURL, "#")
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
		if strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&") {
			sep = ""
		}
	}
	out := base + sep + encodeOrdered(params)
	if hasFragment {
		out += "#" + fragment
	}
	return out
}

// encodeOrdered puts state first, like Junction, then the rest sorted.
func encodeOrdered(params url.Values) string {
	var parts []string
	if v, ok := params["state"]; ok {
		parts = append(parts, "state="+url.QueryEscape(v[0]))
	}
	rest := url.Values{}
	for k, v := range params {
		if k != "state" {
			rest[k] = v
		}
	}
	if encoded := rest.Encode(); encoded != "" {
		parts = append(parts, encoded)
	}
	return strings.Join(parts, "&")
}
