package main

import (
	"net/url"
	"strings"
)

// emulatorStatePath is where dev mode keeps the embedded emulator's users
// and connections: next to the SQLite file, so that a restarted server
// finds the Junction users its database maps to. Empty (nothing kept) for
// PostgreSQL and in-memory SQLite, whose data does not outlive the process
// or lives elsewhere.
func emulatorStatePath(databaseURL string) string {
	dsn, ok := strings.CutPrefix(databaseURL, "sqlite:")
	if !ok {
		return ""
	}
	path, query, _ := strings.Cut(dsn, "?")
	if rest, isURI := strings.CutPrefix(path, "file:"); isURI {
		path = rest
		if strings.HasPrefix(rest, "//") {
			u, err := url.Parse("file:" + rest)
			if err != nil {
				return ""
			}
			path = u.Path
		}
	}
	params, _ := url.ParseQuery(query)
	if path == "" || strings.Contains(path, ":memory:") || params.Get("mode") == "memory" {
		return ""
	}
	return path + ".emulator.json"
}
