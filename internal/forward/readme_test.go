package forward_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/testkit"
)

// readmeReceiver is the README's Go receiver ("Events for your backend"),
// word for word but for what it does with an event (here: hands it to got).
func readmeReceiver(secret string, got func(id string, eventType string, appUserID *string)) (http.Handler, error) {
	wh, err := svix.NewWebhook(secret) // linkbff's APP_WEBHOOK_SECRET, whsec_…
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		// The raw body, before any JSON parsing; Verify reads the webhook-*
		// headers and refuses a timestamp more than 5 minutes off.
		if err != nil || wh.Verify(body, r.Header) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var event struct {
			EventType string          `json:"event_type"`
			AppUserID *string         `json:"app_user_id"` // null when linkbff does not know the user
			Data      json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &event); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		id := r.Header.Get("webhook-id") // the same on every retry: dedupe on it
		got(id, event.EventType, event.AppUserID)
		w.WriteHeader(http.StatusNoContent) // a 2xx within APP_WEBHOOK_TIMEOUT, or it comes again
	}), nil
}

// The README's receiver accepts what linkbff sends and refuses the rest.
func TestReadmeReceiver(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	h, err := readmeReceiver(testkit.AppWebhookSecret, func(id, eventType string, appUserID *string) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, id+" "+eventType+" "+*appUserID)
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	s := openStore(t)
	e := storeEvent(t, s, junctionEvent("alice"))
	startWorker(t, s, srv.URL)
	testkit.Eventually(t, "the delivery", func() bool { return len(forwarded(t, s, linking.DeliveryDelivered)) == 1 })
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != e.ID+" provider.connection.created alice" {
		t.Errorf("the receiver saw %q", seen)
	}
	forged, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
	forged.Header.Set("webhook-id", e.ID)
	forged.Header.Set("webhook-timestamp", "1")
	forged.Header.Set("webhook-signature", "v1,AAAA")
	if resp, err := http.DefaultClient.Do(forged); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a forged delivery: %v %v", resp, err)
	}
}
