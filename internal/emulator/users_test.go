package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

func TestTeamAPIRequiresAPIKey(t *testing.T) {
	h := newHarness(t, nil)
	tests := []struct {
		name    string
		headers []string
	}{
		{"missing", nil},
		{"wrong", []string{"x-vital-api-key", "sk_us_wrong"}},
		{"prefix of the real key", []string{"x-vital-api-key", testAPIKey[:5]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.Do("GET", "/v2/user", nil, tt.headers...)
			expectStatus(t, r, http.StatusUnauthorized)
			var body struct{ Detail string }
			r.JSON(t, &body)
			if body.Detail == "" || strings.Contains(r.Header.Get("Content-Type"), "html") {
				t.Fatalf("want a JSON detail, got %s", r.Body)
			}
		})
	}
}

func TestCreateUserAndConflict(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })

	r := h.team("POST", "/v2/user", map[string]any{
		"client_user_id": "app-user-1", "fallback_time_zone": "Europe/London",
		"fallback_birth_date": "1990-01-31", "ingestion_start": "2024-01-01", "ingestion_end": nil,
	})
	expectStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	assertResponseMatchesSpec(t, "POST", "/v2/user", 200, r.Body)
	var created wireUser
	r.JSON(t, &created)
	if _, err := uuid.Parse(created.UserID); err != nil || created.ClientUserID != "app-user-1" {
		t.Fatalf("unexpected user %+v", created)
	}
	if created.FallbackTimeZone == nil || created.FallbackTimeZone.ID != "Europe/London" {
		t.Errorf("fallback_time_zone = %+v", created.FallbackTimeZone)
	}
	if created.IngestionStart == nil || *created.IngestionStart != "2024-01-01" || created.IngestionEnd != nil {
		t.Errorf("ingestion window = %v..%v", created.IngestionStart, created.IngestionEnd)
	}
	if created.CreatedOn != "2025-03-04T05:06:07.000000+00:00" {
		t.Errorf("created_on = %q, want the injected clock", created.CreatedOn)
	}

	clock.Advance(1)
	dup := h.team("POST", "/v2/user", map[string]any{"client_user_id": "app-user-1"})
	expectStatus(t, dup, http.StatusBadRequest)
	assertResponseMatchesSpec(t, "POST", "/v2/user", 400, dup.Body)
	want := `{"detail":{"error_type":"INVALID_REQUEST","error_message":"Client user id already exists.","user_id":"` +
		created.UserID + `","created_on":"` + created.CreatedOn + `"}}`
	if string(dup.Body) != want {
		t.Fatalf("conflict body = %s\nwant %s", dup.Body, want)
	}
	if n := h.emu.UserCount(); n != 1 {
		t.Fatalf("UserCount = %d", n)
	}
}

func TestCreateUserConcurrentDuplicatesMakeOneUser(t *testing.T) {
	h := newHarness(t, nil)
	const workers = 50
	ids := make([]string, workers)
	statuses := make([]int, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			r, err := h.Send("POST", "/v2/user", `{"client_user_id":"same"}`, "x-vital-api-key", testAPIKey)
			if err != nil {
				t.Error(err)
				return
			}
			var body struct {
				UserID string `json:"user_id"`
				Detail struct {
					UserID string `json:"user_id"`
				} `json:"detail"`
			}
			statuses[i] = r.Status
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Error(err)
			}
			ids[i] = body.UserID + body.Detail.UserID
		})
	}
	wg.Wait()
	created := 0
	for i := range workers {
		if statuses[i] == http.StatusOK {
			created++
		} else if statuses[i] != http.StatusBadRequest {
			t.Fatalf("worker %d got status %d", i, statuses[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("worker %d saw user %q, worker 0 saw %q", i, ids[i], ids[0])
		}
	}
	if created != 1 || h.emu.UserCount() != 1 {
		t.Fatalf("created %d times, UserCount %d; want exactly one user", created, h.emu.UserCount())
	}
}

func TestCreateUserValidationErrors(t *testing.T) {
	h := newHarness(t, nil)
	tests := []struct {
		name     string
		body     string
		wantType string
	}{
		{"malformed JSON", `{"client_user_id":`, "json_invalid"},
		{"empty body", ``, "missing"},
		{"not an object", `["a"]`, "model_attributes_type"},
		{"missing client_user_id", `{}`, "missing"},
		{"empty client_user_id", `{"client_user_id":""}`, "string_too_short"},
		{"number client_user_id", `{"client_user_id":42}`, "string_type"},
		{"bad birth date", `{"client_user_id":"x","fallback_birth_date":"31/01/1990"}`, "date_from_datetime_parsing"},
		{"time zone not a string", `{"client_user_id":"x","fallback_time_zone":5}`, "string_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.team("POST", "/v2/user", tt.body)
			expectStatus(t, r, http.StatusUnprocessableEntity)
			assertResponseMatchesSpec(t, "POST", "/v2/user", 422, r.Body)
			var body struct {
				Detail []validationIssue `json:"detail"`
			}
			r.JSON(t, &body)
			if len(body.Detail) == 0 || body.Detail[0].Type != tt.wantType || body.Detail[0].Msg == "" || len(body.Detail[0].Loc) == 0 {
				t.Fatalf("detail = %s, want first issue of type %s", r.Body, tt.wantType)
			}
		})
	}
	if h.emu.UserCount() != 0 {
		t.Fatal("an invalid request created a user")
	}
}

func TestListUsersPaginates(t *testing.T) {
	h := newHarness(t, nil)
	var ids []string
	for _, c := range []string{"a", "b", "c"} {
		ids = append(ids, h.createUser(c).UserID)
	}
	tests := []struct {
		query     string
		wantIDs   []string
		wantLimit int
	}{
		{"", ids, 100},
		{"?limit=2", ids[:2], 2},
		{"?offset=2&limit=2", ids[2:], 2},
		{"?offset=5", nil, 100},
		{"?limit=500", ids, 500},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := h.team("GET", "/v2/user"+tt.query, nil)
			expectStatus(t, r, http.StatusOK)
			assertResponseMatchesSpec(t, "GET", "/v2/user", 200, r.Body)
			var page wireUsersPage
			r.JSON(t, &page)
			if page.Total != 3 || page.Limit != tt.wantLimit || len(page.Users) != len(tt.wantIDs) {
				t.Fatalf("page = %s", r.Body)
			}
			for i, u := range page.Users {
				if u.UserID != tt.wantIDs[i] {
					t.Fatalf("users out of creation order: %s", r.Body)
				}
			}
		})
	}
	for _, bad := range []string{"?limit=501", "?limit=abc", "?offset=-1"} {
		t.Run(bad, func(t *testing.T) {
			r := h.team("GET", "/v2/user"+bad, nil)
			expectStatus(t, r, http.StatusUnprocessableEntity)
			assertResponseMatchesSpec(t, "GET", "/v2/user", 422, r.Body)
		})
	}
}

func TestGetResolveAndSignInToken(t *testing.T) {
	h := newHarness(t, nil)
	clientID := "team/42 user+1"
	u := h.createUser(clientID)

	r := h.team("GET", "/v2/user/"+u.UserID, nil)
	expectStatus(t, r, http.StatusOK)
	assertResponseMatchesSpec(t, "GET", "/v2/user/{user_id}", 200, r.Body)

	r = h.team("GET", "/v2/user/resolve/"+url.PathEscape(clientID), nil)
	expectStatus(t, r, http.StatusOK)
	assertResponseMatchesSpec(t, "GET", "/v2/user/resolve/{client_user_id}", 200, r.Body)
	var resolved wireUser
	r.JSON(t, &resolved)
	if resolved.UserID != u.UserID {
		t.Fatalf("resolved %s, want %s", resolved.UserID, u.UserID)
	}

	r = h.team("POST", "/v2/user/"+u.UserID+"/sign_in_token", nil)
	expectStatus(t, r, http.StatusOK)
	assertResponseMatchesSpec(t, "POST", "/v2/user/{user_id}/sign_in_token", 200, r.Body)

	notFound := []string{
		"/v2/user/" + uuid.NewString(),
		"/v2/user/resolve/nobody",
		"/v2/user/providers/" + uuid.NewString(),
	}
	for _, path := range notFound {
		r := h.team("GET", path, nil)
		expectStatus(t, r, http.StatusNotFound)
		assertSchema(t, "HTTPValidationError", r.Body) // the spec has no 404; its error shape is the closest
		if string(r.Body) != `{"detail":"User not found"}` {
			t.Errorf("GET %s body = %s", path, r.Body)
		}
	}
	r = h.team("GET", "/v2/user/not-a-uuid", nil)
	expectStatus(t, r, http.StatusUnprocessableEntity)
	assertResponseMatchesSpec(t, "GET", "/v2/user/{user_id}", 422, r.Body)
}

func TestDeleteUserRemovesConnectionsAndTokens(t *testing.T) {
	h := newHarness(t, nil)
	u := h.createUser("to-delete")
	lt := h.linkToken(map[string]any{"user_id": u.UserID, "redirect_url": "https://app.example/cb"})

	r := h.team("DELETE", "/v2/user/"+u.UserID, nil)
	expectStatus(t, r, http.StatusOK)
	assertResponseMatchesSpec(t, "DELETE", "/v2/user/{user_id}", 200, r.Body)
	if string(r.Body) != `{"success":true}` {
		t.Fatalf("body = %s", r.Body)
	}
	if h.emu.UserCount() != 0 {
		t.Fatal("user still counted")
	}
	expectStatus(t, h.team("GET", "/v2/user/"+u.UserID, nil), http.StatusNotFound)
	expectStatus(t, h.team("DELETE", "/v2/user/"+u.UserID, nil), http.StatusNotFound)
	// Its link token is gone: the hosted page calls it invalid.
	page := h.Do("GET", lt.LinkWebURL, nil)
	expectStatus(t, page, http.StatusBadRequest)
	if !strings.Contains(string(page.Body), "invalid_token") {
		t.Fatalf("page does not name invalid_token:\n%s", page.Body)
	}
	// The client_user_id is free again.
	if again := h.createUser("to-delete"); again.UserID == u.UserID {
		t.Fatal("recreated user reused the deleted id")
	}
}
