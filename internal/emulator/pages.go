package emulator

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
)

//go:embed templates
var templateFiles embed.FS

// pageCSS is inlined into every page and allowed by its hash, so the CSP
// needs neither 'unsafe-inline' nor any external host.
var pageCSS = mustReadTemplateFile("templates/style.css")

var pageCSP = "default-src 'none'; style-src 'sha256-" + cssHash(pageCSS) + "'; img-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var pages = map[string]*template.Template{
	"providers": parsePage("templates/providers.html"),
	"consent":   parsePage("templates/consent.html"),
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

	// providers page
	Providers []providerItem
	// consent page
	Provider    providerItem
	InlineError string
	ApproveHref string
	DenyHref    string
	CloseHref   string
	// result page
	Heading   string
	Message   string
	ErrorType string
}

type providerItem struct {
	Slug        string
	Name        string
	Description string
	AuthType    string
	Resources   []string
	Href        string
	LogoSrc     string
}

// renderPage writes an HTML page with strict security headers. Pages carry
// the link token in their URL, hence no-referrer and no-store.
func (e *Emulator) renderPage(w http.ResponseWriter, status int, page string, data pageData) {
	data.Env = e.cfg.Env
	data.CSS = template.CSS(pageCSS)
	var buf bytes.Buffer
	if err := pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		e.cfg.Logger.Error().Err(err).Str("page", page).Msg("cannot render hosted Link page")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderResult shows an outcome when there is no redirect_url to send it to.
func (e *Emulator) renderResult(w http.ResponseWriter, status int, heading, message, errorType string) {
	e.renderPage(w, status, "result", pageData{Title: heading, Heading: heading, Message: message, ErrorType: errorType})
}
