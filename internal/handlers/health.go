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
// failing dependency but not its error, which goes to the log. A failing
// optional dependency degrades linkbff but leaves it ready.
func handleReadyz(log zerolog.Logger, checks []ReadyCheck) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		status, overall, results := http.StatusOK, "ready", map[string]string{}
		for _, c := range checks {
			err := c.Check(ctx)
			switch {
			case err == nil:
				results[c.Name] = "ok"
			case c.Optional:
				log.Warn().Str("check", c.Name).Err(err).Msg("degraded")
				results[c.Name] = "degraded"
				if status == http.StatusOK {
					overall = "degraded"
				}
			default:
				log.Warn().Str("check", c.Name).Err(err).Msg("not ready")
				results[c.Name] = "unavailable"
				status, overall = http.StatusServiceUnavailable, "not_ready"
			}
		}
		encode(w, status, map[string]any{"status": overall, "checks": results})
	})
}
