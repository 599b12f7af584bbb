package emulator

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

//go:embed templates
var templateFiles embed.FS

// pageCSS is inlined into every page and allowed by its hash, so the CSP
// needs neither 'unsafe-inline' nor any external host.
var pageCSS = mustReadTemplateFile("templates/style.css")

var pageCSSHash = cssHash(pageCSS)

var pages = map[string]*template.Template{
	"providers": parsePage("templates/providers.html"),
	"consent":   parsePage("templates/consent.html"),
	"password":  parsePage("templates/password.html"),
	"mfa":       parsePage("templates/mfa.html"),
	"email":     parsePage("templates/email.html"),
	"sdk":       parsePage("templates/sdk.html"),
	"result":    parsePage("templates/result.html"),
}

func mustReadTemplateFile(name string) string {
	b, err := templateFiles.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func cssHash(css string) string {
	sum := sha256.Sum256([]byte(css))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func parsePage(name string) *template.Template {
	return template.Must(template.ParseFS(templateFiles, "templates/layout.html", name))
}

// pageData feeds every page template; each page uses the fields it needs.
type pageData struct {
	Title string
	Env   string
	CSS   template.CSS
	// Root leads from the page back to /link/ ("" or "../").
	Root string

	// providers page
	Providers []providerItem
	// provider pages
	Provider    providerItem
	InlineError string
	ApproveHref string
	DenyHref    string
	CloseHref   string
	BackHref    string
	// forms post token and origin back with the user's input
	FormAction string
	Token      string
	Origin     string
	Username   string
	// the emulator's rules, written on its forms
	DemoPassword string
	DemoMFACode  string
	UnknownEmail string
	// result page
	Result resultPage
}

// resultPage is how a visit ended, when it ends on a page. Inside the
// widget (Widget set), page.js posts Event to the app's origin.
type resultPage struct {
	Heading   string
	Message   string
	ErrorType string
	// Event is what the widget tells the app: success, error or exit.
	Event    string
	Provider string
	BackHref string
	Widget   string // the app's origin, inside the widget
}

type providerItem struct {
	Slug        string
	Name        string
	Description string
	AuthType    string
	Device      string
	MFA         bool
	Resources   []string
	Href        string
	LogoSrc     string
}

// renderPage writes an HTML page with strict security headers. Pages carry
// the link token in their URL, hence no-referrer and no-store. Only the
// widget's own pages may be framed, and only by the app that opened it.
func (e *Emulator) renderPage(w http.ResponseWriter, r *http.Request, f flow, status int, page string, data pageData) {
	data.Env = e.cfg.Env
	data.CSS = template.CSS(pageCSS)
	data.Root = rootOf(r.URL.Path)
	data.DemoPassword, data.DemoMFACode, data.UnknownEmail = DemoPassword, DemoMFACode, unknownEmailUser+"@example.com"
	var buf bytes.Buffer
	if err := pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		e.cfg.Logger.Error().Err(err).Str("page", page).Msg("cannot render hosted Link page")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", e.pageCSP(f, data.FormAction != ""))
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	if !f.widget() {
		h.Set("X-Frame-Options", "DENY")
	}
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pageCSP allows the page's own style, images and script, its forms (and
// the redirect_url a form's outcome redirects to, which form-action also
// governs), and framing by the widget's app only.
func (e *Emulator) pageCSP(f flow, hasForm bool) string {
	formAction := "'none'"
	if hasForm {
		formAction = "'self'"
		if t, status := e.tokens.check(f.token, e.now()); status == tokenValid && t.redirectURL != "" {
			if source := cspSource(t.redirectURL); source != "" {
				formAction += " " + source
			}
		}
	}
	frameAncestors := "'none'"
	if f.widget() {
		frameAncestors = f.origin
	}
	return "default-src 'none'; style-src 'sha256-" + pageCSSHash + "'; img-src 'self'; script-src 'self'; " +
		"base-uri 'none'; form-action " + formAction + "; frame-ancestors " + frameAncestors
}

// cspSource is the CSP source expression for a URL's origin.
func cspSource(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || strings.ContainsAny(u.Scheme+u.Host, " ;,'") {
		return ""
	}
	if u.Host == "" {
		return u.Scheme + ":"
	}
	return u.Scheme + "://" + u.Host
}

// rootOf is the relative way back to /link/ from a page's path:
// /link/ and /link/complete need none, /link/oauth/oura needs "../".
func rootOf(path string) string {
	_, rest, _ := strings.Cut(path, "/link/")
	return strings.Repeat("../", strings.Count(rest, "/"))
}

// renderResult shows how a visit ended; inside the widget the page also
// reports it to the app.
func (e *Emulator) renderResult(w http.ResponseWriter, r *http.Request, f flow, status int, result resultPage) {
	if f.widget() && result.Event == "" {
		result.Event = "error"
	}
	if f.widget() {
		result.Widget = f.origin
	} else {
		result.Event = ""
	}
	e.renderPage(w, r, f, status, "result", pageData{Title: result.Heading, Result: result})
}
