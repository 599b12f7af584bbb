package postgres_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/store"
	"github.com/linkbff/linkbff/internal/store/postgres"
	"github.com/linkbff/linkbff/internal/store/storetest"
	"github.com/linkbff/linkbff/internal/testkit"
)

// freshSchema is an empty schema for one test.
func freshSchema(t *testing.T) string {
	u, _ := testkit.PostgresSchema(t)
	return u
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
	testkit.PostgresURL(t)
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

// Connections killed under the pool (pg_terminate_backend, a failover) cost
// no request: each call is retried once on a new connection.
func TestKilledConnectionsAreRetried(t *testing.T) {
	target, application := testkit.PostgresSchema(t)
	s := open(t, target)
	defer s.Close()
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 8 { // open several pool connections
		wg.Go(func() { _, _ = s.UserMappingByAppUser(ctx, fmt.Sprintf("warm-%d", i)) })
	}
	wg.Wait()
	if killed := testkit.TerminatePostgresBackends(t, application); killed == 0 {
		t.Fatal("no backend to terminate")
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
