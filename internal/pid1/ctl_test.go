package pid1

import (
	"bufio"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReadRequest: a request is one line of at most max bytes, sent within the
// timeout.
func TestReadRequest(t *testing.T) {
	for _, c := range []struct {
		name, send string
		close      bool // the client closes after sending
		want, err  string
	}{
		{"a line", "status\n", false, "status\n", ""},
		{"max bytes", strings.Repeat("x", 63) + "\n", false, strings.Repeat("x", 63) + "\n", ""},
		{"no newline, then EOF", "status", true, "status", ""},
		{"too long", strings.Repeat("x", 64) + "\n", false, "", "request longer than 64 bytes"},
		{"too long, no newline", strings.Repeat("x", 5000), false, "", "request longer than 64 bytes"},
		{"nothing sent", "", false, "", "no request within 200ms"},
		{"half a line", "sta", false, "", "no request within 200ms"},
		{"closed at once", "", true, "", "EOF"},
	} {
		srv, cli := net.Pipe()
		go func() {
			io.WriteString(cli, c.send)
			if c.close {
				cli.Close()
			}
		}()
		start := time.Now()
		got, err := readRequest(srv, 64, 200*time.Millisecond)
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s: took %v", c.name, took)
		}
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%s: %q, %v; want error %q", c.name, got, err, c.err)
		}
		srv.Close()
		cli.Close()
	}
}

// TestCtlRefuses: ctl answers an oversized or late request with an error that
// names the limit, and closes the connection.
func TestCtlRefuses(t *testing.T) {
	for _, c := range []struct {
		name, send, want string
	}{
		{"oversized", strings.Repeat("status ", 1000) + "\n", "error: request longer than 4096 bytes"},
		{"silent", "", "error: no request within 5s"},
	} {
		srv, cli := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			(&Init{}).ctl(srv)
		}()
		go io.WriteString(cli, c.send)
		cli.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(bufio.NewReader(cli))
		if got := strings.TrimSpace(string(b)); got != c.want {
			t.Errorf("%s: reply %q, want %q", c.name, got, c.want)
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s: ctl did not return", c.name)
		}
		cli.Close()
	}
}

// TestServeConnsBusy: at most max requests are served at once; one more gets
// "busy" at once, and a slot that frees is used again.
func TestServeConnsBusy(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "ctl")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var mu sync.Mutex
	served := 0
	go serveConns(l, 3, func(c net.Conn) {
		defer c.Close()
		mu.Lock()
		served++
		mu.Unlock()
		<-release
		io.WriteString(c, "ok\n")
	})
	t.Cleanup(func() { l.Close() })
	dial := func() net.Conn {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		return c
	}
	var held []net.Conn
	for i := 0; i < 3; i++ {
		held = append(held, dial())
	}
	// Until the three are being served.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := served
		mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 3 connections served", n)
		}
	}
	extra := dial()
	line, err := bufio.NewReader(extra).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "error: busy: 3 requests") {
		t.Errorf("a fourth connection: %q, %v; want busy", line, err)
	}
	extra.Close()
	close(release)
	for _, c := range held {
		if line, err := bufio.NewReader(c).ReadString('\n'); line != "ok\n" {
			t.Errorf("a held connection: %q, %v", line, err)
		}
		c.Close()
	}
	// The slots are free again.
	again := dial()
	if line, err := bufio.NewReader(again).ReadString('\n'); line != "ok\n" {
		t.Errorf("after the others: %q, %v", line, err)
	}
	again.Close()
}
