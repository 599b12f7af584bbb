package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
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

// Replicas starting at once on a fresh database.
func TestConcurrentReplicas(t *testing.T) {
	url := freshSchema(t)
	storetest.RunReplicas(t, 5, func() (*store.Store, error) { return postgres.Open(t.Context(), url) }, func(t *testing.T) (rows, distinct int) {
		conn, err := pgx.Connect(t.Context(), url)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(context.Background())
		if err := conn.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
			t.Fatalf("read schema_migrations: %v", err)
		}
		return rows, distinct
	})
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

// withParam adds one runtime parameter to a postgres:// URL.
func withParam(t *testing.T, raw, key, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("not a URL: %v", err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// Connections killed under the pool (pg_terminate_backend, a failover) cost
// no request: each call is retried once on a new connection.
func TestKilledConnectionsAreRetried(t *testing.T) {
	appName := "linkbff_kill_" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	target := withParam(t, freshSchema(t), "application_name", appName)
	if !strings.HasPrefix(target, "postgres") {
		t.Skip("TEST_DATABASE_URL is not a URL")
	}
	s := open(t, target)
	defer s.Close()
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 8 { // open several pool connections
		wg.Go(func() { _, _ = s.UserMappingByAppUser(ctx, fmt.Sprintf("warm-%d", i)) })
	}
	wg.Wait()

	admin, err := pgx.Connect(ctx, baseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	var killed int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, appName).Scan(&killed); err != nil || killed == 0 {
		t.Fatalf("terminated %d backends: %v", killed, err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var left int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, appName).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d backends still alive", left)
		}
	}

	// Each call may meet a killed connection: the pool holds several.
	calls := []struct {
		name string
		call func() error
	}{
		{"read mapping", func() error { _, err := s.UserMappingByAppUser(ctx, "warm-0"); return err }},
		{"save mapping", func() error {
			_, err := s.SaveUserMapping(ctx, linking.UserMapping{AppUserID: "a", JunctionUserID: "j", ClientUserID: "c", CreatedAt: time.Now()})
			return err
		}},
		{"create session", func() error {
			return s.CreateLinkSession(ctx, linking.LinkSession{ID: "s1", AppUserID: "a", JunctionUserID: "j"})
		}},
		{"apply event", func() error {
			_, err := s.ApplyConnectionEvent(ctx, "e1", linking.ReportedConnection{JunctionUserID: "j", Provider: "oura", Status: "connected"})
			return err
		}},
		{"connections", func() error { _, err := s.ReportedConnections(ctx, "j"); return err }},
	}
	for _, c := range calls {
		if err := c.call(); err != nil && !linking.IsCode(err, linking.ENotFound) {
			t.Errorf("%s after the pool's connections were killed: %v", c.name, err)
		}
	}
}

// With the database out of reach every call fails as EUnavailable (503 with
// Retry-After for the app), never as an internal error.
func TestOutageIsUnavailable(t *testing.T) {
	schemaURL := freshSchema(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := url.Parse(schemaURL)
	if err != nil || pg.Host == "" {
		t.Skip("TEST_DATABASE_URL is not a URL")
	}
	upstream := pg.Host
	var conns sync.Map
	go func() { // a TCP relay to PostgreSQL that the test can pull the plug on
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			conns.Store(c, u)
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
	pg.Host = ln.Addr().String()
	s := open(t, pg.String())
	defer s.Close()
	if _, err := s.SaveUserMapping(t.Context(), linking.UserMapping{AppUserID: "a", JunctionUserID: "j", ClientUserID: "c"}); err != nil {
		t.Fatal(err)
	}
	ln.Close()
	conns.Range(func(c, u any) bool { c.(net.Conn).Close(); u.(net.Conn).Close(); return true })

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for name, call := range map[string]func() error{
		"read": func() error { _, err := s.UserMappingByAppUser(ctx, "a"); return err },
		"write": func() error {
			return s.CreateLinkSession(ctx, linking.LinkSession{ID: "s2", AppUserID: "a", JunctionUserID: "j"})
		},
		"ping": func() error { return s.Ping(ctx) },
	} {
		err := call()
		e, ok := linking.AsError(err)
		if !ok || e.Code != linking.EUnavailable || e.RetryAfter <= 0 {
			t.Errorf("%s with the database gone: %v, want unavailable with a Retry-After", name, err)
		}
	}
}
