package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/testkit"
)

// In dev mode the whole lifecycle works with no configuration: connect
// through Link, the emulator's signed webhook arrives, an error shows,
// disconnect removes it.
func TestDevModeConnectionLifecycle(t *testing.T) {
	s := testkit.Start(t, run, nil)
	token := s.DevToken("lifecycle")
	if l := s.Connections(token); len(l.Connections) != 0 {
		t.Fatalf("new user has connections: %+v", l)
	}

	lt := s.NewLinkToken(token, map[string]any{"provider": "oura"})
	s.Request(http.MethodGet, s.FinishLink(lt, "oura", testkit.Act("approve")), "", nil)
	testkit.Eventually(t, "the connection webhook", func() bool {
		return strings.Contains(s.Logs.String(), `"result":"applied"`)
	})
	if st, _ := s.Connections(token).Status("oura"); st != "connected" {
		t.Fatalf("oura is %q after connecting", st)
	}

	userID := s.JunctionUserID(token)
	r := s.Request(http.MethodPost, "/_junction/_emulator/connection-error", "", map[string]string{
		"user_id": userID, "provider": "oura", "error_type": "token_refresh_failed", "message": "refresh failed",
	})
	if r.Status != http.StatusOK && r.Status != http.StatusNoContent && r.Status != http.StatusAccepted {
		t.Fatalf("emulator connection-error: %d %s", r.Status, r.Body)
	}
	testkit.Eventually(t, "the error to show", func() bool {
		st, et := s.Connections(token).Status("oura")
		return st == "error" && et == "token_refresh_failed"
	})
	testkit.Eventually(t, "the error webhook", func() bool {
		return strings.Count(s.Logs.String(), `"result":"applied"`) == 2
	})

	if r := s.Request(http.MethodDelete, "/v1/connections/oura", token, nil); r.Status != http.StatusNoContent {
		t.Fatalf("disconnect: %d %s", r.Status, r.Body)
	}
	if st, _ := s.Connections(token).Status("oura"); st != "" {
		t.Fatalf("oura still listed after disconnect: %s", st)
	}
	for _, provider := range []string{"oura", "no_such_provider"} {
		r = s.Request(http.MethodDelete, "/v1/connections/"+provider, token, nil)
		if r.Status != http.StatusNotFound || r.ErrorCode(t) != "not_found" {
			t.Fatalf("disconnect %s, not connected: %d %s", provider, r.Status, r.Body)
		}
	}
	r = s.Request(http.MethodPost, "/v1/link/token", token, map[string]any{"filter_on_providers": []string{"oura", "no_such_provider"}})
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"field":"filter_on_providers"`) {
		t.Fatalf("unknown provider in filter_on_providers: %d %s", r.Status, r.Body)
	}
}

func TestWebhookSignatures(t *testing.T) {
	s := productionServer(t, map[string]string{"JUNCTION_WEBHOOK_SECRET": testkit.WebhookSecret})
	token := s.idp.Sign(t, testkit.Claims("hooked"))
	userID := s.JunctionUserID(token)
	body := testkit.ConnectionCreatedEvent(userID, "fitbit")
	now := time.Now()

	valid := testkit.SignWebhook(t, testkit.WebhookSecret, "msg_valid", now, body)
	several := testkit.SignWebhook(t, testkit.WebhookSecret, "msg_several", now, body)
	several.Set("Svix-Signature", "v1,Zm9vYmFy v1a,bm9wZQ== "+several.Get("Svix-Signature"))
	tests := []struct {
		name    string
		headers http.Header
		body    []byte
		want    int
	}{
		{"valid", valid, body, http.StatusNoContent},
		{"several signatures, one valid", several, body, http.StatusNoContent},
		{"wrong secret", testkit.SignWebhook(t, "whsec_"+"b3RoZXJzZWNyZXRvdGhlcnNlY3JldA==", "msg_w", now, body), body, http.StatusUnauthorized},
		{"tampered body", testkit.SignWebhook(t, testkit.WebhookSecret, "msg_t", now, body), append([]byte(" "), body...), http.StatusUnauthorized},
		{"stale timestamp", testkit.SignWebhook(t, testkit.WebhookSecret, "msg_s", now.Add(-6*time.Minute), body), body, http.StatusUnauthorized},
		{"future timestamp", testkit.SignWebhook(t, testkit.WebhookSecret, "msg_f", now.Add(6*time.Minute), body), body, http.StatusUnauthorized},
		{"missing headers", http.Header{}, body, http.StatusUnauthorized},
		{"missing signature", http.Header{"Svix-Id": {"msg_m"}, "Svix-Timestamp": {fmt.Sprint(now.Unix())}}, body, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		r := s.DeliverWebhook(tc.headers, tc.body)
		if r.Status != tc.want {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
		if tc.want == http.StatusUnauthorized {
			r.ErrorCode(t)
		}
	}
	big := make([]byte, 1<<20+10)
	if r := s.DeliverWebhook(testkit.SignWebhook(t, testkit.WebhookSecret, "msg_big", now, big), big); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB+ body: %d", r.Status)
	}
	if st, _ := s.Connections(token).Status("fitbit"); st != "connected" {
		t.Errorf("a connection known only from a fresh webhook is not listed: %q", st)
	}
	if strings.Contains(s.Logs.String(), "ext-1") {
		t.Error("the webhook body reached the log")
	}
}

func TestWebhookRedeliveriesProcessOnce(t *testing.T) {
	s := productionServer(t, map[string]string{"JUNCTION_WEBHOOK_SECRET": testkit.WebhookSecret})
	token := s.idp.Sign(t, testkit.Claims("redelivered"))
	body := testkit.ConnectionCreatedEvent(s.JunctionUserID(token), "polar")
	headers := testkit.SignWebhook(t, testkit.WebhookSecret, "msg_dup", time.Now(), body)

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := s.DeliverWebhook(headers, body); r.Status != http.StatusNoContent {
				t.Errorf("re-delivery got %d %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	if r := s.DeliverWebhook(headers, body); r.Status != http.StatusNoContent {
		t.Errorf("late re-delivery got %d", r.Status)
	}
	logs := s.Logs.String()
	applied := strings.Count(logs, `"svix_id":"msg_dup","result":"applied"`)
	duplicates := strings.Count(logs, `"svix_id":"msg_dup","result":"duplicate"`)
	if applied != 1 || duplicates != 20 {
		t.Fatalf("21 deliveries of one svix-id: applied %d, duplicate %d; want 1 and 20", applied, duplicates)
	}
}

func TestWebhookUnknownEventsAndUsersAreAcknowledged(t *testing.T) {
	s := productionServer(t, map[string]string{"JUNCTION_WEBHOOK_SECRET": testkit.WebhookSecret})
	unknownUser := testkit.ConnectionCreatedEvent("9d4e7f3c-0000-4000-8000-00000000abcd", "oura")
	unknownType := []byte(`{"event_type":"daily.data.sleep.created","user_id":"x","client_user_id":"y","team_id":"z","data":{}}`)
	for id, body := range map[string][]byte{"msg_unknown_user": unknownUser, "msg_unknown_type": unknownType} {
		if r := s.DeliverWebhook(testkit.SignWebhook(t, testkit.WebhookSecret, id, time.Now(), body), body); r.Status != http.StatusNoContent {
			t.Errorf("%s: %d %s", id, r.Status, r.Body)
		}
	}
	logs := s.Logs.String()
	if !strings.Contains(logs, `"result":"unknown_user"`) || !strings.Contains(logs, `"result":"ignored_event_type"`) {
		t.Errorf("unknown users/events are not counted in the log")
	}
}

func TestWebhookRouteNeedsASecretInProduction(t *testing.T) {
	s := productionServer(t, nil)
	if r := s.Request(http.MethodPost, "/webhooks/junction", "", "{}"); r.Status != http.StatusNotFound {
		t.Fatalf("webhook route without a secret: %d", r.Status)
	}
}

func TestConnectionsReadingCreatesNoUser(t *testing.T) {
	s := productionServer(t, nil)
	token := s.idp.Sign(t, testkit.Claims("reader"))
	if l := s.Connections(token); len(l.Connections) != 0 {
		t.Fatalf("connections of a new user: %+v", l)
	}
	if n := s.emu.UserCount(); n != 0 {
		t.Fatalf("listing connections created %d Junction users", n)
	}
	if r := s.Request(http.MethodDelete, "/v1/connections/oura", token, nil); r.Status != http.StatusNotFound {
		t.Fatalf("disconnect with no Junction user: %d %s", r.Status, r.Body)
	}
}

func TestProviderCatalogueIsCachedAndCoalesced(t *testing.T) {
	s := productionServer(t, map[string]string{"PROVIDERS_ALLOWLIST": "oura,fitbit,garmin"})
	token := s.idp.Sign(t, testkit.Claims("catalogue"))
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.Request(http.MethodGet, "/v1/providers", token, nil)
			var body struct {
				Providers []struct{ Slug, Name, Logo string } `json:"providers"`
			}
			r.JSON(t, &body)
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
	token := s.idp.Sign(t, testkit.Claims("leaving"))
	s.NewLinkToken(token, nil)
	if n := s.emu.UserCount(); n != 1 {
		t.Fatalf("users before delete: %d", n)
	}
	for i := range 2 {
		if r := s.Request(http.MethodDelete, "/v1/me", token, nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete #%d: %d %s", i+1, r.Status, r.Body)
		}
	}
	if n := s.emu.UserCount(); n != 0 {
		t.Fatalf("Junction users after delete: %d", n)
	}
	// Coming back later starts afresh, with no attempt on the deleted user:
	// the remembered mapping went with it.
	tokensBefore := s.calls.count("POST /v2/link/token")
	s.NewLinkToken(token, nil)
	if n := s.emu.UserCount(); n != 1 {
		t.Fatalf("users after coming back: %d", n)
	}
	if n := s.calls.count("POST /v2/link/token") - tokensBefore; n != 1 {
		t.Fatalf("coming back took %d link token calls, want 1: the deleted Junction user was tried", n)
	}
}

// A Junction user deleted behind linkbff's back is replaced once, and the
// replacement is what later requests use.
func TestVanishedJunctionUserIsReplacedAndRemembered(t *testing.T) {
	s := productionServer(t, nil)
	token := s.idp.Sign(t, testkit.Claims("vanishing"))
	var signIn struct {
		UserID string `json:"user_id"`
	}
	s.Request(http.MethodPost, "/v1/mobile/sign-in-token", token, nil).DecodeOK(t, "sign-in token", &signIn)
	del := httptest.NewRequest(http.MethodDelete, "/v2/user/"+signIn.UserID, nil)
	del.Header.Set("x-vital-api-key", testAPIKey)
	rec := httptest.NewRecorder()
	s.emu.Handler().ServeHTTP(rec, del)
	if rec.Code != http.StatusOK {
		t.Fatalf("deleting the Junction user at the emulator: %d %s", rec.Code, rec.Body)
	}
	tokensBefore := s.calls.count("POST /v2/link/token")
	for range 3 {
		s.NewLinkToken(token, nil)
	}
	// One failed attempt on the vanished user, then one per request.
	if n := s.calls.count("POST /v2/link/token") - tokensBefore; n != 4 {
		t.Fatalf("3 requests after the Junction user vanished made %d link token calls, want 4", n)
	}
	if n := s.Logs.Count("mapping dropped"); n != 1 {
		t.Fatalf("the mapping was dropped %d times, want 1\n%s", n, s.Logs)
	}
	if n := s.emu.UserCount(); n != 1 {
		t.Fatalf("Junction users: %d, want the replacement only", n)
	}
}

// The signature is checked first: forged deliveries spend their sender's
// per-IP budget and end in 429s, while Junction's genuine deliveries from
// the same address are never limited.
func TestWebhookRateLimitCountsOnlyFailedVerifications(t *testing.T) {
	s := productionServer(t, map[string]string{"JUNCTION_WEBHOOK_SECRET": testkit.WebhookSecret, "RATE_LIMIT_IP": "3/min"})
	token := s.idp.Sign(t, testkit.Claims("webhook-budget"))
	body := testkit.ConnectionCreatedEvent(s.JunctionUserID(token), "oura")
	forged := testkit.SignWebhook(t, "whsec_"+"b3RoZXJzZWNyZXRvdGhlcnNlY3JldA==", "msg_forged", time.Now(), body)
	for i := range 5 {
		r := s.DeliverWebhook(forged, body)
		want := http.StatusUnauthorized
		if i >= 3 {
			want = http.StatusTooManyRequests
		}
		if r.Status != want || r.ErrorCode(t) == "" {
			t.Errorf("forged delivery %d: %d %s, want %d", i+1, r.Status, r.Body, want)
		}
		if want == http.StatusTooManyRequests && r.Header.Get("Retry-After") == "" {
			t.Errorf("forged delivery %d: 429 without Retry-After", i+1)
		}
	}
	// Junction's deliveries, from the address that just spent its budget.
	for i := range 10 {
		h := testkit.SignWebhook(t, testkit.WebhookSecret, fmt.Sprintf("msg_genuine_%d", i), time.Now(), body)
		if r := s.DeliverWebhook(h, body); r.Status != http.StatusNoContent {
			t.Fatalf("genuine delivery %d after forgeries: %d %s", i+1, r.Status, r.Body)
		}
	}
}
