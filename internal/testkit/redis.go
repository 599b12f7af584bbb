package testkit

import (
	"bufio"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Redis is a redis-server of the test's own on a free port, which the
// test may pause (SIGSTOP: a Redis that hangs), resume and stop. It is
// killed when the test ends.
type Redis struct {
	URL  string
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRedis starts redis-server without persistence, or skips the test
// loudly when redis-server is not installed (.ci/run installs it).
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not on PATH: tests that pause their own Redis SKIPPED (.ci/run installs it)")
	}
	addr := FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	logs := &LogSink{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &Redis{URL: "redis://" + addr + "/0", Addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.done) }()
	t.Cleanup(r.Stop)
	deadline := time.Now().Add(startTimeout)
	for r.ping() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer\n%s", addr, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

// ping sends PING and expects PONG.
func (r *Redis) ping() error {
	conn, err := net.DialTimeout("tcp", r.Addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return &net.OpError{Op: "ping", Net: "tcp", Err: syscall.EPROTO}
	}
	return nil
}

// Pause freezes Redis: connections stay open and nothing answers.
func (r *Redis) Pause() { _ = r.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume lets a paused Redis answer again.
func (r *Redis) Resume() { _ = r.cmd.Process.Signal(syscall.SIGCONT) }

// Stop kills Redis (paused or not) and waits for it; connections are then
// refused. Safe to call more than once.
func (r *Redis) Stop() {
	_ = r.cmd.Process.Kill()
	<-r.done
}
