package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// LinkbffBin is the linkbff binary: $LINKBFF_BIN when set (.ci/run builds
// it as the Dockerfile does), else built once per test binary.
func LinkbffBin(t testing.TB) string {
	t.Helper()
	return binary(t, "LINKBFF_BIN", "github.com/linkbff/linkbff/cmd/server", "linkbff")
}

// EmulatorBin is the Junction emulator binary: $EMULATOR_BIN when set,
// else built once per test binary.
func EmulatorBin(t testing.TB) string {
	t.Helper()
	return binary(t, "EMULATOR_BIN", "github.com/linkbff/linkbff/cmd/junction-emulator", "junction-emulator")
}

type build struct {
	once sync.Once
	path string
	err  error
}

var builds = struct {
	mu    sync.Mutex
	dir   string
	byPkg map[string]*build
}{byPkg: map[string]*build{}}

func binary(t testing.TB, envVar, pkg, name string) string {
	t.Helper()
	if path := os.Getenv(envVar); path != "" {
		return path
	}
	builds.mu.Lock()
	b, ok := builds.byPkg[pkg]
	if !ok {
		b = &build{}
		builds.byPkg[pkg] = b
	}
	builds.mu.Unlock()
	b.once.Do(func() { b.path, b.err = goBuild(pkg, name) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func goBuild(pkg, name string) (string, error) {
	builds.mu.Lock()
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "linkbff-testkit-")
		if err != nil {
			builds.mu.Unlock()
			return "", err
		}
		builds.dir = dir
	}
	path := filepath.Join(builds.dir, name)
	builds.mu.Unlock()
	if out, err := exec.Command("go", "build", "-o", path, pkg).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return path, nil
}

// Main runs a package's tests and then removes the binaries they built;
// call it from TestMain in packages that start binaries.
func Main(m *testing.M) {
	code := m.Run()
	builds.mu.Lock()
	if builds.dir != "" {
		_ = os.RemoveAll(builds.dir)
	}
	builds.mu.Unlock()
	os.Exit(code)
}
