package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresURL is TEST_DATABASE_URL; the test is skipped, loudly, without it.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		t.Skip("TEST_DATABASE_URL not set: PostgreSQL tests SKIPPED " +
			"(e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable; .ci/run sets it)")
	}
	if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		t.Fatalf("TEST_DATABASE_URL must be a postgres:// URL")
	}
	return u
}

// PostgresSchema creates an empty schema in TEST_DATABASE_URL's database,
// drops it when the test ends, and returns a URL whose connections use it
// (search_path) and are named after it (application_name), so a test can
// find them in pg_stat_activity.
func PostgresSchema(t testing.TB) (dbURL, name string) {
	t.Helper()
	base := PostgresURL(t)
	name = "linkbff_test_" + randomSuffix()
	adminExec(t, base, "CREATE SCHEMA "+name)
	t.Cleanup(func() { adminExec(t, base, "DROP SCHEMA "+name+" CASCADE") })
	return withParams(t, base, map[string]string{"search_path": name, "application_name": name}), name
}

// PostgresDatabase creates a database next to TEST_DATABASE_URL's, drops it
// when the test ends, and returns its URL.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	name := "linkbff_test_" + randomSuffix()
	adminExec(t, base, "CREATE DATABASE "+name)
	t.Cleanup(func() { adminExec(t, base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}

// TerminatePostgresBackends ends every connection named application (see
// PostgresSchema), as a failover or an administrator would, waits until
// those are gone, and returns how many there were. New connections the
// application opens meanwhile live on. Safe to call from any goroutine.
func TerminatePostgresBackends(t testing.TB, application string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, PostgresURL(t))
	if err != nil {
		t.Errorf("connect to TEST_DATABASE_URL: %v", err)
		return 0
	}
	defer conn.Close(context.Background())
	var pids []int32
	if err := conn.QueryRow(ctx, `SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity WHERE application_name = $1`, application).Scan(&pids); err != nil {
		t.Errorf("pg_stat_activity: %v", err)
		return 0
	}
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid`, pids); err != nil {
		t.Errorf("pg_terminate_backend: %v", err)
		return 0
	}
	for {
		var left int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)`, pids).Scan(&left); err != nil {
			t.Errorf("pg_stat_activity: %v", err)
			return len(pids)
		}
		if left == 0 {
			return len(pids)
		}
		select {
		case <-ctx.Done():
			t.Errorf("%d terminated backends of %s still alive", left, application)
			return len(pids)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func adminExec(t testing.TB, dbURL, statement string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Errorf("connect to TEST_DATABASE_URL: %v", err)
		return
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, statement); err != nil {
		t.Errorf("%s: %v", statement, err)
	}
}

func withParams(t testing.TB, raw string, params map[string]string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL is not a URL")
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
