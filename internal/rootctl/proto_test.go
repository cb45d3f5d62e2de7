package rootctl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHandler records what it is asked and answers as told.
type fakeHandler struct {
	mu       sync.Mutex
	calls    []string
	status   string
	stopErr  error
	startErr error
	vars     map[string]string
	hold     chan struct{} // when set, Status waits for it to close
	held     chan struct{} // when set, Status sends on it first
}

func (h *fakeHandler) record(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, s)
}

func (h *fakeHandler) Calls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...)
}

func (h *fakeHandler) Status() string {
	h.record("status")
	if h.held != nil {
		h.held <- struct{}{}
	}
	if h.hold != nil {
		<-h.hold
	}
	return h.status
}

func (h *fakeHandler) Stop() error {
	h.record("stop")
	return h.stopErr
}

func (h *fakeHandler) Start(vars map[string]string) (string, error) {
	h.record("start")
	h.mu.Lock()
	h.vars = vars
	h.mu.Unlock()
	if h.startErr != nil {
		return "", h.startErr
	}
	return "started from disk /dev/vda1, pid 42", nil
}

// exchange sends send on one end of a pipe served by s and returns the reply.
func exchange(t *testing.T, s *Server, send string) string {
	t.Helper()
	srv, cli := net.Pipe()
	defer cli.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ServeConn(srv)
	}()
	go io.WriteString(cli, send)
	cli.SetReadDeadline(time.Now().Add(20 * time.Second))
	b, _ := io.ReadAll(cli)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Errorf("ServeConn(%q) did not return", send)
	}
	return string(b)
}

// TestReadRequest: a request is one line of at most max bytes, sent within the
// timeout.
func TestReadRequest(t *testing.T) {
	t.Parallel()
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
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, cli := net.Pipe()
			defer srv.Close()
			defer cli.Close()
			go func() {
				io.WriteString(cli, c.send)
				if c.close {
					cli.Close()
				}
			}()
			start := time.Now()
			got, err := ReadRequest(srv, 64, 200*time.Millisecond)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v", took)
			}
			switch {
			case c.err == "" && (err != nil || got != c.want):
				t.Errorf("%q, %v; want %q", got, err, c.want)
			case c.err != "" && (err == nil || err.Error() != c.err):
				t.Errorf("%q, %v; want error %q", got, err, c.err)
			}
		})
	}
}

func TestParseRequest(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		line string
		want Request
		err  string
	}{
		{"status\n", Request{Op: "status", Vars: map[string]string{}}, ""},
		{"  stop  ", Request{Op: "stop", Vars: map[string]string{}}, ""},
		{"start venti=tcp!h!564 init=/bin/sh\n", Request{Op: "start", Vars: map[string]string{"venti": "tcp!h!564", "init": "/bin/sh"}}, ""},
		{"restart root=/dev/vdb my.var=", Request{Op: "restart", Vars: map[string]string{"root": "/dev/vdb", "my.var": ""}}, ""},
		{"frob", Request{Op: "frob", Vars: map[string]string{}}, ""},
		{"\n", Request{}, "empty request"},
		{"", Request{}, "empty request"},
		{"start venti", Request{}, `"venti" is not NAME=VALUE`},
		{"start =x", Request{}, `"=x" is not NAME=VALUE`},
		{"start venti=udp!h!1", Request{}, `venti: "udp!h!1": network "udp" is not supported; use tcp`},
		{"stop venti=tcp!h!1", Request{}, "stop takes no variables"},
		{"status init=/bin/sh", Request{}, "status takes no variables"},
		{"frob a=b", Request{}, "frob takes no variables"},
	} {
		got, err := ParseRequest(c.line)
		switch {
		case c.err == "" && (err != nil || !reflect.DeepEqual(got, c.want)):
			t.Errorf("ParseRequest(%q) = %+v, %v; want %+v", c.line, got, err, c.want)
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("ParseRequest(%q) = %+v, %v; want error %q", c.line, got, err, c.err)
		}
	}
}

func TestWriteReadReply(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text  string
		err   error
		wire  string
		lines []string
	}{
		{"", nil, "ok\n", nil},
		{"state: running\npid: 7", nil, "state: running\npid: 7\nok\n", []string{"state: running", "pid: 7"}},
		{"a\n", nil, "a\nok\n", []string{"a"}},
		{"", errors.New("no root to stop"), "error: no root to stop\n", nil},
		{"partial", errors.New("bad"), "partial\nerror: bad\n", []string{"partial"}},
	} {
		var b strings.Builder
		if err := WriteReply(&b, c.text, c.err); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.wire {
			t.Errorf("WriteReply(%q, %v) wrote %q, want %q", c.text, c.err, b.String(), c.wire)
		}
		var lines []string
		err := ReadReply(strings.NewReader(b.String()), func(l string) { lines = append(lines, l) })
		if !reflect.DeepEqual(lines, c.lines) {
			t.Errorf("ReadReply(%q) lines %q, want %q", c.wire, lines, c.lines)
		}
		var pe *Error
		switch {
		case c.err == nil && err != nil:
			t.Errorf("ReadReply(%q) = %v, want nil", c.wire, err)
		case c.err != nil && (!errors.As(err, &pe) || pe.Msg != c.err.Error()):
			t.Errorf("ReadReply(%q) = %v, want *Error %q", c.wire, err, c.err)
		}
	}
	if err := ReadReply(strings.NewReader("half a reply\n"), func(string) {}); err != ErrNoVerdict {
		t.Errorf("ReadReply without a verdict = %v, want ErrNoVerdict", err)
	}
}

// TestServeConn: each request reaches the handler as it should, and the reply
// is what docs/commands.md and docs/root.md say.
func TestServeConn(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, send string
		h          *fakeHandler
		want       string
		calls      []string
		vars       map[string]string
	}{
		{name: "status", send: "status\n", h: &fakeHandler{status: "state: running\npid: 7"},
			want: "state: running\npid: 7\nok\n", calls: []string{"status"}},
		{name: "stop", send: "stop\n", want: "ok\n", calls: []string{"stop"}},
		{name: "stop fails", send: "stop\n", h: &fakeHandler{stopErr: errors.New("no root system is running")},
			want: "error: no root system is running\n", calls: []string{"stop"}},
		{name: "start", send: "start venti=tcp!h!564\n", want: "started from disk /dev/vda1, pid 42\nok\n",
			calls: []string{"start"}, vars: map[string]string{"venti": "tcp!h!564"}},
		{name: "start fails", send: "start\n", h: &fakeHandler{startErr: errors.New("no root: root= and venti= are empty")},
			want: "error: no root: root= and venti= are empty\n", calls: []string{"start"}, vars: map[string]string{}},
		{name: "restart stops, then starts", send: "restart init=/bin/sh\n", want: "started from disk /dev/vda1, pid 42\nok\n",
			calls: []string{"stop", "start"}, vars: map[string]string{"init": "/bin/sh"}},
		{name: "restart whose stop fails", send: "restart\n", h: &fakeHandler{stopErr: errors.New("stuck")},
			want: "error: stuck\n", calls: []string{"stop"}},
		{name: "unknown", send: "frob\n", want: "error: unknown request \"frob\"; want status, start, stop or restart\n"},
		{name: "empty", send: "\n", want: "error: empty request\n"},
		{name: "bad variable", send: "start venti=udp!h!1\n", want: "error: venti: \"udp!h!1\": network \"udp\" is not supported; use tcp\n"},
		{name: "not NAME=VALUE", send: "start venti\n", want: "error: \"venti\" is not NAME=VALUE\n"},
		{name: "variables to stop", send: "stop init=/bin/sh\n", want: "error: stop takes no variables\n"},
		{name: "oversized", send: strings.Repeat("status ", 1000) + "\n", want: "error: request longer than 4096 bytes\n"},
		{name: "4096 bytes", send: "status" + strings.Repeat(" ", 4089) + "\n", h: &fakeHandler{status: "s"}, want: "s\nok\n", calls: []string{"status"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := c.h
			if h == nil {
				h = &fakeHandler{}
			}
			got := exchange(t, &Server{Handler: h}, c.send)
			if got != c.want {
				t.Errorf("reply %q, want %q", got, c.want)
			}
			if calls := h.Calls(); !reflect.DeepEqual(calls, c.calls) {
				t.Errorf("handler calls %q, want %q", calls, c.calls)
			}
			if c.vars != nil && !reflect.DeepEqual(h.vars, c.vars) {
				t.Errorf("Start got %q, want %q", h.vars, c.vars)
			}
		})
	}
}

// TestServeConnSilent: a client that sends nothing within 5 s gets the error
// docs/commands.md quotes, and a client that closes at once gets nothing.
func TestServeConnSilent(t *testing.T) {
	t.Parallel()
	t.Run("silent", func(t *testing.T) {
		t.Parallel()
		h := &fakeHandler{}
		start := time.Now()
		srv, cli := net.Pipe()
		defer cli.Close()
		go (&Server{Handler: h}).ServeConn(srv)
		cli.SetReadDeadline(time.Now().Add(20 * time.Second))
		b, _ := io.ReadAll(cli)
		if got, want := string(b), "error: no request within 5s\n"; got != want {
			t.Errorf("reply %q, want %q", got, want)
		}
		if took := time.Since(start); took < 5*time.Second || took > 10*time.Second {
			t.Errorf("answered after %v, want 5s", took)
		}
		if calls := h.Calls(); len(calls) != 0 {
			t.Errorf("handler called: %q", calls)
		}
	})
	t.Run("closed at once", func(t *testing.T) {
		t.Parallel()
		h := &fakeHandler{}
		srv, cli := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			(&Server{Handler: h}).ServeConn(srv)
		}()
		cli.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("ServeConn did not return")
		}
		if calls := h.Calls(); len(calls) != 0 {
			t.Errorf("handler called: %q", calls)
		}
	})
}

// listen serves s on a unix socket in a temp dir.
func listen(t *testing.T, s *Server) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "ctl")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(l)
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return sock
}

// TestServeBusy: at most 16 requests are served at once; one more gets "busy"
// at once, and a slot that frees is used again.
func TestServeBusy(t *testing.T) {
	t.Parallel()
	for _, max := range []int{0, 3} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			t.Parallel()
			n := max
			if n == 0 {
				n = MaxConns
			}
			h := &fakeHandler{status: "held", hold: make(chan struct{}), held: make(chan struct{})}
			sock := listen(t, &Server{Handler: h, MaxConns: max})
			dial := func() net.Conn {
				c, err := net.Dial("unix", sock)
				if err != nil {
					t.Fatal(err)
				}
				c.SetDeadline(time.Now().Add(20 * time.Second))
				return c
			}
			var held []net.Conn
			for i := 0; i < n; i++ {
				c := dial()
				io.WriteString(c, "status\n")
				held = append(held, c)
				select {
				case <-h.held:
				case <-time.After(10 * time.Second):
					t.Fatalf("%d of %d connections served", i, n)
				}
			}
			extra := dial()
			line, err := bufio.NewReader(extra).ReadString('\n')
			if want := fmt.Sprintf("error: busy: %d requests already in progress; try again\n", n); line != want {
				t.Errorf("connection %d: %q, %v; want %q", n+1, line, err, want)
			}
			extra.Close()
			close(h.hold)
			for _, c := range held {
				if b, err := io.ReadAll(c); string(b) != "held\nok\n" {
					t.Errorf("a held connection: %q, %v", b, err)
				}
				c.Close()
			}
			// The slots are free again.
			go func() { <-h.held }()
			again := dial()
			io.WriteString(again, "status\n")
			if b, err := io.ReadAll(again); string(b) != "held\nok\n" {
				t.Errorf("after the others: %q, %v", b, err)
			}
			again.Close()
		})
	}
}

// TestServeGuard: the Guard runs each connection's handling.
func TestServeGuard(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	guarded := 0
	h := &fakeHandler{status: "s"}
	sock := listen(t, &Server{Handler: h, Guard: func(f func()) {
		mu.Lock()
		guarded++
		mu.Unlock()
		f()
	}})
	var out, errs strings.Builder
	if rc := (Client{Socket: sock}).Main([]string{"status"}, &out, &errs); rc != 0 || out.String() != "s\n" {
		t.Errorf("rootctl status = %d, %q, %q", rc, out.String(), errs.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if guarded != 1 {
		t.Errorf("guard ran %d times, want 1", guarded)
	}
}

// pipeClient is a Client whose connection is one end of a pipe; the other end
// gets what the client sent and answers reply.
func pipeClient(t *testing.T, reply string) (Client, <-chan string) {
	t.Helper()
	sent := make(chan string, 1)
	return Client{Socket: "pipe", dial: func() (net.Conn, error) {
		srv, cli := net.Pipe()
		go func() {
			defer srv.Close()
			srv.SetDeadline(time.Now().Add(10 * time.Second))
			line, _ := bufio.NewReader(srv).ReadString('\n')
			sent <- line
			io.WriteString(srv, reply)
		}()
		return cli, nil
	}}, sent
}

func TestClient(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		args     []string
		reply    string
		send     string // the request line; "": none sent
		rc       int
		out, err string
	}{
		{"status by default", nil, "state: running\npid: 7\nok\n", "status\n", 0, "state: running\npid: 7\n", ""},
		{"start with variables", []string{"start", "venti=tcp!h!564"}, "started from 9p tcp!h!564, pid 9\nok\n", "start venti=tcp!h!564\n", 0, "started from 9p tcp!h!564, pid 9\n", ""},
		{"refused", []string{"stop"}, "error: no root system is running\n", "stop\n", 1, "", "rootctl stop: no root system is running\n"},
		{"busy", []string{"status"}, "error: busy: 16 requests already in progress; try again\n", "status\n", 1, "", "rootctl status: busy: 16 requests already in progress; try again\n"},
		{"no verdict", []string{"restart"}, "half\n", "restart\n", 1, "half\n", ""},
		{"unknown", []string{"frob"}, "", "", 2, "", "rootctl: unknown request \"frob\"\nusage: rootctl"},
		{"help", []string{"-h"}, "", "", 0, "usage: rootctl [status", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cl, sent := pipeClient(t, c.reply)
			var out, errs strings.Builder
			rc := cl.Main(c.args, &out, &errs)
			if rc != c.rc {
				t.Errorf("rootctl %q = %d, want %d", c.args, rc, c.rc)
			}
			if !strings.HasPrefix(out.String(), c.out) || (c.out == "" && out.String() != "") {
				t.Errorf("stdout %q, want %q", out.String(), c.out)
			}
			if !strings.HasPrefix(errs.String(), c.err) || (c.err == "" && errs.String() != "") {
				t.Errorf("stderr %q, want %q", errs.String(), c.err)
			}
			if c.send != "" {
				if got := <-sent; got != c.send {
					t.Errorf("sent %q, want %q", got, c.send)
				}
			}
		})
	}
}

func TestClientNoServer(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "ctl")
	var out, errs strings.Builder
	rc := Client{Socket: sock}.Main([]string{"status"}, &out, &errs)
	if want := "rootctl: cannot reach init at " + sock + ": "; rc != 1 || !strings.HasPrefix(errs.String(), want) {
		t.Errorf("rootctl with no server = %d, %q; want 1, %q...", rc, errs.String(), want)
	}
}

// TestClientServer: rootctl and the server over a real unix socket.
func TestClientServer(t *testing.T) {
	t.Parallel()
	h := &fakeHandler{status: "state: stopped\nstarts: 0", stopErr: errors.New("no root system is running")}
	sock := listen(t, &Server{Handler: h})
	cl := Client{Socket: sock}
	for _, c := range []struct {
		args     []string
		rc       int
		out, err string
	}{
		{[]string{"status"}, 0, "state: stopped\nstarts: 0\n", ""},
		{[]string{"start", "init=/bin/sh", "ants.aname=/srv"}, 0, "started from disk /dev/vda1, pid 42\n", ""},
		{[]string{"stop"}, 1, "", "rootctl stop: no root system is running\n"},
		{[]string{"restart"}, 1, "", "rootctl restart: no root system is running\n"},
		{[]string{"start", "venti=udp!h!1"}, 1, "", "rootctl start: venti: \"udp!h!1\": network \"udp\" is not supported; use tcp\n"},
		{[]string{"stop", "init=/bin/sh"}, 1, "", "rootctl stop: stop takes no variables\n"},
	} {
		var out, errs strings.Builder
		rc := cl.Main(c.args, &out, &errs)
		if rc != c.rc || out.String() != c.out || errs.String() != c.err {
			t.Errorf("rootctl %q = %d, %q, %q; want %d, %q, %q", c.args, rc, out.String(), errs.String(), c.rc, c.out, c.err)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if want := map[string]string{"init": "/bin/sh", "ants.aname": "/srv"}; !reflect.DeepEqual(h.vars, want) {
		t.Errorf("Start got %q, want %q", h.vars, want)
	}
	if want := []string{"status", "start", "stop", "stop"}; !reflect.DeepEqual(h.calls, want) {
		t.Errorf("calls %q, want %q", h.calls, want)
	}
}
