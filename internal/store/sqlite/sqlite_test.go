package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/store"
	"github.com/linkbff/linkbff/internal/store/sqlite"
	"github.com/linkbff/linkbff/internal/store/storetest"
)

func openTemp(t testing.TB) *store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "linkbff.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store { return openTemp(t) })
}

// Reads at once, more than database/sql's default of two idle connections:
// the read pool keeps every connection it opened instead of closing it after
// each use (and opening the file and preparing statements again).
func TestReadPoolKeepsItsConnections(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := s.UserMappingByAppUser(t.Context(), "nobody"); !linking.IsCode(err, linking.ENotFound) {
					t.Errorf("UserMappingByAppUser: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if st := s.ReaderStats(); st.MaxIdleClosed > 0 || st.OpenConnections < 2 {
		t.Errorf("read pool: %d connections open, %d closed for exceeding the idle limit; want them kept", st.OpenConnections, st.MaxIdleClosed)
	}
}

func TestInMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := sqlite.Open(t.Context(), ":memory:")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestFileURI(t *testing.T) {
	dsn := "file:" + filepath.ToSlash(filepath.Join(t.TempDir(), "uri.db")) + "?cache=private"
	s, err := sqlite.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open(%q): %v", dsn, err)
	}
	defer s.Close()
	if _, err := s.SaveUserMapping(t.Context(), linking.UserMapping{AppUserID: "a", JunctionUserID: "j", ClientUserID: "c"}); err != nil {
		t.Fatalf("SaveUserMapping: %v", err)
	}
	if _, err := s.UserMappingByAppUser(t.Context(), "a"); err != nil {
		t.Fatalf("UserMappingByAppUser: %v", err)
	}
}

// Several stores on one file stand in for several processes: migrations run
// once and first-writer-wins holds across them, without "database is locked".
func TestStoresSharingAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	storetest.RunReplicas(t, 5, func() (*store.Store, error) { return sqlite.Open(t.Context(), path) }, func(t *testing.T) (rows, distinct int) {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRow(`SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
			t.Fatalf("schema_migrations: %v", err)
		}
		return rows, distinct
	})
}

// The settings Open promises are on the file: WAL (persistent) and one row
// per migration version.
func TestFileSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.db")
	for range 2 { // reopening applies nothing twice
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		s.Close()
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode: %q (%v), want wal", mode, err)
	}
	var rows, distinct int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatalf("schema_migrations: %v", err)
	}
	if rows == 0 || rows != distinct {
		t.Errorf("schema_migrations: %d rows for %d versions, want one row per version", rows, distinct)
	}
}

func BenchmarkSaveUserMapping(b *testing.B) {
	s := openTemp(b)
	defer s.Close()
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if _, err := s.SaveUserMapping(ctx, linking.UserMapping{
			AppUserID: fmt.Sprintf("app-%d", i), JunctionUserID: fmt.Sprintf("jn-%d", i), ClientUserID: "c", CreatedAt: time.Now(),
		}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUserMappingByAppUser(b *testing.B) {
	s := openTemp(b)
	defer s.Close()
	ctx := context.Background()
	const users = 1000
	for i := range users {
		if _, err := s.SaveUserMapping(ctx, linking.UserMapping{
			AppUserID: fmt.Sprintf("app-%d", i), JunctionUserID: fmt.Sprintf("jn-%d", i), ClientUserID: "c", CreatedAt: time.Now(),
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := s.UserMappingByAppUser(ctx, fmt.Sprintf("app-%d", i%users)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
