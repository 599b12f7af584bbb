package handlers

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/events"
	"github.com/linkbff/linkbff/internal/linking"
)

func TestOpenAPIIsServedCacheable(t *testing.T) {
	h := handleOpenAPI(api.OpenAPI)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); w.Code != http.StatusOK || err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("GET /openapi.json: %d %v %.80s", w.Code, err, w.Body)
	}
	etag := w.Header().Get("ETag")
	if etag == "" || w.Header().Get("Cache-Control") == "" || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("headers: %v", w.Header())
	}

	again := httptest.NewRequest(http.MethodGet, "/openapi.json", nil)
	again.Header.Set("If-None-Match", etag)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, again)
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Fatalf("revalidation with the ETag: %d, %d bytes", w.Code, w.Body.Len())
	}
}

// openAPIDoc is the part of the document these tests read.
type openAPIDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas struct {
			ErrorCode struct {
				Enum        []string `json:"enum"`
				Description string   `json:"description"`
			} `json:"ErrorCode"`
		} `json:"schemas"`
	} `json:"components"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// Every route linkbff serves is in the document and every operation in the
// document is served, so a route added in code and not in the document
// fails here (and its traffic fails the end-to-end suite's checks).
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	svc, err := linking.New(linking.Config{Junction: struct{ linking.Junction }{}, Store: struct{ linking.Store }{}, PublicURL: "http://linkbff.test"})
	if err != nil {
		t.Fatal(err)
	}
	// Every optional part on, as in dev mode.
	h := New(Deps{Linking: svc, Webhooks: &svix.Webhook{}, DevIssuer: &auth.DevIssuer{}, Emulator: http.NotFoundHandler(), Demo: http.NotFoundHandler(),
		Streams: events.NewHub(events.Limits{PerUser: 1, Total: 1}, nil), AdminAPIKey: "k"})
	// Not part of the API: the dev-mode emulator and the demo's files.
	undocumented := map[string]bool{"/_junction/*": true, "/*": true}
	served := map[string]bool{}
	err = chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.Replace(route, "/*/", "/", 1) // chi's sub-router marker
		if !undocumented[route] {
			served[strings.ToLower(method)+" "+route] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, ops := range loadOpenAPI(t).Paths {
		for method := range ops {
			documented[method+" "+path] = true
		}
	}
	for op := range served {
		if !documented[op] {
			t.Errorf("%s is served but not in api/openapi.json", op)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("%s is in api/openapi.json but not served", op)
		}
	}
}

// The document's error codes are the domain's, plus the router's own
// method_not_allowed, and each one's status is the one HTTPStatus gives.
func TestOpenAPIListsEveryErrorCode(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../linking/errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int{"method_not_allowed": http.StatusMethodNotAllowed}
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || spec.Type == nil || fmt.Sprint(spec.Type) != "ErrorCode" {
			return true
		}
		for _, v := range spec.Values {
			if lit, ok := v.(*ast.BasicLit); ok {
				code, _ := strconv.Unquote(lit.Value)
				codes[code] = HTTPStatus(linking.ErrorCode(code))
			}
		}
		return true
	})
	if len(codes) < 10 {
		t.Fatalf("found only %d error codes in linking/errors.go", len(codes))
	}
	ec := loadOpenAPI(t).Components.Schemas.ErrorCode
	if len(ec.Enum) != len(codes) {
		t.Errorf("ErrorCode lists %d codes, the code has %d: %v", len(ec.Enum), len(codes), codes)
	}
	for code, status := range codes {
		if !slices.Contains(ec.Enum, code) {
			t.Errorf("error code %s is not in ErrorCode's enum", code)
		}
		if want := fmt.Sprintf("`%s` (%d)", code, status); !strings.Contains(ec.Description, want) {
			t.Errorf("ErrorCode's description does not say %s", want)
		}
	}
}
