package junction

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBodyBytes caps how much of a response is read.
const maxBodyBytes = 1 << 20

// Request header names in canonical form, and the values every request
// shares (net/http only reads them).
var (
	canonicalAccept      = http.CanonicalHeaderKey("Accept")
	canonicalUserAgent   = http.CanonicalHeaderKey("User-Agent")
	canonicalContentType = http.CanonicalHeaderKey("Content-Type")
	canonicalAPIKey      = http.CanonicalHeaderKey(headerAPIKey)
	canonicalLinkToken   = http.CanonicalHeaderKey(headerLinkToken)
	jsonValue            = []string{"application/json"}
	userAgentValue       = []string{userAgent}
)

// request describes one logical call; it may take several attempts.
type request struct {
	op     string // names the call for observers, e.g. "link_token"
	method string
	path   string // already escaped; see escapedPath
	body   any    // JSON-encoded once and re-sent on every attempt
	// linkToken, when set, authenticates the call instead of the API key
	// (the Link endpoints a browser would call).
	linkToken string
	// retryPOST marks a POST that is safe to repeat.
	retryPOST bool
}

// escapedPath joins path segments, escaping each one.
func escapedPath(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// response is the part of an HTTP response an attempt hands back.
type response struct {
	status int
	header http.Header
	body   []byte
	// truncated is true when the body exceeded maxBodyBytes.
	truncated bool
}

// do runs r with retries and decodes a 2xx body into out (when non-nil).
// Failures come back as *Error, except a canceled ctx, which is returned as
// is (wrapped with the call's method and path).
func (c *Client) do(ctx context.Context, r request, out any) (err error) {
	call := Call{Operation: r.op}
	ctx, done := c.observe(ctx, r.op)
	defer func() { call.Err = err; done(call) }()

	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("junction: encode %s %s: %w", r.method, r.path, err)
		}
	}
	retries := 0
	if idempotentMethod(r.method) || r.retryPOST {
		retries = c.maxRetries
	}
	for attempt := 0; ; attempt++ {
		resp, err := c.attempt(ctx, r, payload)
		call.Attempts, call.StatusCode = attempt+1, resp.status
		var failure *Error
		switch {
		case err == nil && resp.status >= 200 && resp.status <= 299:
			failure = decodeSuccess(r, resp, out)
			if failure == nil {
				return nil
			}
		case ctx.Err() != nil:
			return c.contextError(ctx, r)
		case err != nil:
			failure = transportError(r, err, c.timeout)
		default:
			failure = statusError(r, resp, c.apiKey, r.linkToken)
		}
		// A success whose body does not parse was garbled or cut short on the
		// way; the call is safe to repeat, so it is tried again like a 503.
		if attempt >= retries || !(failure.Retryable() || failure.garbled) {
			return failure
		}
		delay := backoff(c.baseBackoff, attempt, failure.RetryAfter)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
			// Waiting would outlive the caller: answer now, with Junction's
			// own error (and its Retry-After) rather than a timeout.
			return failure
		}
		if err := c.sleep(ctx, delay); err != nil {
			return c.contextError(ctx, r)
		}
	}
}

// attempt sends r once under the per-attempt timeout and reads the body.
func (c *Client) attempt(ctx context.Context, r request, payload []byte) (response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	target := c.baseURL + r.path
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return response{}, err
	}
	// Keys already in canonical form, assigned directly: Header.Set would
	// canonicalise (and allocate) the x-vital-* names on every attempt.
	req.Header[canonicalAccept] = jsonValue
	req.Header[canonicalUserAgent] = userAgentValue
	if payload != nil {
		req.Header[canonicalContentType] = jsonValue
	}
	if r.linkToken != "" {
		req.Header[canonicalLinkToken] = []string{r.linkToken}
	} else {
		req.Header[canonicalAPIKey] = c.apiKeyValue
	}

	res, err := c.httpClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBodyBytes+1))
	if err != nil {
		return response{}, err
	}
	resp := response{status: res.StatusCode, header: res.Header, body: data}
	if len(data) > maxBodyBytes {
		resp.body, resp.truncated = data[:maxBodyBytes], true
	}
	return resp, nil
}

// contextError reports the caller's ctx ending: cancellation passes through,
// an expired deadline is an upstream timeout.
func (c *Client) contextError(ctx context.Context, r request) error {
	err := ctx.Err()
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("junction: %s %s: %w", r.method, r.path, err)
	}
	return &Error{Method: r.method, Path: r.path, Detail: "deadline exceeded", cause: err}
}

// transportError describes a failure without a response. The *url.Error
// wrapper is dropped because its text repeats the full URL.
func transportError(r request, err error, timeout time.Duration) *Error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	detail := snippet(err.Error())
	if errors.Is(err, context.DeadlineExceeded) {
		detail = fmt.Sprintf("no response within %s", timeout)
	}
	return &Error{Method: r.method, Path: r.path, Detail: detail, cause: err}
}

// statusError builds the Error for a non-2xx response. Secrets are cut from
// the body first, in case an upstream ever echoes a request header back.
func statusError(r request, resp response, secrets ...string) *Error {
	body := resp.body
	for _, secret := range secrets {
		if secret != "" {
			body = bytes.ReplaceAll(body, []byte(secret), []byte("[redacted]"))
		}
	}
	info := parseDetail(body)
	return &Error{
		StatusCode: resp.status,
		Method:     r.method,
		Path:       r.path,
		Detail:     info.Detail,
		ErrorType:  info.ErrorType,
		UserID:     info.UserID,
		RetryAfter: parseRetryAfter(resp.header.Get("Retry-After"), time.Now()),
		createdOn:  info.CreatedOn,
	}
}

func decodeSuccess(r request, resp response, out any) *Error {
	if out == nil {
		return nil
	}
	fail := func(detail string) *Error {
		return &Error{StatusCode: resp.status, Method: r.method, Path: r.path, Detail: detail}
	}
	if resp.truncated {
		return fail(fmt.Sprintf("response body exceeds %d bytes", maxBodyBytes))
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		e := fail("undecodable response: " + snippet(err.Error()))
		e.garbled = true
		return e
	}
	return nil
}
