package testkit

import (
	"net/http"
	"net/url"
	"strings"
)

// DevToken signs in through linkbff's dev sign-in.
func (c *Client) DevToken(user string) string {
	c.T.Helper()
	var body struct{ Token string }
	c.Do(http.MethodPost, "/_dev/token", map[string]string{"user": user}).DecodeOK(c.T, "dev token", &body)
	return body.Token
}

// LinkToken is linkbff's answer to POST /v1/link/token.
type LinkToken struct {
	LinkToken  string `json:"link_token"`
	LinkWebURL string `json:"link_web_url"`
}

// NewLinkToken asks linkbff for a Link token, failing unless it gets one.
func (c *Client) NewLinkToken(token string, body map[string]any) LinkToken {
	c.T.Helper()
	var payload any
	if body != nil { // a nil map would be sent as null
		payload = body
	}
	r := c.Request(http.MethodPost, "/v1/link/token", token, payload)
	var lt LinkToken
	r.DecodeOK(c.T, "link token", &lt)
	if lt.LinkToken == "" || lt.LinkWebURL == "" {
		c.T.Fatalf("link token response incomplete: %s", r.Body)
	}
	return lt
}

// FinishLink acts as the user's browser on the emulator's hosted Link
// page: opens link_web_url, presses action for provider, and returns the
// emulator's redirect target: the linkbff callback URL with its outcome.
func (c *Client) FinishLink(lt LinkToken, provider string, action url.Values) string {
	c.T.Helper()
	page := c.Do(http.MethodGet, lt.LinkWebURL, nil)
	if page.Status != http.StatusOK && page.Status != http.StatusTemporaryRedirect && page.Status != http.StatusFound && page.Status != http.StatusSeeOther {
		c.T.Fatalf("link page: %d %s", page.Status, page.Body)
	}
	u, err := url.Parse(lt.LinkWebURL)
	if err != nil {
		c.T.Fatal(err)
	}
	q := url.Values{"token": {lt.LinkToken}, "provider": {provider}}
	for k, v := range action {
		q[k] = v
	}
	base := u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, "/link/")
	r := c.Do(http.MethodGet, base+"/link/complete?"+q.Encode(), nil)
	if r.Status != http.StatusTemporaryRedirect {
		c.T.Fatalf("link complete: want 307, got %d %s", r.Status, r.Body)
	}
	return r.Header.Get("Location")
}

// Act is a FinishLink action ("approve", "deny", "close", "error") with
// further name/value pairs.
func Act(action string, kv ...string) url.Values {
	v := url.Values{"action": {action}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// JunctionUserID is the Junction user linkbff maps token's holder to,
// read from the mobile sign-in token route.
func (c *Client) JunctionUserID(token string) string {
	c.T.Helper()
	r := c.Request(http.MethodPost, "/v1/mobile/sign-in-token", token, nil)
	var body struct {
		UserID      string `json:"user_id"`
		SignInToken string `json:"sign_in_token"`
	}
	r.JSON(c.T, &body)
	if r.Status != http.StatusOK || body.UserID == "" || body.SignInToken == "" {
		c.T.Fatalf("sign-in token: %d %s", r.Status, r.Body)
	}
	return body.UserID
}

// ConnectionList is linkbff's answer to GET /v1/connections.
type ConnectionList struct {
	Connections []struct {
		Provider       string  `json:"provider"`
		Name           string  `json:"name"`
		Status         string  `json:"status"`
		ConnectedAt    *string `json:"connected_at"`
		ErrorType      *string `json:"error_type"`
		ExternalUserID *string `json:"external_user_id"`
	} `json:"connections"`
}

// Connections lists token's holder's connections, failing unless 200.
func (c *Client) Connections(token string) ConnectionList {
	c.T.Helper()
	var l ConnectionList
	c.Request(http.MethodGet, "/v1/connections", token, nil).DecodeOK(c.T, "connections", &l)
	return l
}

// Status is provider's connection status and error type; both empty when
// it is not listed.
func (l ConnectionList) Status(provider string) (status, errorType string) {
	for _, c := range l.Connections {
		if c.Provider == provider {
			if c.ErrorType != nil {
				errorType = *c.ErrorType
			}
			return c.Status, errorType
		}
	}
	return "", ""
}
