package emulator

import (
	"net/http"
	"net/url"
	"slices"
)

func (e *Emulator) createLinkToken(w http.ResponseWriter, r *http.Request) {
	fields, ok := readFields(w, r)
	if !ok {
		return
	}
	t := &linkToken{
		userID:            fields.requiredUUID("user_id"),
		provider:          fields.optionalProviderSlug("provider"),
		redirectURL:       fields.optionalString("redirect_url"),
		filterOnProviders: fields.optionalProviderList("filter_on_providers"),
		onError:           fields.optionalConst("on_error", "redirect"),
		onClose:           fields.optionalConst("on_close", "redirect"),
	}
	if len(fields.issues) > 0 {
		writeValidation(w, fields.issues)
		return
	}
	// Valid slugs the team cannot offer through Link are Junction's own
	// 400, after FastAPI's schema validation passed.
	for _, slug := range append([]string{t.provider}, t.filterOnProviders...) {
		if slug == "" {
			continue
		}
		if p, ok := findProvider(slug); !ok || !p.linkable() {
			writeDetail(w, http.StatusBadRequest, "Provider "+slug+" is not available through Link for this team.")
			return
		}
	}
	if t.redirectURL != "" {
		if u, err := url.Parse(t.redirectURL); err != nil || u.Scheme == "" {
			writeDetail(w, http.StatusBadRequest, "redirect_url must be an absolute URL.")
			return
		}
	}

	// The user's own id string is kept, not the request's copy: tokens
	// are many, users few.
	userID, ok := e.knownUserID(t.userID)
	if !ok {
		writeDetail(w, http.StatusNotFound, userNotFound)
		return
	}
	t.userID = userID
	now := e.now()
	t.token = newLinkToken()
	t.expiresAt = now.Add(e.cfg.TokenTTL)
	e.tokens.add(t, now)
	writeJSON(w, http.StatusOK, wireLinkToken{LinkToken: t.token, LinkWebURL: e.linkWebURL(r, t.token)})
}

// newLinkToken is opaque standard base64, like Junction's: it holds '+' and
// '/', so a client that forgets to URL-encode it fails visibly.
func newLinkToken() string {
	return base64Std(randomBytes(24))
}

func (e *Emulator) linkWebURL(r *http.Request, token string) string {
	q := "token=" + url.QueryEscape(token) + "&env=" + url.QueryEscape(e.cfg.Env) + "&region=" + url.QueryEscape(e.cfg.Region)
	return e.baseURL(r) + "/link/?" + q
}

// oauthURL is the emulator's consent screen for one provider.
func (e *Emulator) oauthURL(r *http.Request, slug, token string) string {
	return e.baseURL(r) + "/link/oauth/" + url.PathEscape(slug) + "?token=" + url.QueryEscape(token)
}

// linkTokenFromHeader authenticates a Link-token call: 400 when the header
// is missing, 401 when the token is unknown, expired or used.
func (e *Emulator) linkTokenFromHeader(w http.ResponseWriter, r *http.Request) (linkToken, bool) {
	raw := r.Header.Get("x-vital-link-token")
	if raw == "" {
		writeDetail(w, http.StatusBadRequest, "Missing x-vital-link-token header.")
		return linkToken{}, false
	}
	t, status := e.checkToken(raw)
	if status != tokenValid {
		writeDetail(w, http.StatusUnauthorized, "Invalid link token: "+status.errorType()+".")
		return linkToken{}, false
	}
	return t, true
}

func (e *Emulator) oauthProvider(w http.ResponseWriter, r *http.Request) {
	t, ok := e.linkTokenFromHeader(w, r)
	if !ok {
		return
	}
	slug := pathParam(r, "oauth_provider")
	p, ok := findProvider(slug)
	if !ok || !p.isOAuth() {
		writeDetail(w, http.StatusBadRequest, "Invalid provider: "+slug+" is not an OAuth provider.")
		return
	}
	if !t.allows(slug) {
		writeDetail(w, http.StatusBadRequest, "Provider "+slug+" is not allowed by this link token.")
		return
	}
	writeJSON(w, http.StatusOK, wireSource{
		Name:            p.name,
		Slug:            p.slug,
		Description:     p.description,
		Logo:            e.logoURL(r, p.slug),
		OAuthURL:        ptr(e.oauthURL(r, p.slug, t.token)),
		AuthType:        ptr(p.authType),
		SourceType:      ptr(p.sourceType),
		IsActive:        ptr(true),
		BackfillNumDays: ptr(p.backfillDay),
		ID:              p.id,
	})
}

func (e *Emulator) linkProviders(w http.ResponseWriter, r *http.Request) {
	t, ok := e.linkTokenFromHeader(w, r)
	if !ok {
		return
	}
	out := []wireSourceLink{}
	for _, p := range catalogue {
		if !t.shows(p) {
			continue
		}
		item := wireSourceLink{
			ID: p.id, Name: p.name, Slug: p.slug, Description: p.description,
			Logo: e.logoURL(r, p.slug), AuthType: ptr(p.authType), FormComponents: map[string]any{},
		}
		if p.isOAuth() {
			item.OAuthURL = ptr(e.oauthURL(r, p.slug, t.token))
		}
		out = append(out, item)
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) teamProviders(w http.ResponseWriter, r *http.Request) {
	sourceType := r.URL.Query().Get("source_type")
	out := []wireProviderDetailed{}
	for _, p := range catalogue {
		if sourceType != "" && p.sourceType != sourceType {
			continue
		}
		out = append(out, wireProviderDetailed{
			Name: p.name, Slug: p.slug, Description: p.description,
			Logo: ptr(e.logoURL(r, p.slug)), AuthType: ptr(p.authType),
			SupportedResources: slices.Clone(p.resources),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// allows reports whether the token lets the user connect slug.
func (t linkToken) allows(slug string) bool {
	if t.provider != "" {
		return t.provider == slug
	}
	return len(t.filterOnProviders) == 0 || slices.Contains(t.filterOnProviders, slug)
}
