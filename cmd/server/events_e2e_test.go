package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/testkit"
)

const adminKey = "admin-key-for-tests-0123456789abcdef-0123"

// forwardingEnv is what linkbff needs to forward events to rcv, retrying
// fast.
func forwardingEnv(rcv *testkit.WebhookReceiver, events string) map[string]string {
	return map[string]string{
		"APP_WEBHOOK_URL": rcv.URL, "APP_WEBHOOK_SECRET": testkit.AppWebhookSecret, "APP_WEBHOOK_EVENTS": events,
		"APP_WEBHOOK_RETRY_SCHEDULE": "100ms,100ms,100ms,100ms", "APP_WEBHOOK_TIMEOUT": "2s", "ADMIN_API_KEY": adminKey,
	}
}

// forwarded is a delivery's body as the app's backend reads it.
type forwarded struct {
	EventType string          `json:"event_type"`
	UserID    string          `json:"user_id"`
	AppUserID *string         `json:"app_user_id"`
	Data      json.RawMessage `json:"data"`
}

func decodeForwarded(t *testing.T, d testkit.ReceivedWebhook) forwarded {
	t.Helper()
	if err := testkit.VerifyStandardWebhook(testkit.AppWebhookSecret, d.Header, d.Body); err != nil {
		t.Fatalf("delivery %s does not verify per Standard Webhooks: %v", d.ID, err)
	}
	var f forwarded
	if err := json.Unmarshal(d.Body, &f); err != nil {
		t.Fatalf("delivery %s: %v\n%s", d.ID, err, d.Body)
	}
	return f
}

func ofType(eventType string) func(testkit.ReceivedWebhook) bool {
	return func(d testkit.ReceivedWebhook) bool {
		var f forwarded
		return json.Unmarshal(d.Body, &f) == nil && f.EventType == eventType
	}
}

func filter(ds []testkit.ReceivedWebhook, keep func(testkit.ReceivedWebhook) bool) []testkit.ReceivedWebhook {
	var out []testkit.ReceivedWebhook
	for _, d := range ds {
		if keep(d) {
			out = append(out, d)
		}
	}
	return out
}

// The first "done when": a link through the emulator's Link page
// reaches the app's backend as a signed provider.connection.created with
// the app's user id; a backend answering 500 three times then 200 gets the
// same webhook-id four times, and nothing after. linkbff's own events
// follow: link.completed (marked as the browser's word) and
// connection.disconnected.
func TestLinkedConnectionIsForwardedToTheAppsBackend(t *testing.T) {
	created := 0
	rcv := testkit.NewWebhookReceiver(t, func(_ int, d testkit.ReceivedWebhook) int {
		if ofType("provider.connection.created")(d) {
			if created++; created <= 3 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}
		return http.StatusNoContent
	})
	env := forwardingEnv(rcv, "provider.connection.created,link.completed,connection.disconnected")
	env["METRICS_ADDR"] = "127.0.0.1:0"
	s := testkit.Start(t, run, env)
	token := s.DevToken("alice@example.com")
	junctionUser := s.JunctionUserID(token)

	lt := s.NewLinkToken(token, map[string]any{"provider": "oura"})
	callback := s.FinishLink(lt, "oura", testkit.Act("approve"))
	if r := s.Request(http.MethodGet, callback, "", nil, "Accept", "application/json"); r.Status != http.StatusOK {
		t.Fatalf("callback: %d %s", r.Status, r.Body)
	}

	got := rcv.Await(t, "four attempts at the connection and the link outcome", func(ds []testkit.ReceivedWebhook) bool {
		return len(filter(ds, ofType("provider.connection.created"))) >= 4 && len(filter(ds, ofType("link.completed"))) >= 1
	})
	attempts := filter(got, ofType("provider.connection.created"))
	for i, d := range attempts {
		f := decodeForwarded(t, d)
		if d.ID != attempts[0].ID {
			t.Errorf("attempt %d has webhook-id %s, the first had %s", i+1, d.ID, attempts[0].ID)
		}
		if f.AppUserID == nil || *f.AppUserID != "alice@example.com" || f.UserID != junctionUser {
			t.Errorf("attempt %d: app_user_id %v, user_id %s; want alice@example.com next to %s", i+1, f.AppUserID, f.UserID, junctionUser)
		}
	}
	if !strings.HasPrefix(attempts[0].ID, "evt_") || !strings.Contains(string(attempts[0].Body), `"slug":"oura"`) {
		t.Errorf("the forwarded event is not Junction's: %s %s", attempts[0].ID, attempts[0].Body)
	}
	link := decodeForwarded(t, filter(got, ofType("link.completed"))[0])
	if string(link.Data) != `{"provider":"oura","status":"connected","error_type":null,"reported_by":"browser"}` || *link.AppUserID != "alice@example.com" {
		t.Errorf("link.completed: %s", link.Data)
	}

	// Several retry periods later nothing more has come.
	time.Sleep(time.Second)
	if n := len(filter(rcv.Received(), ofType("provider.connection.created"))); n != 4 {
		t.Errorf("the connection was delivered %d times, want 4 (three 500s, one 200)", n)
	}

	if r := s.Request(http.MethodDelete, "/v1/connections/oura", token, nil); r.Status != http.StatusNoContent {
		t.Fatalf("disconnect: %d %s", r.Status, r.Body)
	}
	d := rcv.Await(t, "connection.disconnected", func(ds []testkit.ReceivedWebhook) bool {
		return len(filter(ds, ofType("connection.disconnected"))) == 1
	})
	if f := decodeForwarded(t, filter(d, ofType("connection.disconnected"))[0]); string(f.Data) != `{"provider":"oura","reason":"disconnected"}` {
		t.Errorf("connection.disconnected: %s", f.Data)
	}

	// The admin API shows the connection's four attempts; the metrics
	// count them.
	var list struct {
		Events []struct {
			ID, Type, Status string
			Attempts         int
			LastStatus       *int `json:"last_status"`
		}
	}
	testkit.Eventually(t, "three delivered events", func() bool {
		s.Request(http.MethodGet, "/admin/v1/events?status=delivered", adminKey, nil).DecodeOK(t, "admin events", &list)
		return len(list.Events) == 3
	})
	for _, e := range list.Events {
		if e.ID == attempts[0].ID && (e.Attempts != 4 || *e.LastStatus != http.StatusOK) {
			t.Errorf("the connection's delivery: %+v", e)
		}
	}
	m := s.Scrape(s.MetricsURL())
	for outcome, want := range map[string]float64{"retrying": 3, "delivered": 3} {
		if got := m.Value("linkbff_forwarded_deliveries_total", map[string]string{"outcome": outcome}); got != want {
			t.Errorf("forwarded deliveries %s: %v, want %v", outcome, got, want)
		}
	}
	if strings.Contains(s.Logs.String(), strings.TrimPrefix(testkit.AppWebhookSecret, "whsec_")) {
		t.Error("the log holds APP_WEBHOOK_SECRET")
	}
}

// Junction's events the domain does not apply (data events, users linkbff
// does not know) reach the backend when APP_WEBHOOK_EVENTS asks for them,
// once per svix-id, and never otherwise.
func TestDataEventsAreForwardedWhenAsked(t *testing.T) {
	rcv := testkit.NewWebhookReceiver(t, nil)
	env := forwardingEnv(rcv, "daily.data.*")
	env["JUNCTION_WEBHOOK_SECRET"] = testkit.WebhookSecret
	s := productionServer(t, env)
	token := s.idp.Sign(t, testkit.Claims("sleeper"))
	junctionUser := s.JunctionUserID(token)
	sleep := func(userID string) []byte {
		b, _ := json.Marshal(map[string]any{"event_type": "daily.data.sleep.created", "user_id": userID, "client_user_id": "c", "team_id": "t",
			"data": map[string]any{"user_id": userID, "score": 81}})
		return b
	}
	for _, hook := range []struct {
		id   string
		body []byte
	}{
		{"msg_sleep", sleep(junctionUser)},
		{"msg_sleep", sleep(junctionUser)}, // Junction's retry
		{"msg_stranger", sleep("00000000-0000-4000-8000-00000000dead")},
		{"msg_created", testkit.ConnectionCreatedEvent(junctionUser, "fitbit")}, // applied, not asked for
	} {
		if r := s.DeliverWebhook(testkit.SignWebhook(t, testkit.WebhookSecret, hook.id, time.Now(), hook.body), hook.body); r.Status != http.StatusNoContent {
			t.Fatalf("webhook %s: %d %s", hook.id, r.Status, r.Body)
		}
	}
	rcv.Await(t, "two sleep events", func(ds []testkit.ReceivedWebhook) bool { return len(ds) >= 2 })
	time.Sleep(500 * time.Millisecond)
	got := rcv.Received()
	if len(got) != 2 {
		t.Fatalf("%d deliveries, want the two distinct sleep events", len(got))
	}
	byUser := map[string]forwarded{}
	for _, d := range got {
		f := decodeForwarded(t, d)
		byUser[f.UserID] = f
	}
	if f := byUser[junctionUser]; f.AppUserID == nil || *f.AppUserID != "sleeper" || !strings.Contains(string(f.Data), `"score":81`) {
		t.Errorf("the user's sleep event: %+v", f)
	}
	if f, ok := byUser["00000000-0000-4000-8000-00000000dead"]; !ok || f.AppUserID != nil {
		t.Errorf("an unknown user's event: %+v (app_user_id must be null)", f)
	}
}

// The live stream carries the signed-in user's events only, the moment
// they are stored, and a reconnect with Last-Event-ID gets what it missed.
func TestEventStreamEndToEnd(t *testing.T) {
	s := testkit.Start(t, run, map[string]string{"METRICS_ADDR": "127.0.0.1:0"})
	alice, bob := s.DevToken("alice"), s.DevToken("bob")
	stream, r := s.OpenEventStream(alice, "")
	if stream == nil {
		t.Fatalf("GET /v1/events: %d %s", r.Status, r.Body)
	}
	bobs, _ := s.OpenEventStream(bob, "")
	if bobs == nil {
		t.Fatal("bob's stream refused")
	}
	testkit.Eventually(t, "two open streams in the metrics", func() bool {
		return s.Scrape(s.MetricsURL()).Value("linkbff_event_streams_open", nil) == 2
	})

	lt := s.NewLinkToken(alice, map[string]any{"provider": "oura"})
	callback := s.FinishLink(lt, "oura", testkit.Act("approve"))
	s.Request(http.MethodGet, callback, "", nil, "Accept", "application/json")

	seen := map[string]map[string]any{}
	for len(seen) < 2 {
		e, ok := stream.NextEvent(15 * time.Second)
		if !ok {
			t.Fatalf("alice's stream: only %v; %s", seen, stream)
		}
		var data map[string]any
		if err := json.Unmarshal([]byte(e.Data), &data); err != nil || data["type"] != e.Event {
			t.Fatalf("event %+v: %v", e, err)
		}
		seen[e.Event] = data
	}
	if c := seen["connection.created"]; c["provider"] != "oura" || c["status"] != "connected" {
		t.Errorf("connection.created: %v", c)
	}
	if l := seen["link.completed"]; l["provider"] != "oura" || l["status"] != "connected" || l["reported_by"] != "browser" {
		t.Errorf("link.completed: %v", l)
	}
	if e, ok := bobs.NextEvent(300 * time.Millisecond); ok {
		t.Errorf("bob's stream got alice's event %+v", e)
	}

	// Alice drops off; an event happens; she resumes from her last id.
	last := stream.LastID()
	stream.Close()
	if r := s.Request(http.MethodDelete, "/v1/connections/oura", alice, nil); r.Status != http.StatusNoContent {
		t.Fatalf("disconnect: %d", r.Status)
	}
	resumed, _ := s.OpenEventStream(alice, last)
	if resumed == nil {
		t.Fatal("resume refused")
	}
	e, ok := resumed.NextEvent(10 * time.Second)
	if !ok || e.Event != "connection.disconnected" || !strings.Contains(e.Data, `"reason":"disconnected"`) {
		t.Fatalf("after resuming: %+v %v", e, ok)
	}
	if e, ok := resumed.NextEvent(300 * time.Millisecond); ok {
		t.Errorf("the resumed stream repeated %+v", e)
	}
}

// The admin API: a user's Junction ids and connections; failed events,
// redelivered once the backend is fixed; what cannot be redelivered.
func TestAdminAPI(t *testing.T) {
	var healthy atomic.Bool
	rcv := testkit.NewWebhookReceiver(t, func(int, testkit.ReceivedWebhook) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	env := forwardingEnv(rcv, "provider.connection.created")
	env["APP_WEBHOOK_RETRY_SCHEDULE"] = "50ms"
	env["JUNCTION_WEBHOOK_SECRET"] = testkit.WebhookSecret
	s := productionServer(t, env)
	token := s.idp.Sign(t, testkit.Claims("auth0|user 42")) // a user id that needs escaping in a path
	junctionUser := s.JunctionUserID(token)
	stream, _ := s.OpenEventStream(token, "")
	lt := s.NewLinkToken(token, map[string]any{"provider": "oura"})
	s.Request(http.MethodGet, s.FinishLink(lt, "oura", testkit.Act("approve")), "", nil, "Accept", "application/json")
	created := testkit.ConnectionCreatedEvent(junctionUser, "oura") // what Junction sends then
	if r := s.DeliverWebhook(testkit.SignWebhook(t, testkit.WebhookSecret, "msg_admin", time.Now(), created), created); r.Status != http.StatusNoContent {
		t.Fatalf("webhook: %d %s", r.Status, r.Body)
	}

	var user struct {
		AppUserID      string `json:"app_user_id"`
		JunctionUserID string `json:"junction_user_id"`
		ClientUserID   string `json:"client_user_id"`
		Connections    []struct{ Provider, Status string }
	}
	testkit.Eventually(t, "the connection in the admin view", func() bool {
		s.Request(http.MethodGet, "/admin/v1/users/"+url.PathEscape("auth0|user 42"), adminKey, nil).DecodeOK(t, "admin user", &user)
		return len(user.Connections) == 1
	})
	if user.AppUserID != "auth0|user 42" || user.JunctionUserID != junctionUser || user.ClientUserID == "" || user.Connections[0].Provider != "oura" ||
		user.Connections[0].Status != "connected" {
		t.Errorf("admin user: %+v", user)
	}
	if r := s.Request(http.MethodGet, "/admin/v1/users/nobody", adminKey, nil); r.Status != http.StatusNotFound {
		t.Errorf("an unknown user: %d %s", r.Status, r.Body)
	}

	type event struct {
		ID, Status string
		Attempts   int
	}
	var failed struct{ Events []event }
	testkit.Eventually(t, "the event failed", func() bool {
		s.Request(http.MethodGet, "/admin/v1/events?status=failed", adminKey, nil).DecodeOK(t, "failed events", &failed)
		return len(failed.Events) == 1
	})
	if failed.Events[0].Attempts != 2 {
		t.Errorf("failed after %d attempts, want 2 (one and a schedule of one)", failed.Events[0].Attempts)
	}
	healthy.Store(true)
	var redelivered event
	s.Request(http.MethodPost, "/admin/v1/events/"+failed.Events[0].ID+"/redeliver", adminKey, nil).JSON(t, &redelivered)
	if redelivered.Status != "pending" || redelivered.Attempts != 0 {
		t.Errorf("redelivered: %+v", redelivered)
	}
	rcv.Await(t, "the redelivery", func(ds []testkit.ReceivedWebhook) bool { return len(ds) == 3 && ds[2].ID == failed.Events[0].ID })

	// link.completed went to the stream but not to the backend.
	linkEvent, ok := stream.Next(10*time.Second, func(b testkit.SSE) bool { return b.Event == "link.completed" })
	if !ok {
		t.Fatal("no link.completed on the stream")
	}
	var data struct{ ID string }
	_ = json.Unmarshal([]byte(linkEvent.Data), &data)
	for id, want := range map[string]int{data.ID: http.StatusConflict, "evt_00000000000000000000000000000000": http.StatusNotFound, "not-an-id": http.StatusNotFound} {
		if r := s.Request(http.MethodPost, "/admin/v1/events/"+id+"/redeliver", adminKey, nil); r.Status != want {
			t.Errorf("redeliver %s: %d %s, want %d", id, r.Status, r.Body, want)
		}
	}
	for _, q := range []string{"status=lost", "limit=0", "limit=many", "before=-3"} {
		if r := s.Request(http.MethodGet, "/admin/v1/events?"+q, adminKey, nil); r.Status != http.StatusBadRequest {
			t.Errorf("?%s: %d %s", q, r.Status, r.Body)
		}
	}
	// The app's users' tokens are no admin keys, and the admin key is no
	// user token.
	if r := s.Request(http.MethodGet, "/admin/v1/events", token, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("a user's token on the admin API: %d", r.Status)
	}
	if r := s.Request(http.MethodGet, "/v1/connections", adminKey, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("the admin key on /v1: %d", r.Status)
	}
}

// Without ADMIN_API_KEY there is no admin API at all.
func TestAdminAPIIsOffWithoutAKey(t *testing.T) {
	s := productionServer(t, nil)
	if r := s.Request(http.MethodGet, "/admin/v1/events", adminKey, nil); r.Status != http.StatusNotFound || r.ErrorCode(t) != "not_found" {
		t.Errorf("admin API without ADMIN_API_KEY: %d %s", r.Status, r.Body)
	}
}

// Shutting down ends every stream at once with a hint to reconnect (to
// another replica), and the server stops cleanly.
func TestShutdownEndsStreams(t *testing.T) {
	s := testkit.Start(t, run, nil)
	var streams []*testkit.EventStream
	for i := range 3 {
		st, r := s.OpenEventStream(s.DevToken(fmt.Sprint("user-", i)), "")
		if st == nil {
			t.Fatalf("stream %d: %d", i, r.Status)
		}
		st.Next(5*time.Second, func(b testkit.SSE) bool { return b.ID != "" })
		streams = append(streams, st)
	}
	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }()
	for i, st := range streams {
		if !st.Ended(10*time.Second) || st.Retry() < 500 || st.Retry() > 2500 {
			t.Errorf("stream %d at shutdown: %s", i, st)
		}
	}
	<-stopped
	if !strings.Contains(s.Logs.String(), `"message":"stopped"`) {
		t.Errorf("linkbff did not stop cleanly:\n%s", s.Logs)
	}
}
