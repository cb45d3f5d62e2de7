package serve

import (
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"
)

func TestLimited(t *testing.T) {
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	guarded := make(chan struct{}, 4)
	done := make(chan error)
	go func() {
		done <- Limited(l, 1, func(f func()) { guarded <- struct{}{}; f() },
			func(c net.Conn) { <-hold; c.Close() },
			func(c net.Conn) { io.WriteString(c, "busy\n") })
	}()
	first, _ := net.Dial("unix", l.Addr().String())
	defer first.Close()
	select {
	case <-guarded:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not run under the guard")
	}
	second, _ := net.Dial("unix", l.Addr().String())
	b, _ := io.ReadAll(second)
	if string(b) != "busy\n" {
		t.Errorf("a connection over the limit got %q", b)
	}
	close(hold)
	l.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Limited after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Limited did not end with its listener")
	}
}
