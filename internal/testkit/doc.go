// Package testkit holds the helpers linkbff's tests share: an HTTP client
// that shows redirects and decodes API errors, linkbff and the Junction
// emulator started in-process or as built binaries with their JSON log
// captured, the dev-mode Link flow, an identity provider signing JWTs, a
// Svix webhook signer, a Prometheus scrape reader and an OTLP receiver.
// Once UseContract has registered linkbff's OpenAPI document, every linkbff
// server's client checks each exchange against it.
//
// It is for tests only: import it from _test.go files, never from code that
// ships. It imports no linkbff package, so any package's tests (even
// internal ones, such as package emulator's) can use it without a cycle.
package testkit
