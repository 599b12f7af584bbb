package testkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

func init() {
	// The callback answers browsers with a page, the event stream with
	// text: both schemas are strings.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.PlainBodyDecoder)
}

// Contract is an OpenAPI document that exchanges are checked against.
type Contract struct {
	router routers.Router
}

// NewContract loads and validates an OpenAPI 3.x document.
func NewContract(doc []byte) (*Contract, error) {
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI document: %w", err)
	}
	if err := spec.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("invalid OpenAPI document: %w", err)
	}
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		return nil, err
	}
	return &Contract{router: router}, nil
}

// contract, when set, checks every exchange of the linkbff servers tests
// start (see UseContract).
var contract struct {
	sync.Mutex
	c *Contract
}

// UseContract makes every linkbff server started from now on (Start,
// StartLinkbffBinary) check each request its client sends and each
// response it gets against doc, failing the test on a mismatch. Call it
// from TestMain; testkit imports no linkbff package, so the document is
// handed in.
func UseContract(doc []byte) {
	c, err := NewContract(doc)
	if err != nil {
		panic(err)
	}
	contract.Lock()
	contract.c = c
	contract.Unlock()
}

// checkContract wraps s's client with the registered contract, if any.
func checkContract(s *Server) {
	contract.Lock()
	c := contract.c
	contract.Unlock()
	if c == nil {
		return
	}
	s.HTTP.Transport = c.Transport(s.HTTP.Transport, s.URL, func(err error) { s.T.Errorf("%v", err) })
}

// Check tells what in one exchange the document does not allow, or nil.
// Exchanges the document has no operation for (other hosts, the dev-mode
// emulator, the demo's files, OPTIONS preflights) are not checked. A
// request the document does not allow must be refused with a 4xx; its
// answer is checked like any other.
func (c *Contract) Check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return nil
	}
	ctx := context.Background()
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    bearerPresent,
	}
	// The reason alone: the default message repeats the whole schema.
	opts.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		return "at /" + strings.Join(err.JSONPointer(), "/") + ": " + err.Reason
	})
	in := &openapi3filter.RequestValidationInput{Request: withBody(req, reqBody), PathParams: params, Route: route, Options: opts}
	what := req.Method + " " + req.URL.Path + " → " + fmt.Sprint(resp.StatusCode)
	if reqErr := openapi3filter.ValidateRequest(ctx, in); reqErr != nil && (resp.StatusCode < 400 || resp.StatusCode > 499) {
		return fmt.Errorf("openapi: %s: the document does not allow this request, yet it was not refused with a 4xx: %v", what, reqErr)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                opts,
	}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("openapi: %s: the response does not follow the document: %v\n%s", what, err, snippet(respBody))
	}
	return nil
}

// bearerPresent accepts any Bearer credential: whether it is valid is
// linkbff's business, and a 401 is in the document.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme.Type == "http" && strings.EqualFold(in.SecurityScheme.Scheme, "bearer") {
		if h := in.RequestValidationInput.Request.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			return nil
		}
		return errors.New("no Bearer credential")
	}
	return fmt.Errorf("security scheme %q is not checked by testkit", in.SecuritySchemeName)
}

// Transport checks each exchange with base against host (a base URL such
// as http://127.0.0.1:8080) and hands every mismatch to report.
func (c *Contract) Transport(base http.RoundTripper, host string, report func(error)) http.RoundTripper {
	return &checkingTransport{contract: c, base: base, host: strings.TrimRight(host, "/"), report: report}
}

type checkingTransport struct {
	contract *Contract
	base     http.RoundTripper
	host     string
	report   func(error)
}

func (t *checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme+"://"+req.URL.Host != t.host {
		return t.base.RoundTrip(req)
	}
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req = withBody(req, reqBody)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// A stream does not end: its status and headers are checked, and
		// the caller reads the events as they come.
		if err := t.contract.Check(req, reqBody, resp, nil); err != nil {
			t.report(err)
		}
		return resp, nil
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err := t.contract.Check(req, reqBody, resp, respBody); err != nil {
		t.report(err)
	}
	return resp, nil
}

// CloseIdleConnections lets Server.Stop hang up the base transport's idle
// connections through the wrapper.
func (t *checkingTransport) CloseIdleConnections() {
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// withBody is req with a fresh reader over body.
func withBody(req *http.Request, body []byte) *http.Request {
	r := req.Clone(req.Context())
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return r
}

func snippet(b []byte) string {
	if len(b) > 500 {
		return string(b[:500]) + "…"
	}
	return string(b)
}
