package testkit

import (
	"net"
	"testing"
	"time"
)

// Eventually polls cond until it holds, failing the test after 15 s; the
// bound only stops a hung test, it asserts nothing about timing.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FreeAddr picks a free loopback port, for servers whose PUBLIC_URL must
// be known before they start.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
