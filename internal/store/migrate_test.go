package store

import (
	"testing"
	"testing/fstest"
)

func TestLoadMigrationsOrdersAndValidates(t *testing.T) {
	got, err := loadMigrations(fstest.MapFS{
		"migrations/0002_more.sql": {Data: []byte("B")},
		"migrations/0001_init.sql": {Data: []byte("A")},
		"migrations/0010_late.sql": {Data: []byte("C")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].version != 1 || got[1].version != 2 || got[2].version != 10 || got[0].sql != "A" {
		t.Fatalf("loadMigrations = %+v", got)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"no version":     {"migrations/init.sql": {}},
		"zero version":   {"migrations/0000_x.sql": {}},
		"not SQL":        {"migrations/0001_x.txt": {}},
		"shared version": {"migrations/0001_a.sql": {}, "migrations/1_b.sql": {}},
	} {
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRebindNumbersPlaceholders(t *testing.T) {
	q := `SELECT a FROM t WHERE b = ? AND c IN (?, ?)`
	if got := rebind(Dialect{}, q); got != q {
		t.Errorf("rebind without numbered placeholders changed the query: %s", got)
	}
	if got := rebind(Dialect{NumberedPlaceholders: true}, q); got != `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)` {
		t.Errorf("rebind = %s", got)
	}
}
