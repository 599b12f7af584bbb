package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/store"
)

// RunReplicas opens n stores on one fresh database at once, as replicas (or
// processes) starting together would: every open succeeds, each migration
// is recorded once (migrations reports the rows of schema_migrations and
// their distinct versions), first-writer-wins holds across the stores, and
// workers on all of them never claim one outbox event twice.
func RunReplicas(t *testing.T, n int, open func() (*store.Store, error), migrations func(t *testing.T) (rows, distinct int)) {
	t.Helper()
	stores := make([]*store.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = open() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	if rows, distinct := migrations(t); rows == 0 || rows != distinct {
		t.Errorf("schema_migrations: %d rows for %d versions, want one row per version", rows, distinct)
	}

	const callers = 50
	mappings := make([]linking.UserMapping, callers)
	saveErrs := make([]error, callers)
	applyErrs := make([]error, callers)
	var applied atomic.Int32
	for i := range callers {
		wg.Go(func() {
			s := stores[i%n]
			mappings[i], saveErrs[i] = s.SaveUserMapping(ctx(t), linking.UserMapping{
				AppUserID: "app", JunctionUserID: fmt.Sprintf("jn-%d", i), ClientUserID: "c", CreatedAt: time.Now(),
			})
			ok, err := s.ApplyConnectionEvent(ctx(t), "evt", linking.ReportedConnection{
				JunctionUserID: "jn", Provider: "oura", Status: "connected", UpdatedAt: time.Now(),
			})
			applyErrs[i] = err
			if ok {
				applied.Add(1)
			}
		})
	}
	wg.Wait()
	for i := range callers {
		if saveErrs[i] != nil || applyErrs[i] != nil {
			t.Fatalf("caller %d: save: %v, apply: %v", i, saveErrs[i], applyErrs[i])
		}
		if mappings[i].JunctionUserID != mappings[0].JunctionUserID {
			t.Errorf("caller %d got %q, caller 0 got %q", i, mappings[i].JunctionUserID, mappings[0].JunctionUserID)
		}
	}
	if got := applied.Load(); got != 1 {
		t.Errorf("callers that applied the event: %d, want 1", got)
	}

	// Workers on every store drain one outbox: each event is leased once.
	const pending = 60
	var events []*linking.Event
	for range pending {
		events = append(events, event("app", "t", true, base))
	}
	record(t, stores[0], events...)
	claimAll(t, stores, pending)
}
