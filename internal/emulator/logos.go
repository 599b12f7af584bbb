package emulator

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"unicode"
)

// serveLogo answers /logos/{slug}.svg with a generated badge, so the demo
// needs no external host.
func (e *Emulator) serveLogo(w http.ResponseWriter, r *http.Request) {
	slug, ok := strings.CutSuffix(pathParam(r, "file"), ".svg")
	p, found := findProvider(slug)
	if !ok || !found {
		writeDetail(w, http.StatusNotFound, "Not Found")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=86400")
	_, _ = fmt.Fprint(w, logoSVG(p))
}

func logoSVG(p provider) string {
	return `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64" role="img" aria-label="` +
		html.EscapeString(p.name) + `"><rect width="64" height="64" rx="14" fill="` + html.EscapeString(p.color) +
		`"/><text x="32" y="41" font-family="system-ui,sans-serif" font-size="24" font-weight="700" fill="#fff" text-anchor="middle">` +
		html.EscapeString(initials(p.name)) + `</text></svg>`
}

// initials takes the first letter of up to two words: "Eight Sleep" → "ES".
func initials(name string) string {
	var out []rune
	for _, word := range strings.Fields(name) {
		for _, r := range word {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out = append(out, unicode.ToUpper(r))
				break
			}
		}
		if len(out) == 2 {
			break
		}
	}
	return string(out)
}
