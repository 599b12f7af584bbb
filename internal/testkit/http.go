package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Client sends test requests to one server and shows each redirect
// instead of following it.
type Client struct {
	T    testing.TB
	Base string // prefixed to every target that is not an absolute URL
	HTTP *http.Client
}

// NewClient returns a client for base with its own connections, so a
// server's shutdown is not held up by another test's idle ones.
func NewClient(t testing.TB, base string) *Client {
	return &Client{T: t, Base: base, HTTP: NoRedirects()}
}

// NoRedirects returns an HTTP client that hands back each redirect.
func NoRedirects() *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 200},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Response is a whole answer, its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test when it is not JSON.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response %d is not JSON: %v\n%s", r.Status, err, r.Body)
	}
}

// DecodeOK fails the test unless the status is 200, naming what was
// asked, then decodes the body into v.
func (r Response) DecodeOK(t testing.TB, what string, v any) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s: %d %s", what, r.Status, r.Body)
	}
	r.JSON(t, v)
}

// ErrorCode returns the API error's code, failing when the body has not
// linkbff's {"error":{"code","message"}} shape.
func (r Response) ErrorCode(t testing.TB) string {
	t.Helper()
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	r.JSON(t, &body)
	if body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("error body lacks code or message: %s", r.Body)
	}
	return body.Error.Code
}

// Send sends a request and reports transport errors instead of failing
// the test, so it may run on any goroutine. body may be nil, a string
// (sent raw) or a value encoded as JSON; headers are name/value pairs.
func (c *Client) Send(method, target string, body any, headers ...string) (Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return Response{}, err
		}
		rd = bytes.NewReader(raw)
	}
	if u, err := url.Parse(target); err != nil || !u.IsAbs() {
		target = c.Base + target
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		return Response{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: read body: %w", method, target, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}, nil
}

// Do is Send failing the test on a transport error.
func (c *Client) Do(method, target string, body any, headers ...string) Response {
	c.T.Helper()
	r, err := c.Send(method, target, body, headers...)
	if err != nil {
		c.T.Fatal(err)
	}
	return r
}

// Request is Do as the holder of token (a JWT; none when empty).
func (c *Client) Request(method, target, token string, body any, headers ...string) Response {
	c.T.Helper()
	return c.Do(method, target, body, append(Bearer(token), headers...)...)
}

// Bearer is the Authorization header pair for token, or nothing when
// token is empty.
func Bearer(token string) []string {
	if token == "" {
		return nil
	}
	return []string{"Authorization", "Bearer " + token}
}
