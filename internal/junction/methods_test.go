package junction

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"
)

const userJSON = `{"user_id":"56bd81c9-6219-4000-a775-ae85526eba18","team_id":"t-1","client_user_id":"cu-1",
"created_on":"2026-07-23T14:27:46+00:00","connected_sources":[],"fallback_time_zone":null}`

var wantUser = User{
	UserID: "56bd81c9-6219-4000-a775-ae85526eba18", TeamID: "t-1", ClientUserID: "cu-1",
	CreatedOn: time.Date(2026, 7, 23, 14, 27, 46, 0, time.UTC),
}

// routes answers each endpoint with a canned body, keyed by "METHOD path".
func routes(t *testing.T, bodies map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.Method+" "+r.URL.EscapedPath()]
		if !ok {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.EscapedPath())
			writeJSON(w, 404, `{"detail":"Not Found"}`)
			return
		}
		writeJSON(w, 200, body)
	}
}

func TestTeamCallsHappyPath(t *testing.T) {
	f := newFakeJunction(t, routes(t, map[string]string{
		"POST /v2/user":                   userJSON,
		"GET /v2/user/resolve/cu-1":       userJSON,
		"DELETE /v2/user/u-1":             `{"success":true}`,
		"POST /v2/link/token":             `{"link_token":"dGVzdA==","link_web_url":"https://link.tryvital.io/?token=dGVzdA%3D%3D&env=sandbox&region=us"}`,
		"DELETE /v2/user/u-1/oura":        `{"success":true}`,
		"POST /v2/user/u-1/sign_in_token": `{"user_id":"u-1","sign_in_token":"sit-1"}`,
		"GET /v2/user/providers/u-1": `{"providers":[
			{"name":"Oura","slug":"oura","logo":"https://l/oura.png","created_on":"2026-01-02T03:04:05+00:00","status":"connected","external_user_id":"ext-1","resource_availability":{}},
			{"name":"Garmin","slug":"garmin","logo":"https://l/g.png","created_on":"2010-01-23T12:34:56","status":"error","external_user_id":null,
			 "error_details":{"error_message":"deregistered","error_type":"deregistered_per_provider","errored_at":"2010-01-24T23:45:32+00:00"},"resource_availability":{}}]}`,
		"GET /v2/providers": `[{"name":"Oura","slug":"oura","description":"Ring","logo":"https://l/oura.png","auth_type":"oauth","supported_resources":["sleep","workouts"]},
			{"name":"Apple","slug":"apple_health_kit","description":"HK","logo":null,"auth_type":null}]`,
	}))
	c, _ := newTestClient(t, f)
	ctx := context.Background()

	created, err := c.CreateUser(ctx, "cu-1")
	if err != nil || created != wantUser {
		t.Fatalf("CreateUser = %+v, %v", created, err)
	}
	resolved, err := c.ResolveUser(ctx, "cu-1")
	if err != nil || resolved != wantUser {
		t.Fatalf("ResolveUser = %+v, %v", resolved, err)
	}
	if err := c.DeleteUser(ctx, "u-1"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	token, err := c.LinkToken(ctx, LinkTokenRequest{UserID: "u-1"})
	if err != nil || token.LinkToken != "dGVzdA==" || token.LinkWebURL == "" {
		t.Fatalf("LinkToken = %+v, %v", token, err)
	}
	if err := c.DeregisterProvider(ctx, "u-1", "oura"); err != nil {
		t.Fatalf("DeregisterProvider: %v", err)
	}
	sit, err := c.SignInToken(ctx, "u-1")
	if err != nil || sit != (SignInToken{UserID: "u-1", SignInToken: "sit-1"}) {
		t.Fatalf("SignInToken = %+v, %v", sit, err)
	}
	connected, err := c.UserProviders(ctx, "u-1")
	if err != nil {
		t.Fatalf("UserProviders: %v", err)
	}
	wantConnected := []ConnectedProvider{
		{Name: "Oura", Slug: "oura", Logo: "https://l/oura.png", Status: "connected", ExternalUserID: "ext-1",
			CreatedOn: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{Name: "Garmin", Slug: "garmin", Logo: "https://l/g.png", Status: "error",
			CreatedOn: time.Date(2010, 1, 23, 12, 34, 56, 0, time.UTC),
			ErrorDetails: &ConnectionErrorDetails{ErrorType: "deregistered_per_provider", ErrorMessage: "deregistered",
				ErroredAt: time.Date(2010, 1, 24, 23, 45, 32, 0, time.UTC)}},
	}
	if !reflect.DeepEqual(connected, wantConnected) {
		t.Fatalf("UserProviders = %+v", connected)
	}
	providers, err := c.Providers(ctx)
	wantProviders := []Provider{
		{Name: "Oura", Slug: "oura", Description: "Ring", Logo: "https://l/oura.png", AuthType: "oauth", SupportedResources: []string{"sleep", "workouts"}},
		{Name: "Apple", Slug: "apple_health_kit", Description: "HK"},
	}
	if err != nil || !reflect.DeepEqual(providers, wantProviders) {
		t.Fatalf("Providers = %+v, %v", providers, err)
	}

	for _, r := range f.recorded() {
		if r.Header.Get(headerAPIKey) != testAPIKey {
			t.Errorf("%s %s: x-vital-api-key missing", r.Method, r.Path)
		}
		if r.Header.Get(headerLinkToken) != "" {
			t.Errorf("%s %s: unexpected link token header", r.Method, r.Path)
		}
		if r.Header.Get("Accept") != "application/json" {
			t.Errorf("%s %s: Accept = %q", r.Method, r.Path, r.Header.Get("Accept"))
		}
		if r.Body != "" && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: body sent with Content-Type %q", r.Method, r.Path, r.Header.Get("Content-Type"))
		}
		switch r.Method + " " + r.Path {
		case "POST /v2/user":
			if r.Body != `{"client_user_id":"cu-1"}` {
				t.Errorf("create body = %s", r.Body)
			}
		case "POST /v2/link/token":
			if r.Body != `{"user_id":"u-1"}` {
				t.Errorf("link token body with empty options = %s", r.Body)
			}
		}
	}
}

func TestLinkTokenSendsAllOptions(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"link_token":"t","link_web_url":"https://link.tryvital.io/?token=t"}`)
	})
	c, _ := newTestClient(t, f)
	_, err := c.LinkToken(context.Background(), LinkTokenRequest{
		UserID: "u-1", Provider: "oura", RedirectURL: "https://app.example/cb?x=1",
		FilterOnProviders: []string{"oura", "fitbit"}, OnError: "redirect", OnClose: "redirect",
	})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(f.recorded()[0].Body), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"user_id": "u-1", "provider": "oura", "redirect_url": "https://app.example/cb?x=1",
		"filter_on_providers": []any{"oura", "fitbit"}, "on_error": "redirect", "on_close": "redirect",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("body = %v", got)
	}
}

func TestOAuthProviderUsesLinkTokenOnly(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"name":"Oura","slug":"oura","description":"Ring","logo":"https://l/o.png","group":null,
			"oauth_url":"https://cloud.ouraring.com/oauth/authorize?state=s","auth_type":"oauth","source_type":"device","is_active":true,"id":1}`)
	})
	c, _ := newTestClient(t, f)
	got, err := c.OAuthProvider(context.Background(), "link-tok", "oura")
	if err != nil {
		t.Fatal(err)
	}
	want := OAuthProvider{Name: "Oura", Slug: "oura", Description: "Ring", Logo: "https://l/o.png",
		OAuthURL: "https://cloud.ouraring.com/oauth/authorize?state=s", AuthType: "oauth"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("OAuthProvider = %+v", got)
	}
	r := f.recorded()[0]
	if r.Method != http.MethodGet || r.Path != "/v2/link/provider/oauth/oura" {
		t.Fatalf("request = %s %s", r.Method, r.Path)
	}
	if _, present := r.Header[http.CanonicalHeaderKey(headerAPIKey)]; present {
		t.Fatal("API key sent on the link-token call")
	}
	if r.Header.Get(headerLinkToken) != "link-tok" {
		t.Fatalf("x-vital-link-token = %q", r.Header.Get(headerLinkToken))
	}
}

// A spent or invalid link token comes back as Junction's own 401, for the
// adapter to classify; the client does not reinterpret it.
func TestOAuthProviderInvalidLinkTokenReturnsJunctions401(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, `{"detail":"Invalid link token"}`)
	})
	c, _ := newTestClient(t, f)
	_, err := c.OAuthProvider(context.Background(), "spent", "oura")
	je := asJunctionError(t, err)
	if je.StatusCode != 401 || je.Detail != "Invalid link token" || je.Path != "/v2/link/provider/oauth/oura" || je.Retryable() {
		t.Fatalf("junction error = %+v", je)
	}
	if n := len(f.recorded()); n != 1 {
		t.Fatalf("401 was retried: %d requests", n)
	}
}

func TestCreateUserAdoptsConflict(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, `{"detail":{"created_on":"2023-02-27T12:31:24+00:00","error_message":"Client user id already exists.",
			"error_type":"INVALID_REQUEST","user_id":"1449752e-0d8a-40e0-9206-91ab099b2537"}}`)
	})
	c, _ := newTestClient(t, f)
	got, err := c.CreateUser(context.Background(), "cu-1")
	if err != nil {
		t.Fatal(err)
	}
	want := User{UserID: "1449752e-0d8a-40e0-9206-91ab099b2537", ClientUserID: "cu-1",
		CreatedOn: time.Date(2023, 2, 27, 12, 31, 24, 0, time.UTC), Adopted: true}
	if got != want {
		t.Fatalf("CreateUser = %+v", got)
	}
	if n := len(f.recorded()); n != 1 {
		t.Fatalf("%d requests, want 1 (no resolve needed)", n)
	}
}

func TestCreateUserConflictWithoutUserIDResolves(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method + " " + r.URL.Path {
		case "POST /v2/user":
			writeJSON(w, 400, `{"detail":"Client user id already exists."}`)
		case "GET /v2/user/resolve/cu-1":
			writeJSON(w, 200, userJSON)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
	})
	c, _ := newTestClient(t, f)
	got, err := c.CreateUser(context.Background(), "cu-1")
	if err != nil {
		t.Fatal(err)
	}
	want := wantUser
	want.Adopted = true
	if got != want {
		t.Fatalf("CreateUser = %+v", got)
	}
}

func TestCreateUserBadRequestThatIsNotAConflict(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			writeJSON(w, 400, `{"detail":"client_user_id is malformed"}`)
		default:
			writeJSON(w, 404, `{"detail":"User not found"}`)
		}
	})
	c, _ := newTestClient(t, f)
	_, err := c.CreateUser(context.Background(), "cu-1")
	if je := asJunctionError(t, err); je.StatusCode != 400 || je.Method != "POST" || je.Detail != "client_user_id is malformed" {
		t.Fatalf("want the original 400, got %+v", je)
	}
	if n := len(f.recorded()); n != 2 {
		t.Fatalf("%d requests, want the POST and one resolve", n)
	}
}

func TestCreateUserResolveFailurePropagates(t *testing.T) {
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			writeJSON(w, 400, `{"detail":"exists"}`)
		default:
			writeJSON(w, 401, `{"detail":"bad key"}`)
		}
	})
	c, _ := newTestClient(t, f)
	_, err := c.CreateUser(context.Background(), "cu-1")
	if je := asJunctionError(t, err); je.StatusCode != 401 || je.Method != "GET" || je.Path != "/v2/user/resolve/cu-1" {
		t.Fatalf("want the resolve failure, got %+v", je)
	}
}
