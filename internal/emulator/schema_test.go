package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const specURL = "https://spec.invalid/openapi-subset.json"

// specSchemas compiles schemas out of the spec copy in testdata, once each.
var specSchemas = struct {
	once     sync.Once
	compiler *jsonschema.Compiler
	err      error
	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema
}{compiled: map[string]*jsonschema.Schema{}}

func specCompiler() (*jsonschema.Compiler, error) {
	specSchemas.once.Do(func() {
		raw, err := os.ReadFile(filepath.Join("testdata", "openapi-subset.json"))
		if err != nil {
			specSchemas.err = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			specSchemas.err = err
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		c.AssertFormat()
		if err := c.AddResource(specURL, doc); err != nil {
			specSchemas.err = err
			return
		}
		specSchemas.compiler = c
	})
	return specSchemas.compiler, specSchemas.err
}

// validateAt checks body against the schema at a JSON pointer of the spec.
func validateAt(pointer string, body []byte) error {
	c, err := specCompiler()
	if err != nil {
		return fmt.Errorf("load spec: %w", err)
	}
	specSchemas.mu.Lock()
	schema, ok := specSchemas.compiled[pointer]
	if !ok {
		// Path keys hold '{' and '}', which must be percent-encoded in a URL fragment.
		schema, err = c.Compile(specURL + "#" + (&url.URL{Path: pointer}).EscapedPath())
		if err == nil {
			specSchemas.compiled[pointer] = schema
		}
	}
	specSchemas.mu.Unlock()
	if err != nil {
		return fmt.Errorf("compile %s: %w", pointer, err)
	}
	instance, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	return schema.Validate(instance)
}

func pointerToken(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// responsePointer addresses the JSON schema of one documented response.
func responsePointer(method, path string, status int) string {
	return fmt.Sprintf("/paths/%s/%s/responses/%d/content/application~1json/schema",
		pointerToken(path), strings.ToLower(method), status)
}

func webhookPointer(eventType string) string {
	return "/webhooks/" + pointerToken(eventType) + "/post/requestBody/content/application~1json/schema"
}

// assertResponseMatchesSpec fails t unless body is valid for the spec's
// response to method+path (as written in the spec) with that status.
func assertResponseMatchesSpec(t *testing.T, method, specPath string, status int, body []byte) {
	t.Helper()
	if err := validateAt(responsePointer(method, specPath, status), body); err != nil {
		t.Errorf("%s %s %d does not match the spec: %v\nbody: %s", method, specPath, status, err, body)
	}
}

func assertSchema(t *testing.T, component string, body []byte) {
	t.Helper()
	if err := validateAt("/components/schemas/"+component, body); err != nil {
		t.Errorf("body does not match schema %s: %v\nbody: %s", component, err, body)
	}
}

func assertWebhookMatchesSpec(t *testing.T, eventType string, body []byte) {
	t.Helper()
	if err := validateAt(webhookPointer(eventType), body); err != nil {
		t.Errorf("webhook %s does not match the spec: %v\nbody: %s", eventType, err, body)
	}
}

func TestSpecCopyMatchesShared(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "..", "shared", "junction", "openapi-subset.json")
	want, err := os.ReadFile(shared)
	if err != nil {
		t.Skipf("SKIPPED: this check compares testdata/openapi-subset.json with the team's shared copy at %s, "+
			"which only exists next to the team's checkout (not in a clone): %v", shared, err)
	}
	got, err := os.ReadFile(filepath.Join("testdata", "openapi-subset.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("testdata/openapi-subset.json differs from %s; copy it again verbatim", shared)
	}
}

// The validator must bite: bodies that break the spec have to fail.
func TestSpecValidatorRejectsWrongBodies(t *testing.T) {
	const validUser = `{"user_id":"1449752e-0d8a-40e0-9206-91ab099b2537","team_id":"56bd81c9-6219-4000-a775-ae85526eba18",
		"client_user_id":"abc","created_on":"2024-01-02T03:04:05+00:00","connected_sources":[],"fallback_time_zone":null}`
	if err := validateAt("/components/schemas/ClientFacingUser", []byte(validUser)); err != nil {
		t.Fatalf("a valid user must pass: %v", err)
	}
	tests := []struct {
		name    string
		pointer string
		body    string
	}{
		{"missing required field", "/components/schemas/ClientFacingUser",
			`{"team_id":"56bd81c9-6219-4000-a775-ae85526eba18","client_user_id":"abc","created_on":"2024-01-02T03:04:05+00:00","connected_sources":[],"fallback_time_zone":null}`},
		{"uuid format asserted", "/components/schemas/ClientFacingUser",
			strings.Replace(validUser, "1449752e-0d8a-40e0-9206-91ab099b2537", "not-a-uuid", 1)},
		{"date-time format asserted", "/components/schemas/ClientFacingUser",
			strings.Replace(validUser, "2024-01-02T03:04:05+00:00", "yesterday", 1)},
		{"conflict detail as string", responsePointer("POST", "/v2/user", 400), `{"detail":"Client user id already exists."}`},
		{"providers wrapper key", responsePointer("GET", "/v2/user/providers/{user_id}", 200), `{"items":[]}`},
		{"created event with string provider", webhookPointer("provider.connection.created"),
			`{"event_type":"provider.connection.created","user_id":"1449752e-0d8a-40e0-9206-91ab099b2537","client_user_id":"1449752e-0d8a-40e0-9206-91ab099b2537","team_id":"56bd81c9-6219-4000-a775-ae85526eba18",
			"data":{"user_id":"1449752e-0d8a-40e0-9206-91ab099b2537","provider":"oura","source":"oura","external_user_id":null,"resource_availability":{}}}`},
		{"error event with unknown error_type", webhookPointer("provider.connection.error"),
			`{"event_type":"provider.connection.error","user_id":"1449752e-0d8a-40e0-9206-91ab099b2537","client_user_id":"1449752e-0d8a-40e0-9206-91ab099b2537","team_id":"56bd81c9-6219-4000-a775-ae85526eba18",
			"data":{"provider":"oura","user_id":"1449752e-0d8a-40e0-9206-91ab099b2537","message":"m","error_type":"boom","error_details":"d"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateAt(tt.pointer, []byte(tt.body))
			var invalid *jsonschema.ValidationError
			if !errors.As(err, &invalid) {
				t.Fatalf("want a schema validation error, got %v for %s", err, tt.body)
			}
		})
	}
}

// specRoute is one path template of the spec, as a pattern.
type specRoute struct {
	template string
	methods  map[string]map[string]bool // method → documented JSON statuses
	pattern  *regexp.Regexp
	params   int
}

// specRoutes reads the spec's paths once.
var specRoutes = sync.OnceValues(func() ([]specRoute, error) {
	raw, err := os.ReadFile(filepath.Join("testdata", "openapi-subset.json"))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]json.RawMessage `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	var routes []specRoute
	for template, operations := range doc.Paths {
		route := specRoute{template: template, methods: map[string]map[string]bool{}, params: strings.Count(template, "{")}
		route.pattern = regexp.MustCompile("^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(template), "[^/]+") + "$")
		for method, op := range operations {
			route.methods[strings.ToUpper(method)] = map[string]bool{}
			for status, resp := range op.Responses {
				if _, ok := resp.Content["application/json"]; ok {
					route.methods[strings.ToUpper(method)][status] = true
				}
			}
		}
		routes = append(routes, route)
	}
	return routes, nil
})

// documentedResponse finds the spec's schema for an answer: the most
// literal path template the request matches with that method, if it
// documents that status.
func documentedResponse(method, path string, status int) (pointer string, documented bool, err error) {
	routes, err := specRoutes()
	if err != nil {
		return "", false, err
	}
	var best *specRoute
	for i, route := range routes {
		if _, ok := route.methods[method]; ok && route.pattern.MatchString(path) && (best == nil || route.params < best.params) {
			best = &routes[i]
		}
	}
	if best == nil || !best.methods[method][strconv.Itoa(status)] {
		return "", false, nil
	}
	return responsePointer(method, best.template, status), true, nil
}

// conformingHandler checks every JSON answer of the emulator whose status
// the spec documents for its path against the spec's schema, in every test
// that uses the harness.
func conformingHandler(t *testing.T, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &capturingWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			return
		}
		pointer, documented, err := documentedResponse(r.Method, r.URL.Path, rec.status)
		if err != nil {
			t.Errorf("read the spec: %v", err)
			return
		}
		if documented {
			if err := validateAt(pointer, rec.body.Bytes()); err != nil {
				t.Errorf("%s %s answered %d off the spec: %v\nbody: %s", r.Method, r.URL.Path, rec.status, err, rec.body.Bytes())
			}
		}
	})
}

type capturingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *capturingWriter) WriteHeader(status int) {
	c.status = status
	c.ResponseWriter.WriteHeader(status)
}

func (c *capturingWriter) Write(b []byte) (int, error) {
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

func TestDocumentedResponseFindsTheRightTemplate(t *testing.T) {
	tests := []struct {
		method, path string
		status       int
		want         string // "" = not documented
	}{
		{"GET", "/v2/user/resolve/alice", 200, responsePointer("GET", "/v2/user/resolve/{client_user_id}", 200)},
		{"DELETE", "/v2/user/providers/oura", 200, responsePointer("DELETE", "/v2/user/{user_id}/{provider}", 200)},
		{"POST", "/v2/link/connect/demo", 422, responsePointer("POST", "/v2/link/connect/demo", 422)},
		{"GET", "/v2/user/abc", 404, ""},
		{"GET", "/nope", 200, ""},
	}
	for _, tt := range tests {
		got, documented, err := documentedResponse(tt.method, tt.path, tt.status)
		if err != nil || got != tt.want || documented != (tt.want != "") {
			t.Errorf("%s %s %d → %q %v %v, want %q", tt.method, tt.path, tt.status, got, documented, err, tt.want)
		}
	}
}
