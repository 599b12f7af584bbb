package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
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
		t.Skipf("shared spec %s not present outside the development workspace: %v", shared, err)
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
