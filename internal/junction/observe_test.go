package junction

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
)

type observedKey struct{}

// Observers see each logical call once, retries counted, with the context
// they derived reaching the request.
func TestObserversSeeEachCall(t *testing.T) {
	var answered atomic.Int32
	f := newFakeJunction(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/providers" {
			writeJSON(w, http.StatusForbidden, `{"detail":"bad key"}`)
			return
		}
		if answered.Add(1) < 3 {
			writeJSON(w, http.StatusServiceUnavailable, `{"detail":"busy"}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"link_token":"t","link_web_url":"https://link"}`)
	})
	var calls []Call
	var order []string
	observer := func(name string) Observer {
		return func(ctx context.Context, op string) (context.Context, func(Call)) {
			order = append(order, "start "+name+" "+op)
			ctx = context.WithValue(ctx, observedKey{}, name)
			return ctx, func(c Call) {
				order = append(order, "end "+name)
				if name == "inner" {
					calls = append(calls, c)
				}
			}
		}
	}
	var transportSaw atomic.Value
	client, _ := newTestClient(t, f, func(cfg *Config) {
		cfg.Observers = []Observer{observer("outer"), observer("inner")}
		base := f.Client().Transport
		cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			transportSaw.Store(r.Context().Value(observedKey{}))
			return base.RoundTrip(r)
		})}
	})

	if _, err := client.LinkToken(t.Context(), LinkTokenRequest{UserID: "u"}); err != nil {
		t.Fatal(err)
	}
	_, err := client.Providers(t.Context())
	var jerr *Error
	if !errors.As(err, &jerr) || jerr.StatusCode != http.StatusForbidden {
		t.Fatalf("providers: %v", err)
	}
	if len(calls) != 2 {
		t.Fatalf("calls = %+v", calls)
	}
	if c := calls[0]; c.Operation != "link_token" || c.Attempts != 3 || c.StatusCode != 200 || c.Err != nil {
		t.Errorf("link token call = %+v", c)
	}
	if c := calls[1]; c.Operation != "providers" || c.Attempts != 1 || c.StatusCode != 403 || !errors.As(c.Err, &jerr) {
		t.Errorf("providers call = %+v", c)
	}
	if got := transportSaw.Load(); got != "inner" {
		t.Errorf("the request carried the context of %v, want the innermost observer's", got)
	}
	want := []string{"start outer link_token", "start inner link_token", "end inner", "end outer"}
	for i, w := range want {
		if order[i] != w {
			t.Fatalf("order = %q, want it to begin %q", order, want)
		}
	}
}
