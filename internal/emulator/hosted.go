package emulator

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// The hosted Link pages: link_web_url shows the provider list, each auth
// type has its own page (auth_pages.go), and every visit ends in one
// outcome: a redirect to redirect_url like Junction's, a result page when
// there is none, or, inside the widget's iframe, a message to the app
// (widget.go). The pages link to each other with relative URLs so that
// they work whatever prefix the handler is mounted under.

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

// flow is one visit to the Link pages: its token and, inside the widget's
// iframe, the app's origin that the outcome is posted to.
type flow struct {
	token  string
	origin string // empty outside the widget
}

// flowOf reads the token and origin from the query or a posted form.
func flowOf(r *http.Request) (flow, bool) {
	f := flow{token: r.FormValue("token"), origin: r.FormValue("origin")}
	if f.origin == "" {
		return f, true
	}
	u, err := url.Parse(f.origin)
	// The origin goes into a CSP header: only plain host names, IP
	// addresses and ports, nothing that could end a directive.
	ok := err == nil && (u.Scheme == "http" || u.Scheme == "https") && originHost.MatchString(u.Host) &&
		f.origin == u.Scheme+"://"+u.Host
	return f, ok
}

var originHost = regexp.MustCompile(`^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$`)

func (f flow) widget() bool { return f.origin != "" }

// query carries the flow from page to page.
func (f flow) query() string {
	q := "token=" + url.QueryEscape(f.token)
	if f.origin != "" {
		q += "&origin=" + url.QueryEscape(f.origin)
	}
	return q
}

// visit starts every Link page: it reads the flow and checks its token,
// answering the outcome itself (and returning false) when the visit
// cannot go on.
func (e *Emulator) visit(w http.ResponseWriter, r *http.Request) (flow, linkToken, bool) {
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		if err := r.ParseForm(); err != nil {
			e.renderResult(w, r, flow{}, http.StatusBadRequest, resultPage{Heading: "Form not readable",
				Message: "The form could not be read.", ErrorType: "invalid_request"})
			return flow{}, linkToken{}, false
		}
	}
	f, ok := flowOf(r)
	if !ok {
		e.renderResult(w, r, flow{}, http.StatusBadRequest, resultPage{Heading: "Link cannot open here",
			Message: "The widget's origin is not an http(s) origin.", ErrorType: "invalid_request"})
		return flow{}, linkToken{}, false
	}
	t, status := e.checkToken(f.token)
	if status != tokenValid {
		e.finishWithError(w, r, f, t, status.errorType(), http.StatusBadRequest)
		return flow{}, linkToken{}, false
	}
	return f, t, true
}

// pathProvider is the {provider} of a Link page, if this token may show it
// with that auth type; otherwise it answers a 400 page.
func (e *Emulator) pathProvider(w http.ResponseWriter, r *http.Request, f flow, t linkToken, authType string) (provider, bool) {
	p, ok := findProvider(pathParam(r, "provider"))
	if !ok || p.authType != authType || !t.shows(p) {
		e.renderResult(w, r, f, http.StatusBadRequest, resultPage{Heading: "Provider not available",
			Message: "This provider cannot be connected with this link.", ErrorType: "invalid_provider"})
		return provider{}, false
	}
	return p, true
}

// shows reports whether the Link pages offer p for this token: what the
// token allows, plus the SDK providers (explained, not connected) when the
// token leaves the choice to the user.
func (t linkToken) shows(p provider) bool {
	if !p.linkable() {
		return t.provider == "" && len(t.filterOnProviders) == 0
	}
	return t.allows(p.slug)
}

// providerPage is where the list sends a provider, relative to /link/.
func providerPage(p provider, f flow) string {
	return p.authType + "/" + url.PathEscape(p.slug) + "?" + f.query()
}

// linkRedirectSlash sends /link to /link/ so relative links resolve.
func (e *Emulator) linkRedirectSlash(w http.ResponseWriter, r *http.Request) {
	target := "link/"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	redirect(w, target, http.StatusMovedPermanently)
}

// linkStart is link_web_url: the provider list, or straight to the
// provider's page when the token names one.
func (e *Emulator) linkStart(w http.ResponseWriter, r *http.Request) {
	f, t, ok := e.visit(w, r)
	if !ok {
		return
	}
	if t.provider != "" {
		p, _ := findProvider(t.provider) // checked when the token was minted
		redirect(w, providerPage(p, f), http.StatusFound)
		return
	}
	data := pageData{Title: "Connect a device", CloseHref: "complete?" + f.query() + "&action=close"}
	for _, p := range catalogue {
		if t.shows(p) {
			item := providerItemOf(p, "../")
			item.Href = providerPage(p, f)
			data.Providers = append(data.Providers, item)
		}
	}
	e.renderPage(w, r, f, http.StatusOK, "providers", data)
}

func providerItemOf(p provider, logoPrefix string) providerItem {
	return providerItem{
		Slug: p.slug, Name: p.name, Description: p.description, AuthType: p.authType, Device: p.device, MFA: p.mfa,
		Resources: slices.Clone(p.resources), LogoSrc: logoPrefix + "logos/" + p.slug + ".svg",
	}
}

// linkComplete is where the consent buttons and Close lead, and what
// scripts use to finish a visit without filling in forms:
// action=approve|deny|close|error(&error_type=X)&provider=P.
//
// approve connects any provider the token allows (skipping its form).
// deny is the user refusing at the provider: for OAuth, declining the
// consent (required_scopes_not_granted); for forms, credentials the
// provider rejects (provider_credential_error), shown inline unless
// on_error=redirect. close without on_close=redirect, or in the widget,
// only ends the visit and leaves the token unused, as closing the real
// widget does.
func (e *Emulator) linkComplete(w http.ResponseWriter, r *http.Request) {
	action := r.URL.Query().Get("action")
	if !slices.Contains([]string{"approve", "deny", "close", "error"}, action) {
		e.renderResult(w, r, flow{}, http.StatusBadRequest, resultPage{Heading: "Unknown action",
			Message: "The action must be approve, deny, close or error.", ErrorType: "invalid_request"})
		return
	}
	f, t, ok := e.visit(w, r)
	if !ok {
		return
	}
	if action == "close" {
		if f.widget() || t.onClose != "redirect" {
			e.renderResult(w, r, f, http.StatusOK, resultPage{Heading: "Link closed", Message: "No provider was connected.",
				Event: "exit", Provider: r.URL.Query().Get("provider")})
			return
		}
		e.finish(w, r, f, "", func(t linkToken) { e.finishWithError(w, r, f, t, "user_cancelled", http.StatusOK) })
		return
	}
	p, found := findProvider(r.URL.Query().Get("provider"))
	if !found || !p.linkable() || !t.allows(p.slug) {
		e.renderResult(w, r, f, http.StatusBadRequest, resultPage{Heading: "Provider not available",
			Message: "This provider cannot be connected with this link.", ErrorType: "invalid_provider"})
		return
	}
	switch action {
	case "approve":
		e.succeed(w, r, f, p)
	case "deny":
		if p.isOAuth() {
			e.finish(w, r, f, p.slug, func(t linkToken) {
				e.finishWithError(w, r, f, t, "required_scopes_not_granted", http.StatusOK)
			})
			return
		}
		e.formError(w, r, f, t, p, "provider_credential_error", func(message string) {
			e.renderResult(w, r, f, http.StatusOK, resultPage{Heading: "Could not connect " + p.name, Message: message,
				ErrorType: "provider_credential_error", BackHref: providerPage(p, f)})
		})
	case "error":
		errorType := r.URL.Query().Get("error_type")
		if errorType == "" {
			errorType = "provider_api_error"
		}
		e.finish(w, r, f, p.slug, func(t linkToken) { e.finishWithError(w, r, f, t, errorType, http.StatusOK) })
	}
}

// finish consumes the token, once, then runs outcome with it; of racing
// visits exactly one gets there, the others are told token_consumed.
func (e *Emulator) finish(w http.ResponseWriter, r *http.Request, f flow, provider string, outcome func(linkToken)) {
	t, status := e.consumeToken(f.token)
	if status != tokenValid {
		e.finishWithError(w, r, f, t, status.errorType(), http.StatusBadRequest)
		return
	}
	t.provider = provider // the outcome names the provider the user chose
	outcome(t)
}

// succeed connects p for the token's user and reports success.
func (e *Emulator) succeed(w http.ResponseWriter, r *http.Request, f flow, p provider) {
	e.finish(w, r, f, p.slug, func(t linkToken) {
		if !e.connect(r, t.userID, p) {
			e.finishWithError(w, r, f, t, "invalid_token", http.StatusBadRequest)
			return
		}
		e.finishWithSuccess(w, r, f, t, p)
	})
}

// formError reports a failed sign-in: with on_error=redirect it ends the
// visit with errorType; otherwise showInline explains it and the user may
// try again with the same token.
func (e *Emulator) formError(w http.ResponseWriter, r *http.Request, f flow, t linkToken, p provider, errorType string, showInline func(message string)) {
	if t.onError != "redirect" {
		showInline(errorMessage(errorType))
		return
	}
	e.finish(w, r, f, p.slug, func(t linkToken) { e.finishWithError(w, r, f, t, errorType, http.StatusOK) })
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

func (e *Emulator) finishWithSuccess(w http.ResponseWriter, r *http.Request, f flow, t linkToken, p provider) {
	if f.widget() || t.redirectURL == "" {
		e.renderResult(w, r, f, http.StatusOK, resultPage{Heading: p.name + " connected",
			Message: p.name + " is now connected to your app.", Event: "success", Provider: p.slug})
		return
	}
	redirect(w, appendQuery(t.redirectURL, url.Values{"state": {"success"}}), redirectStatus(r))
}

// finishWithError redirects to the token's redirect_url with the error, or
// shows it when there is none (always for an unknown token) or inside the
// widget, whose page then tells the app.
func (e *Emulator) finishWithError(w http.ResponseWriter, r *http.Request, f flow, t linkToken, errorType string, pageStatus int) {
	message := errorMessage(errorType)
	if f.widget() || t.redirectURL == "" {
		event := "error"
		if errorType == "user_cancelled" {
			event = "exit"
		}
		e.renderResult(w, r, f, pageStatus, resultPage{Heading: "Could not connect", Message: message,
			ErrorType: errorType, Event: event, Provider: t.provider})
		return
	}
	target := appendQuery(t.redirectURL, url.Values{"state": {"error"}, "error_type": {errorType}, "error": {message}})
	redirect(w, target, redirectStatus(r))
}

// redirectStatus is Junction's 307 for a link followed, and 303 after a
// posted form, so that the browser does not post the form again to
// redirect_url.
func redirectStatus(r *http.Request) int {
	if r.Method == http.MethodPost {
		return http.StatusSeeOther
	}
	return http.StatusTemporaryRedirect
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
