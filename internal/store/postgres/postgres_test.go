package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/store"
	"github.com/linkbff/linkbff/internal/store/postgres"
	"github.com/linkbff/linkbff/internal/store/storetest"
)

// baseURL returns TEST_DATABASE_URL or skips loudly.
func baseURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		t.Skip("TEST_DATABASE_URL not set: PostgreSQL store tests SKIPPED " +
			"(e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return u
}

// freshSchema creates an empty schema, drops it when the test ends, and
// returns a URL whose connections use it through search_path.
func freshSchema(t *testing.T) string {
	t.Helper()
	base := baseURL(t)
	suffix := make([]byte, 8)
	rand.Read(suffix)
	schema := "linkbff_test_" + hex.EncodeToString(suffix)

	admin, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("connect for cleanup: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	return withSearchPath(t, base, schema)
}

func withSearchPath(t *testing.T, base, schema string) string {
	t.Helper()
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema // key=value form
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL is not a valid URL")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t *testing.T, url string) *store.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestStore(t *testing.T) {
	baseURL(t)
	storetest.Run(t, func(t *testing.T) *store.Store { return open(t, freshSchema(t)) })
}

// Replicas starting at once on a fresh database: every Open succeeds, each
// migration is applied once, and the stores agree under contention.
func TestConcurrentReplicas(t *testing.T) {
	url := freshSchema(t)
	const replicas = 5
	stores := make([]*store.Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(t.Context(), url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}

	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	var rows, distinct int
	if err := conn.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if rows == 0 || rows != distinct {
		t.Errorf("schema_migrations: %d rows for %d versions, want one row per version", rows, distinct)
	}

	const callers = 50
	mappings := make([]linking.UserMapping, callers)
	saveErrs := make([]error, callers)
	var applied atomic.Int32
	applyErrs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			s := stores[i%replicas]
			mappings[i], saveErrs[i] = s.SaveUserMapping(t.Context(), linking.UserMapping{
				AppUserID: "app", JunctionUserID: fmt.Sprintf("jn-%d", i), ClientUserID: "c", CreatedAt: time.Now(),
			})
			ok, err := s.ApplyConnectionEvent(t.Context(), "evt", linking.ReportedConnection{
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
}

func TestInvalidURLHidesIt(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://user:s3cret@host:notaport/db")
	if err == nil {
		t.Fatal("Open of an invalid URL: no error")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error reveals the password: %v", err)
	}
}
