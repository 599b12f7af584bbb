package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"
)

type connectionList struct {
	Connections []struct {
		Provider       string  `json:"provider"`
		Name           string  `json:"name"`
		Status         string  `json:"status"`
		ConnectedAt    *string `json:"connected_at"`
		ErrorType      *string `json:"error_type"`
		ExternalUserID *string `json:"external_user_id"`
	} `json:"connections"`
}

func (s *testServer) connections(token string) connectionList {
	s.t.Helper()
	r := s.request(http.MethodGet, "/v1/connections", token, nil)
	if r.Status != http.StatusOK {
		s.t.Fatalf("connections: %d %s", r.Status, r.Body)
	}
	var l connectionList
	r.json(s.t, &l)
	return l
}

func (l connectionList) status(provider string) (status, errorType string) {
	for _, c := range l.Connections {
		if c.Provider == provider {
			return c.Status, deref(c.ErrorType)
		}
	}
	return "", ""
}

func (s *testServer) junctionUserID(token string) string {
	s.t.Helper()
	r := s.request(http.MethodPost, "/v1/mobile/sign-in-token", token, nil)
	var body struct {
		UserID      string `json:"user_id"`
		SignInToken string `json:"sign_in_token"`
	}
	r.json(s.t, &body)
	if r.Status != http.StatusOK || body.UserID == "" || body.SignInToken == "" {
		s.t.Fatalf("sign-in token: %d %s", r.Status, r.Body)
	}
	return body.UserID
}

// In dev mode the whole lifecycle works with no configuration: connect
// through Link, the emulator's signed webhook arrives, an error shows,
// disconnect removes it.
func TestDevModeConnectionLifecycle(t *testing.T) {
	s := startServer(t, nil)
	token := s.devToken("lifecycle")
	if l := s.connections(token); len(l.Connections) != 0 {
		t.Fatalf("new user has connections: %+v", l)
	}

	lt := s.newLinkToken(token, map[string]any{"provider": "oura"})
	s.request(http.MethodGet, s.finishLink(lt, "oura", act("approve")), "", nil)
	eventually(t, "the connection webhook", func() bool {
		return strings.Contains(s.logs.String(), `"result":"applied"`)
	})
	if st, _ := s.connections(token).status("oura"); st != "connected" {
		t.Fatalf("oura is %q after connecting", st)
	}

	userID := s.junctionUserID(token)
	r := s.request(http.MethodPost, "/_junction/_emulator/connection-error", "", map[string]string{
		"user_id": userID, "provider": "oura", "error_type": "token_refresh_failed", "message": "refresh failed",
	})
	if r.Status != http.StatusOK && r.Status != http.StatusNoContent && r.Status != http.StatusAccepted {
		t.Fatalf("emulator connection-error: %d %s", r.Status, r.Body)
	}
	eventually(t, "the error to show", func() bool {
		st, et := s.connections(token).status("oura")
		return st == "error" && et == "token_refresh_failed"
	})
	eventually(t, "the error webhook", func() bool {
		return strings.Count(s.logs.String(), `"result":"applied"`) == 2
	})

	if r := s.request(http.MethodDelete, "/v1/connections/oura", token, nil); r.Status != http.StatusNoContent {
		t.Fatalf("disconnect: %d %s", r.Status, r.Body)
	}
	if st, _ := s.connections(token).status("oura"); st != "" {
		t.Fatalf("oura still listed after disconnect: %s", st)
	}
	for _, provider := range []string{"oura", "no_such_provider"} {
		r = s.request(http.MethodDelete, "/v1/connections/"+provider, token, nil)
		if r.Status != http.StatusNotFound || r.errorCode(t) != "not_found" {
			t.Fatalf("disconnect %s, not connected: %d %s", provider, r.Status, r.Body)
		}
	}
	r = s.request(http.MethodPost, "/v1/link/token", token, map[string]any{"filter_on_providers": []string{"oura", "no_such_provider"}})
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"field":"filter_on_providers"`) {
		t.Fatalf("unknown provider in filter_on_providers: %d %s", r.Status, r.Body)
	}
}

const testWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// signedWebhook builds a delivery as Svix would send it.
func signedWebhook(t *testing.T, secret, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	wh, err := svix.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign(id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Svix-Id": {id}, "Svix-Timestamp": {fmt.Sprint(ts.Unix())}, "Svix-Signature": {sig}}
}

func (s *testServer) deliver(headers http.Header, body []byte) response {
	s.t.Helper()
	var flat []string
	for k, v := range headers {
		flat = append(flat, k, strings.Join(v, " "))
	}
	return s.request(http.MethodPost, "/webhooks/junction", "", string(body), flat...)
}

func createdEvent(userID, provider string) []byte {
	b, _ := json.Marshal(map[string]any{
		"event_type": "provider.connection.created", "user_id": userID, "client_user_id": "c6a9a8a4-0000-4000-8000-000000000001",
		"team_id": "4f1b5f8e-0000-4000-8000-000000000002",
		"data": map[string]any{
			"user_id": userID, "provider": map[string]string{"name": "Fitbit", "slug": provider, "logo": "https://logo"},
			"source": map[string]string{"name": "Fitbit", "slug": provider, "logo": "https://logo"}, "external_user_id": "ext-1",
			"resource_availability": map[string]any{},
		},
	})
	return b
}

func TestWebhookSignatures(t *testing.T) {
	s := productionServer(t, map[string]string{"JUNCTION_WEBHOOK_SECRET": testWebhookSecret})
	token := s.idp.sign(t, claims("hooked"))
	userID := s.junctionUserID(token)
	body := createdEvent(userID, "fitbit")
	now := time.Now()

	valid := signedWebhook(t, testWebhookSecret, "msg_valid", now, body)
	several := signedWebhook(t, testWebhookSecret, "msg_several", now, body)
	several.Set("Svix-Signature", "v1,Zm9vYmFy v1a,bm9wZQ== "+several.Get("Svix-Signature"))
	tests := []struct {
		name    string
		headers http.Header
		body    []byte
		want    int
	}{
		{"valid", valid, body, http.StatusNoContent},
		{"several signatures, one valid", several, body, http.StatusNoContent},
		{"wrong secret", signedWebhook(t, "whsec_"+"b3RoZXJzZWNyZXRvdGhlcnNlY3JldA==", "msg_w", now, body), body, http.StatusUnauthorized},
		{"tampered body", signedWebhook(t, testWebhookSecret, "msg_t", now, body), append([]byte(" "), body...), http.StatusUnauthorized},
		{"stale timestamp", signedWebhook(t, testWebhookSecret, "msg_s", now.Add(-6*time.Minute), body), body, http.StatusUnauthorized},
		{"future timestamp", signedWebhook(t, testWebhookSecret, "msg_f", now.Add(6*time.Minute), body), body, http.StatusUnauthorized},
		{"missing headers", http.Header{}, body, http.StatusUnauthorized},
		{"missing signature", http.Header{"Svix-Id": {"msg_m"}, "Svix-Timestamp": {fmt.Sprint(now.Unix())}}, body, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		r := s.deliver(tc.headers, tc.body)
		if r.Status != tc.want {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
		if tc.want == http.StatusUnauthorized {
			r.errorCode(t)
		}
	}
	big := make([]byte, 1<<20+10)
	if r := s.deliver(signedWebhook(t, testWebhookSecret, "msg_big", now, big), big); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB+ body: %d", r.Status)
	}
	if st, _ := s.connections(token).status("fitbit"); st != "connected" {
		t.Errorf("a connection known only from a fresh webhook is not listed: %q", st)
	}
	if strings.Contains(s.logs.String(), "ext-1") {
		t.Error("the webhook body reached the log")
	}
}

func TestWebhookRedeliveriesProcessOnce(t *testing.T) {
	s := productionServer(t, map[string]string{"JUNCTION_WEBHOOK_SECRET": testWebhookSecret})
	token := s.idp.sign(t, claims("redelivered"))
	body := createdEvent(s.junctionUserID(token), "polar")
	headers := signedWebhook(t, testWebhookSecret, "msg_dup", time.Now(), body)

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := s.deliver(headers, body); r.Status != http.StatusNoContent {
				t.Errorf("re-delivery got %d %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	if r := s.deliver(headers, body); r.Status != http.StatusNoContent {
		t.Errorf("late re-delivery got %d", r.Status)
	}
	logs := s.logs.String()
	applied := strings.Count(logs, `"svix_id":"msg_dup","result":"applied"`)
	duplicates := strings.Count(logs, `"svix_id":"msg_dup","result":"duplicate"`)
	if applied != 1 || duplicates != 20 {
		t.Fatalf("21 deliveries of one svix-id: applied %d, duplicate %d; want 1 and 20", applied, duplicates)
	}
}

func TestWebhookUnknownEventsAndUsersAreAcknowledged(t *testing.T) {
	s := productionServer(t, map[string]string{"JUNCTION_WEBHOOK_SECRET": testWebhookSecret})
	unknownUser := createdEvent("9d4e7f3c-0000-4000-8000-00000000abcd", "oura")
	unknownType := []byte(`{"event_type":"daily.data.sleep.created","user_id":"x","client_user_id":"y","team_id":"z","data":{}}`)
	for id, body := range map[string][]byte{"msg_unknown_user": unknownUser, "msg_unknown_type": unknownType} {
		if r := s.deliver(signedWebhook(t, testWebhookSecret, id, time.Now(), body), body); r.Status != http.StatusNoContent {
			t.Errorf("%s: %d %s", id, r.Status, r.Body)
		}
	}
	logs := s.logs.String()
	if !strings.Contains(logs, `"result":"unknown_user"`) || !strings.Contains(logs, `"result":"ignored_event_type"`) {
		t.Errorf("unknown users/events are not counted in the log")
	}
}

func TestWebhookRouteNeedsASecretInProduction(t *testing.T) {
	s := productionServer(t, nil)
	if r := s.request(http.MethodPost, "/webhooks/junction", "", "{}"); r.Status != http.StatusNotFound {
		t.Fatalf("webhook route without a secret: %d", r.Status)
	}
}

func TestConnectionsReadingCreatesNoUser(t *testing.T) {
	s := productionServer(t, nil)
	token := s.idp.sign(t, claims("reader"))
	if l := s.connections(token); len(l.Connections) != 0 {
		t.Fatalf("connections of a new user: %+v", l)
	}
	if n := s.emu.UserCount(); n != 0 {
		t.Fatalf("listing connections created %d Junction users", n)
	}
	if r := s.request(http.MethodDelete, "/v1/connections/oura", token, nil); r.Status != http.StatusNotFound {
		t.Fatalf("disconnect with no Junction user: %d %s", r.Status, r.Body)
	}
}

func TestProviderCatalogueIsCachedAndCoalesced(t *testing.T) {
	s := productionServer(t, map[string]string{"PROVIDERS_ALLOWLIST": "oura,fitbit,garmin"})
	token := s.idp.sign(t, claims("catalogue"))
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.request(http.MethodGet, "/v1/providers", token, nil)
			var body struct {
				Providers []struct{ Slug, Name, Logo string } `json:"providers"`
			}
			r.json(t, &body)
			if r.Status != http.StatusOK || len(body.Providers) != 3 {
				t.Errorf("providers: %d %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	if n := s.calls.count("GET /v2/providers"); n != 1 {
		t.Fatalf("100 concurrent catalogue misses made %d upstream calls, want 1", n)
	}
}

func TestDeleteMeIsIdempotent(t *testing.T) {
	s := productionServer(t, nil)
	token := s.idp.sign(t, claims("leaving"))
	s.newLinkToken(token, nil)
	if n := s.emu.UserCount(); n != 1 {
		t.Fatalf("users before delete: %d", n)
	}
	for i := range 2 {
		if r := s.request(http.MethodDelete, "/v1/me", token, nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete #%d: %d %s", i+1, r.Status, r.Body)
		}
	}
	if n := s.emu.UserCount(); n != 0 {
		t.Fatalf("Junction users after delete: %d", n)
	}
	// Coming back later starts afresh.
	s.newLinkToken(token, nil)
	if n := s.emu.UserCount(); n != 1 {
		t.Fatalf("users after coming back: %d", n)
	}
}
