package testkit

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

const miniDoc = `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/things":{"post":{
  "requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object","additionalProperties":false,"properties":{"name":{"type":"string"}}}}}},
  "responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"object","required":["id"],"additionalProperties":false,"properties":{"id":{"type":"string"}}}}}},
               "400":{"description":"bad","content":{"application/json":{"schema":{"type":"object"}}}}}}}}}`

// A request the document forbids must be refused; routes it does not
// know and other hosts are left alone.
func TestContractChecksRequestsToo(t *testing.T) {
	refuse := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if refuse {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{}`))
			return
		}
		_, _ = w.Write([]byte(`{"id":"1"}`))
	}))
	defer srv.Close()
	c, err := NewContract([]byte(miniDoc))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reported []string
	client := NewClient(t, srv.URL)
	client.HTTP.Transport = c.Transport(client.HTTP.Transport, srv.URL, func(err error) { mu.Lock(); reported = append(reported, err.Error()); mu.Unlock() })
	reports := func() []string { mu.Lock(); defer mu.Unlock(); r := reported; reported = nil; return r }

	client.Do(http.MethodPost, "/things", map[string]any{"name": "a"})
	client.Do(http.MethodGet, "/elsewhere", nil)
	if r := reports(); len(r) != 0 {
		t.Fatalf("valid or undocumented exchanges reported: %q", r)
	}
	client.Do(http.MethodPost, "/things", map[string]any{"colour": "red"})
	if r := reports(); len(r) != 1 || !strings.Contains(r[0], "not refused with a 4xx") {
		t.Fatalf("a forbidden request answered 200: %q", r)
	}
	refuse = true
	client.Do(http.MethodPost, "/things", map[string]any{"colour": "red"})
	if r := reports(); len(r) != 0 {
		t.Fatalf("a forbidden request refused with a 400: %q", r)
	}
	if _, err := NewContract([]byte(`{"openapi":"3.1.0","paths":{}}`)); err == nil {
		t.Fatal("a document without info loaded")
	}
}
