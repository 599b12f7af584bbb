package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

func TestPoolSizeFollowsTheURL(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want int
	}{
		{"postgres://db.example/linkbff", defaultPoolSize},
		{"postgres://db.example/linkbff?sslmode=require", defaultPoolSize},
		{"postgres://db.example/linkbff?pool_max_conns=3", 3},
		{"host=db.example dbname=linkbff pool_max_conns=40", 40},
	} {
		cfg, err := pgxpool.ParseConfig(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := poolSize(tt.url, cfg.MaxConns); got != tt.want {
			t.Errorf("%s: pool of %d, want %d", tt.url, got, tt.want)
		}
	}
}
