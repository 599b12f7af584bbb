package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"
)

// handleOpenAPI serves linkbff's OpenAPI document. It is public and the
// same for everyone, so any origin may read it and caches may keep it;
// the ETag lets them revalidate for free after a deploy.
func handleOpenAPI(doc []byte) http.Handler {
	sum := sha256.Sum256(doc)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("ETag", etag)
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Content-Type", "application/json")
		http.ServeContent(w, r, "openapi.json", time.Time{}, bytes.NewReader(doc))
	})
}
