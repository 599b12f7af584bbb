package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz runs every check with a short deadline; the body names each
// failing dependency but not its error, which goes to the log.
func handleReadyz(log zerolog.Logger, checks []ReadyCheck) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		status, results := http.StatusOK, map[string]string{}
		for _, c := range checks {
			if err := c.Check(ctx); err != nil {
				log.Warn().Str("check", c.Name).Err(err).Msg("not ready")
				results[c.Name] = "unavailable"
				status = http.StatusServiceUnavailable
				continue
			}
			results[c.Name] = "ok"
		}
		overall := "ready"
		if status != http.StatusOK {
			overall = "not_ready"
		}
		encode(w, status, map[string]any{"status": overall, "checks": results})
	})
}
