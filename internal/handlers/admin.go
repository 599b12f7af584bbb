package handlers

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/linking"
)

// requireAdmin admits the app's backend: Authorization: Bearer
// <ADMIN_API_KEY>, compared in constant time (over digests, so not even the
// key's length shows). Browsers never get in: a request with an Origin or
// any Sec-Fetch-* header is refused before the key is looked at, and these
// routes answer no CORS preflight. Refusals spend the per-IP budget.
func requireAdmin(log zerolog.Logger, key string, failures budget) func(http.Handler) http.Handler {
	want := sha256.Sum256([]byte(key))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			refuse := func(err error) {
				if limited := failures(w, r); limited != nil {
					err = limited
				}
				encodeError(w, r, log, err)
			}
			if fromBrowser(r) {
				refuse(linking.Errorf(linking.EForbidden, "the admin API is for your backend: browsers may not call it"))
				return
			}
			token, err := auth.BearerToken(r)
			if err != nil {
				refuse(err)
				return
			}
			got := sha256.Sum256([]byte(token))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				refuse(linking.Errorf(linking.EUnauthenticated, "invalid admin key"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// fromBrowser: browsers send Origin on cross-origin and unsafe requests and
// Sec-Fetch-* on every request; servers send neither.
func fromBrowser(r *http.Request) bool {
	return r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Mode") != "" || r.Header.Get("Sec-Fetch-Site") != ""
}

// adminUserResponse is one app user as the admin API shows it.
type adminUserResponse struct {
	AppUserID      string               `json:"app_user_id"`
	JunctionUserID string               `json:"junction_user_id"`
	ClientUserID   string               `json:"client_user_id"`
	CreatedAt      time.Time            `json:"created_at"`
	Connections    []connectionResponse `json:"connections"`
	Stale          bool                 `json:"stale,omitempty"`
}

func handleAdminUser(log zerolog.Logger, svc *linking.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		appUserID := chi.URLParam(r, "app_user_id")
		if r.URL.RawPath != "" { // chi routed on the escaped path
			var err error
			if appUserID, err = url.PathUnescape(appUserID); err != nil {
				encodeError(w, r, log, linking.FieldErrorf("app_user_id", "app_user_id is not a valid path segment"))
				return
			}
		}
		u, err := svc.AppUser(r.Context(), appUserID)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		m := u.Mapping
		encode(w, http.StatusOK, adminUserResponse{
			AppUserID: m.AppUserID, JunctionUserID: m.JunctionUserID, ClientUserID: m.ClientUserID, CreatedAt: m.CreatedAt,
			Connections: connectionsResponse(u.Connections.Connections), Stale: u.Connections.Stale,
		})
	})
}

// adminEvent is one forwarded event and how its delivery goes.
type adminEvent struct {
	ID            string     `json:"id"` // the webhook-id
	Seq           int64      `json:"seq"`
	Type          string     `json:"type"`
	AppUserID     *string    `json:"app_user_id"`
	Provider      *string    `json:"provider"`
	CreatedAt     time.Time  `json:"created_at"`
	Status        string     `json:"status"` // pending | delivered | failed
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	LastStatus    *int       `json:"last_status"`
	LastError     *string    `json:"last_error"`
	DeliveredAt   *time.Time `json:"delivered_at"`
}

type adminEventList struct {
	Events []adminEvent `json:"events"`
}

func adminEventOf(e linking.Event) adminEvent {
	out := adminEvent{
		ID: e.ID, Seq: e.Seq, Type: e.Type, AppUserID: nonEmpty(e.AppUserID), Provider: nonEmpty(e.Provider), CreatedAt: e.CreatedAt,
		Status: string(e.Delivery.State), Attempts: e.Delivery.Attempts, NextAttemptAt: e.Delivery.NextAttemptAt,
		LastError: nonEmpty(e.Delivery.LastError), DeliveredAt: e.Delivery.DeliveredAt,
	}
	if e.Delivery.LastStatus != 0 {
		status := e.Delivery.LastStatus
		out.LastStatus = &status
	}
	return out
}

// defaultEventPage is the admin's event list when it asks no limit.
const defaultEventPage = 100

func handleAdminEvents(log zerolog.Logger, svc *linking.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		query := linking.EventQuery{State: linking.DeliveryState(q.Get("status")), Limit: defaultEventPage}
		for _, p := range []struct {
			name string
			into func(int64)
		}{
			{"limit", func(n int64) { query.Limit = int(n) }},
			{"before", func(n int64) { query.BeforeSeq = n }},
		} {
			if v := q.Get(p.name); v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					encodeError(w, r, log, linking.FieldErrorf(p.name, "%s must be a whole number", p.name))
					return
				}
				p.into(n)
			}
		}
		list, err := svc.ForwardedEvents(r.Context(), query)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		out := adminEventList{Events: make([]adminEvent, 0, len(list))}
		for _, e := range list {
			out.Events = append(out.Events, adminEventOf(e))
		}
		encode(w, http.StatusOK, out)
	})
}

func handleRedeliver(log zerolog.Logger, svc *linking.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := svc.RedeliverEvent(r.Context(), chi.URLParam(r, "event_id"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		log.Info().Str("request_id", requestIDFrom(r.Context())).Str("event_id", e.ID).Msg("admin: redelivery")
		encode(w, http.StatusAccepted, adminEventOf(e))
	})
}
