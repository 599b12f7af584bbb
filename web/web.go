// Package web holds what linkbff serves to browsers: the callback page
// template and the demo app, embedded in the binary.
package web

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// CallbackPage renders the page a user lands on after Junction Link when the
// app gave no return_to. Its data is CallbackData.
var CallbackPage = template.Must(template.ParseFS(templates, "templates/callback.html"))

// CallbackData fills CallbackPage.
type CallbackData struct {
	Nonce     string // CSP nonce for the inline script and style
	Title     string
	Message   string
	Status    string // connected | cancelled | error | not_found
	Provider  string
	ErrorType string
	// Origins are where the page may postMessage its outcome to its opener.
	Origins []string
}

// Demo serves the demo app's static files.
func Demo() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	return http.FileServer(http.FS(sub))
}
