package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"time"
)

// floorFlag makes the bench binary the third reference instead: the least
// a Go BFF does (net/http server, key-injecting net/http client call), so
// the table separates linkbff's own cost from Go's.
const floorFlag = "-serve-go-floor"

// serveGoFloor listens on addr and forwards every request's body to
// upstream's POST /v2/link/token with the API key, over keep-alive
// connections.
func serveGoFloor(addr, upstream string) error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, upstream+"/v2/link/token", bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-vital-api-key", benchAPIKey)
		res, err := client.Do(req)
		if err != nil {
			http.Error(w, "upstream", http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		out, err := io.ReadAll(res.Body)
		if err != nil {
			http.Error(w, "upstream", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(out)
	})}
	return srv.Serve(ln)
}
