// Package scripts holds the build scripts' tests; it has no code of its own.
package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// dockerContext reads .dockerignore as Docker does.
func dockerContext(t *testing.T) *patternmatcher.PatternMatcher {
	t.Helper()
	f, err := os.Open("../.dockerignore")
	if err != nil {
		t.Fatalf("no .dockerignore: the whole directory (.git, deploy/.env, databases, node_modules) would be sent to the build: %v", err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return pm
}

func excluded(t *testing.T, pm *patternmatcher.PatternMatcher, path string) bool {
	t.Helper()
	ex, err := pm.MatchesOrParentMatches(path)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// Secrets, history, databases and Node's output stay out of the image's
// build context.
func TestDockerContextLeavesOutSecretsAndBulk(t *testing.T) {
	pm := dockerContext(t)
	for _, path := range []string{
		".git/config", "deploy/.env", "deploy/kubernetes/secret.yaml", ".env", "cmd/server/.env",
		"linkbff.db", "data/linkbff.db-wal", "cmd/server/linkbff.db-shm",
		"web/examples/react/node_modules/react/index.js", "web/examples/react/dist/index.html",
		".ci/artifacts/browser.png", ".ci/bin/staticcheck", "server",
	} {
		if !excluded(t, pm, path) {
			t.Errorf("%s would be sent to docker build", path)
		}
	}
	for _, path := range []string{"go.mod", "go.sum", "scripts/build-static.sh", "cmd/server/main.go", "web/static/index.html", "internal/emulator/templates/layout.html"} {
		if excluded(t, pm, path) {
			t.Errorf("%s, which the build needs, is left out of the context", path)
		}
	}
}

// The Dockerfile's build step (scripts/build-static.sh) works on the
// context .dockerignore leaves: every tracked file it does not exclude.
func TestStaticBuildFromDockerContext(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries")
	}
	pm := dockerContext(t)
	out, err := exec.Command("git", "-C", "..", "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a Git checkout (%v): the context cannot be listed", err)
	}
	ctx := t.TempDir()
	for _, path := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if excluded(t, pm, path) {
			continue
		}
		data, err := os.ReadFile(filepath.Join("..", path))
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(ctx, path)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.Command("sh", "scripts/build-static.sh", filepath.Join(ctx, "out"))
	build.Dir = ctx
	var log bytes.Buffer
	build.Stdout, build.Stderr = &log, &log
	if err := build.Run(); err != nil {
		t.Fatalf("scripts/build-static.sh in the Docker context: %v\n%s", err, log.String())
	}
	for _, bin := range []string{"linkbff", "junction-emulator"} {
		if _, err := os.Stat(filepath.Join(ctx, "out", bin)); err != nil {
			t.Errorf("%s not built: %v", bin, err)
		}
	}
}
