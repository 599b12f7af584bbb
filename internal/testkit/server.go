package testkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds a start or a shutdown; generous because CI machines
// are slow, and only reached when something is broken.
const startTimeout = 30 * time.Second

// RunFunc is the signature of a command's run (package main's, which
// tests pass in since they cannot import it).
type RunFunc func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Server is linkbff or the emulator, started in-process or as a binary,
// with its log captured. It stops when the test ends, or at Stop.
type Server struct {
	*Client
	URL  string   // its public URL, as it logged it
	Logs *LogSink // stdout and stderr

	stop     func() error
	stopOnce sync.Once
	proc     *os.Process // nil in-process
	killed   atomic.Bool
}

// LinkbffEnv is env on top of the test defaults: dev mode, SQLite in a
// temp dir, any free port, debug logs.
func LinkbffEnv(t testing.TB, env map[string]string) map[string]string {
	vars := map[string]string{
		"LISTEN_ADDR":  "127.0.0.1:0",
		"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "linkbff.db"),
		"LOG_LEVEL":    "debug",
	}
	for k, v := range env {
		vars[k] = v
	}
	return vars
}

// Start runs linkbff's run in-process with LinkbffEnv(env), as a user
// would start it, and waits until it listens. Its client checks every
// exchange against the contract UseContract registered, if any.
func Start(t testing.TB, run RunFunc, env map[string]string) *Server {
	t.Helper()
	s := StartRun(t, run, []string{"server"}, LinkbffEnv(t, env), LinkbffListening)
	checkContract(s)
	return s
}

// StartRun runs a command's run in-process with exactly env and waits
// for the log line whose message is listening.
func StartRun(t testing.TB, run RunFunc, args []string, env map[string]string, listening string) *Server {
	t.Helper()
	logs := &LogSink{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, logs, logs) }()
	s := &Server{Logs: logs, stop: func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(startTimeout):
			return errors.New("did not shut down")
		}
	}}
	s.awaitListening(t, listening, done, cancel)
	return s
}

// awaitListening sets the server's URL from its listening line, failing
// the test when exited reports first or nothing comes.
func (s *Server) awaitListening(t testing.TB, listening string, exited <-chan error, abort func()) {
	t.Helper()
	line := s.Logs.Await(func(line string) bool {
		_, ok := ListeningURL(line, listening)
		return ok
	})
	select {
	case l := <-line:
		s.URL, _ = ListeningURL(l, listening)
	case err := <-exited:
		abort()
		t.Fatalf("exited before listening: %v\n%s", err, s.Logs)
	case <-time.After(startTimeout):
		abort()
		t.Fatalf("did not start\n%s", s.Logs)
	}
	s.Client = NewClient(t, s.URL)
	t.Cleanup(s.Stop)
}

// Stop shuts the server down and fails the test unless it stops cleanly.
// It is safe to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		// Connections the client dialed but never used look busy to
		// Shutdown for seconds; a client hanging up lets it finish at once.
		s.HTTP.CloseIdleConnections()
		if err := s.stop(); err != nil && !s.killed.Load() {
			s.T.Errorf("%s: %v", s.URL, err)
		}
	})
}

// StartBinary runs bin with args and exactly env (plus PATH, HOME and
// TMPDIR) and waits for the log line whose message is listening.
func StartBinary(t testing.TB, bin string, args []string, env map[string]string, listening string) *Server {
	t.Helper()
	logs := &LogSink{}
	cmd := exec.Command(bin, args...)
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s := &Server{Logs: logs, proc: cmd.Process, stop: func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(startTimeout):
			_ = cmd.Process.Kill()
			return fmt.Errorf("%s did not shut down", filepath.Base(bin))
		}
	}}
	s.awaitListening(t, listening, exited, func() { _ = cmd.Process.Kill() })
	return s
}

// StartLinkbffBinary runs the linkbff binary with LinkbffEnv(env).
func StartLinkbffBinary(t testing.TB, env map[string]string) *Server {
	t.Helper()
	s := StartBinary(t, LinkbffBin(t), nil, LinkbffEnv(t, env), LinkbffListening)
	checkContract(s)
	return s
}

// StartEmulatorBinary runs the Junction emulator binary on a free port
// with apiKey and any further flags.
func StartEmulatorBinary(t testing.TB, apiKey string, args ...string) *Server {
	t.Helper()
	args = append([]string{"-addr", "127.0.0.1:0"}, args...)
	return StartBinary(t, EmulatorBin(t), args, map[string]string{"EMULATOR_API_KEY": apiKey}, EmulatorListening)
}

// PID is a binary's process id (0 in-process).
func (s *Server) PID() int {
	if s.proc == nil {
		return 0
	}
	return s.proc.Pid
}

// RSS is a process's resident memory, from /proc (Linux).
func RSS(pid int) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
}

// Kill ends a binary at once, as a crash would; Stop then expects no
// clean exit.
func (s *Server) Kill() {
	if s.proc == nil {
		s.T.Fatal("Kill needs a server started as a binary")
	}
	s.killed.Store(true)
	_ = s.proc.Signal(syscall.SIGKILL)
}
