package testkit

import (
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// FaultKind is what a FaultProxy does to a request it picks.
type FaultKind int

const (
	// FaultStatus answers Status (with Retry-After when set) without
	// forwarding.
	FaultStatus FaultKind = iota
	// FaultReset drops the connection before forwarding: a connection reset.
	FaultReset
	// FaultResetAfter forwards the request, then drops the connection
	// instead of answering: the upstream acted, the caller never heard.
	FaultResetAfter
	// FaultDelay forwards the request after Delay.
	FaultDelay
	// FaultGarbage forwards the request, then answers 200 with a body that
	// is not JSON.
	FaultGarbage
)

func (k FaultKind) String() string {
	return [...]string{"status", "reset", "reset after upstream", "delay", "garbage"}[k]
}

// Fault is one kind of trouble injected into a share of the requests.
type Fault struct {
	Kind FaultKind
	// Rate is the share of matching requests it hits, 0 to 1.
	Rate float64
	// Match is a "METHOD /path" prefix; empty matches every request.
	Match      string
	Status     int    // FaultStatus
	RetryAfter string // FaultStatus, optional
	Delay      time.Duration
}

// FaultProxy stands between a service and its upstream (linkbff and
// Junction's emulator) and injects faults into a share of the requests.
type FaultProxy struct {
	URL string

	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	rng   *rand.Rand
	plan  []Fault
	// counts
	requests int
	injected map[FaultKind]int
}

// NewFaultProxy starts a proxy to target that stops with the test. It
// passes everything through until Inject says otherwise.
func NewFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{
		proxy:    httputil.NewSingleHostReverseProxy(u),
		injected: map[FaultKind]int{},
	}
	// A fixed seed would make which call meets a run of faults a matter of
	// scheduling, the same unlucky run every time on one machine and never
	// on another; a fresh one makes the draws the odds the tests assume.
	// The seed is logged to replay a run's draws.
	seed := rand.Uint64()
	t.Logf("fault proxy seed %d", seed)
	p.rng = rand.New(rand.NewPCG(seed, 0))
	p.proxy.ErrorLog = log.New(io.Discard, "", 0) // a caller that hung up is no news here
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Inject replaces the faults; with none the proxy passes everything
// through. The first fault that matches a request and wins its draw hits.
func (p *FaultProxy) Inject(faults ...Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.plan = faults
}

// Requests is how many requests reached the proxy.
func (p *FaultProxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// Injected is how many requests got a fault of kind.
func (p *FaultProxy) Injected(kind FaultKind) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.injected[kind]
}

// pick draws the fault for r, if any.
func (p *FaultProxy) pick(r *http.Request) (Fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	for _, f := range p.plan {
		if !strings.HasPrefix(r.Method+" "+r.URL.Path, f.Match) || p.rng.Float64() >= f.Rate {
			continue
		}
		p.injected[f.Kind]++
		return f, true
	}
	return Fault{}, false
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	f, ok := p.pick(r)
	if !ok {
		p.proxy.ServeHTTP(w, r)
		return
	}
	switch f.Kind {
	case FaultStatus:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(`{"detail":"injected by the fault proxy"}`))
	case FaultReset:
		reset(w)
	case FaultResetAfter:
		p.proxy.ServeHTTP(httptest.NewRecorder(), r)
		reset(w)
	case FaultDelay:
		select {
		case <-time.After(f.Delay):
			p.proxy.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	case FaultGarbage:
		p.proxy.ServeHTTP(httptest.NewRecorder(), r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"link_token": "unterminated`))
	}
}

// reset closes the caller's connection with a TCP RST.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
