// Package storetest is the behavioural test suite every *store.Store
// implementation must pass.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
	"github.com/linkbff/linkbff/internal/store"
)

// Run runs the suite. open must return a fresh, empty store for each call;
// Run closes every store it opens (before open's own t.Cleanup runs).
// Subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) *store.Store) {
	t.Helper()
	suites := []struct {
		name  string
		tests []namedTest
	}{
		{"UserMapping", userMappingTests},
		{"LinkSession", linkSessionTests},
		{"Connection", connectionTests},
		{"Maintenance", maintenanceTests},
		{"Event", eventTests},
	}
	for _, suite := range suites {
		t.Run(suite.name, func(t *testing.T) {
			for _, test := range suite.tests {
				t.Run(test.name, func(t *testing.T) {
					t.Parallel()
					s := open(t)
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("Close: %v", err)
						}
					})
					test.run(t, s)
				})
			}
		})
	}
}

type namedTest struct {
	name string
	run  func(*testing.T, *store.Store)
}

// base is a fixed instant with millisecond precision, in a non-UTC zone so
// the suite sees stores return UTC.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.FixedZone("UTC+5:30", 5*3600+1800))

func noErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

func wantCode(t *testing.T, err error, code linking.ErrorCode, what string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want %s", what, code)
	}
	if _, ok := linking.AsError(err); !ok {
		t.Fatalf("%s: got %T %v, want *linking.Error", what, err, err)
	}
	if got := linking.ErrorCodeOf(err); got != code {
		t.Fatalf("%s: got code %s (%v), want %s", what, got, err, code)
	}
}

// sameInstant checks got is in UTC and equals want.
func sameInstant(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("%s: location %v, want UTC", what, got.Location())
	}
	if !got.Equal(want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func sameInstantPtr(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s: got %v, want %v", what, got, want)
	default:
		sameInstant(t, what, *got, *want)
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }
