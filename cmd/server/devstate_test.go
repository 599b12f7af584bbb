package main

import "testing"

func TestEmulatorStatePath(t *testing.T) {
	tests := []struct{ databaseURL, want string }{
		{"sqlite:linkbff.db", "linkbff.db.emulator.json"},
		{"sqlite:/data/linkbff.db", "/data/linkbff.db.emulator.json"},
		{"sqlite:file:dev.db?_pragma=busy_timeout(1000)", "dev.db.emulator.json"},
		{"sqlite:file:///var/lib/linkbff/x.db", "/var/lib/linkbff/x.db.emulator.json"},
		{"sqlite::memory:", ""},
		{"sqlite:file::memory:?cache=shared", ""},
		{"sqlite:file:shared?mode=memory&cache=shared", ""},
		{"sqlite:", ""},
		{"postgres://u@localhost/db", ""},
	}
	for _, tt := range tests {
		if got := emulatorStatePath(tt.databaseURL); got != tt.want {
			t.Errorf("emulatorStatePath(%q) = %q, want %q", tt.databaseURL, got, tt.want)
		}
	}
}
