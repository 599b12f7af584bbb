// Package api holds linkbff's published contract: the OpenAPI 3.1 document
// of its HTTP API. It is written by hand and kept true by the end-to-end
// tests, which validate every request and response they exchange against
// it; the TypeScript client in web/examples/react is generated from it.
package api

import _ "embed"

// OpenAPI is the document, as served at GET /openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte
