package handlers

import (
	"errors"
	"io"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/linking"
)

// maxWebhookBody is generous for connection events, which are small.
const maxWebhookBody = 1 << 20

// handleWebhook verifies Junction's Svix signature on the raw bytes before
// anything is parsed, then applies the event once per svix-id. Verified
// events it cannot use are still acknowledged: a failure would only make
// Junction retry for days. Only deliveries that fail verification spend
// the sender's per-IP budget (failures). The body is never logged.
func handleWebhook(log zerolog.Logger, wh WebhookVerifier, svc *linking.Service, failures budget) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reject := func(err error) {
			if limited := failures(w, r); limited != nil {
				err = limited
			}
			encodeError(w, r, log, err)
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				reject(linking.Errorf(linking.ETooLarge, "webhook body is larger than 1 MiB"))
				return
			}
			reject(linking.WrapError(linking.EInvalid, err, "could not read the webhook body"))
			return
		}
		if err := wh.Verify(body, r.Header); err != nil {
			reject(linking.WrapError(linking.EUnauthenticated, err, "webhook signature is missing, invalid or too old"))
			return
		}
		eventID := r.Header.Get("svix-id")
		result, err := svc.ApplyWebhook(r.Context(), eventID, body)
		if err != nil {
			if linking.ErrorCodeOf(err) == linking.EInvalid {
				// Signed by Junction but unusable: acknowledge, or it retries forever.
				log.Warn().Str("request_id", requestIDFrom(r.Context())).Str("svix_id", eventID).Err(err).Msg("webhook acknowledged but unusable")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			encodeError(w, r, log, err)
			return
		}
		log.Info().Str("request_id", requestIDFrom(r.Context())).Str("svix_id", eventID).Str("result", string(result)).Msg("webhook")
		w.WriteHeader(http.StatusNoContent)
	})
}
