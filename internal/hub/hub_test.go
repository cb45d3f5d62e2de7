package hub

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/fakeio"
)

// prog is a hub's program in tests: what is typed into it is kept; Emit prints.
type prog = fakeio.Stream

func newProg() *prog { return fakeio.NewStream() }

// reg is a Registry over a real mux; New attaches a prog instead of starting one.
type reg struct {
	*console.Mux
	mu    sync.Mutex
	progs map[string]*prog
}

func (r *reg) New(name string, argv []string) error {
	c, err := r.NewHub(name)
	if err != nil {
		return err
	}
	p := newProg()
	c.Attach(p)
	r.mu.Lock()
	r.progs[name] = p
	r.mu.Unlock()
	return nil
}

func (r *reg) Kill(name string) error {
	c := r.Lookup(name)
	if c == nil {
		return errors.New("no hub " + name)
	}
	if !c.User() {
		return errors.New("hub " + name + " is the console's own")
	}
	r.Remove(c)
	return nil
}

func (r *reg) prog(name string) *prog {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.progs[name]
}

type syncBuf = fakeio.Buffer

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	fakeio.Eventually(t, what, f)
}

// startHub starts a server on a socket in a temporary directory, with the console's
// admin and root hubs.
func startHub(t *testing.T) (*reg, string, *prog, *prog, *syncBuf) {
	t.Helper()
	out := &syncBuf{}
	m := console.New([]io.Writer{out}, 0)
	admin, root := newProg(), newProg()
	a := m.Client("admin shell", 'a')
	r := m.Client("root console", 'r')
	a.Attach(admin)
	r.Attach(root)
	m.Focus(a)
	rg := &reg{Mux: m, progs: map[string]*prog{}}
	sock := filepath.Join(t.TempDir(), "hub.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s := &Server{Reg: rg}
	go s.Serve(l)
	return rg, sock, admin, root, out
}

func run(t *testing.T, sock string, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var out, errb syncBuf
	c := &Client{Socket: sock, In: stdin, Out: &out, Err: &errb}
	if stdin == nil {
		c.In = strings.NewReader("")
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c.Stdin = f
	st := c.Run(args)
	return st, out.String(), errb.String()
}

func TestListLogSend(t *testing.T) {
	_, sock, admin, root, _ := startHub(t)
	root.Emit("root says hello\r\n")
	st, out, errs := run(t, sock, nil)
	if st != 0 || !strings.Contains(out, "NAME") || !strings.Contains(out, "admin") || !strings.Contains(out, "a *") {
		t.Fatalf("hub: %d %q %q", st, out, errs)
	}
	waitFor(t, "backlog", func() bool {
		_, out, _ := run(t, sock, nil, "log", "root")
		return out == "root says hello\r\n"
	})
	if st, _, errs := run(t, sock, nil, "send", "root", "ls", "-l"); st != 0 || root.Got() != "ls -l\r" {
		t.Errorf("send: %d %q; program got %q", st, errs, root.Got())
	}
	if admin.Got() != "" {
		t.Errorf("admin got %q", admin.Got())
	}
}

func TestErrors(t *testing.T) {
	_, sock, _, _, _ := startHub(t)
	for _, c := range []struct {
		args   []string
		status int
		msg    string
	}{
		{[]string{"log", "nosuch"}, 1, "no hub nosuch; hub lists them"},
		{[]string{"log", "a/b"}, 2, "has '/'"},
		{[]string{"log"}, 2, "wrong number of arguments"},
		{[]string{"frob"}, 2, "unknown command"},
		{[]string{"kill", "root"}, 1, "console's own"},
		{[]string{"new", "admin"}, 1, "hub admin exists"},
		{[]string{"attach", "nosuch"}, 1, "no hub nosuch"},
	} {
		st, _, errs := run(t, sock, nil, c.args...)
		if st != c.status || !strings.Contains(errs, c.msg) {
			t.Errorf("hub %s: %d %q; want %d and %q", strings.Join(c.args, " "), st, errs, c.status, c.msg)
		}
	}
	st, _, errs := run(t, filepath.Join(t.TempDir(), "none"), nil, "list")
	if st != 1 || !strings.Contains(errs, "cannot reach init") {
		t.Errorf("no socket: %d %q", st, errs)
	}
}

// Raw requests: bad JSON, an unknown op, a line too long, no line in time.
func TestServerRefusesBadRequests(t *testing.T) {
	_, sock, _, _, _ := startHub(t)
	for _, c := range []struct{ send, want string }{
		{"nonsense\n", "not JSON"},
		{`{"op":"frob"}` + "\n", `unknown request`},
		{strings.Repeat("x", MaxRequest+10) + "\n", "longer than"},
	} {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		go conn.Write([]byte(c.send))
		b, _ := io.ReadAll(conn)
		conn.Close()
		if !strings.Contains(string(b), c.want) {
			t.Errorf("%.20q: reply %q, want %q", c.send, b, c.want)
		}
	}
}

// hub new, then two clients attached at once: both see the output, both type.
func TestNewAttachShare(t *testing.T) {
	rg, sock, _, _, _ := startHub(t)
	if st, _, errs := run(t, sock, nil, "new", "work"); st != 0 {
		t.Fatalf("new: %q", errs)
	}
	p := rg.prog("work")
	p.Emit("before ")
	type att struct {
		out  *syncBuf
		in   *io.PipeWriter
		done chan int
	}
	start := func() att {
		pr, pw := io.Pipe()
		a := att{out: &syncBuf{}, in: pw, done: make(chan int, 1)}
		f, _ := os.Open(os.DevNull)
		t.Cleanup(func() { f.Close() })
		c := &Client{Socket: sock, Stdin: f, In: pr, Out: a.out, Err: io.Discard}
		go func() { a.done <- c.Run([]string{"attach", "work"}) }()
		return a
	}
	a1, a2 := start(), start()
	waitFor(t, "backlog on both", func() bool {
		return strings.Contains(a1.out.String(), "before ") && strings.Contains(a2.out.String(), "before ")
	})
	waitFor(t, "two viewers", func() bool {
		for _, h := range rg.Hubs() {
			if h.Name == "work" {
				return len(h.Viewers) == 2
			}
		}
		return false
	})
	p.Emit("live")
	waitFor(t, "live on both", func() bool {
		return strings.HasSuffix(a1.out.String(), "live") && strings.HasSuffix(a2.out.String(), "live")
	})
	a1.in.Write([]byte("from1 "))
	waitFor(t, "typed by one", func() bool { return p.Got() == "from1 " })
	a2.in.Write([]byte("from2"))
	waitFor(t, "typed by the other", func() bool { return p.Got() == "from1 from2" })
	// A client whose input ends stops typing; the hub's end ends it.
	a1.in.Close()
	if st, _, errs := run(t, sock, nil, "kill", "work"); st != 0 {
		t.Fatalf("kill: %q", errs)
	}
	for _, a := range []att{a1, a2} {
		select {
		case <-a.done:
		case <-time.After(5 * time.Second):
			t.Fatal("an attached client did not end with its hub")
		}
	}
	if !strings.Contains(a2.out.String(), "hub work removed") {
		t.Errorf("no last line: %q", a2.out.String())
	}
	if st, _, _ := run(t, sock, nil, "log", "work"); st != 1 {
		t.Errorf("log of a killed hub worked")
	}
}

func TestKeyFilter(t *testing.T) {
	var to, shown bytes.Buffer
	detached := false
	k := &keyFilter{esc: 0x1d, w: &to, out: &shown, detach: func() { detached = true }, active: true}
	k.Write([]byte("ab\x1d\x1dc\x1d"))
	k.Write([]byte("?x\x1d"))
	if to.String() != "ab\x1dcx" || !strings.Contains(shown.String(), "d detaches") || detached {
		t.Fatalf("to %q shown %q detached %v", to.String(), shown.String(), detached)
	}
	if _, err := k.Write([]byte("dignored")); err != io.EOF || !detached || to.String() != "ab\x1dcx" {
		t.Errorf("escape d: err %v detached %v to %q", err, detached, to.String())
	}
	to.Reset()
	k = &keyFilter{esc: 0x1d, w: &to, active: false}
	k.Write([]byte("a\x1dd"))
	if to.String() != "a\x1dd" {
		t.Errorf("inactive filter changed %q", to.String())
	}
}

func TestCleanWho(t *testing.T) {
	if got := cleanWho("ssh:10.0.2.2\x1b[2J and more words than fit in forty-eight bytes at all"); strings.ContainsAny(got, "\x1b ") || len(got) > 48 {
		t.Errorf("cleanWho: %q", got)
	}
}

// TestTakeConsole: ants ask, run by the boot scripts behind the admin prompt,
// takes the console for their terminal; from any other terminal (the admin shell,
// a hub, no terminal) it does nothing.
func TestTakeConsole(t *testing.T) {
	rg, sock, _, _, _ := startHub(t)
	boot := rg.Client("boot scripts", 'b')
	bootTTY, err := boot.NewPTY()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer bootTTY.Close()
	other := rg.Client("admin shell", 'a')
	otherTTY, err := other.NewPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer otherTTY.Close()
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	c := &Client{Socket: sock}
	for _, f := range []*os.File{otherTTY, devnull} {
		if ok, err := c.TakeConsole(f); ok || err != nil {
			t.Errorf("TakeConsole(%s) = %v, %v; want false, nil", f.Name(), ok, err)
		}
		if rg.Focused() != other {
			t.Fatalf("TakeConsole(%s) moved the console to %v", f.Name(), rg.Focused().Name)
		}
	}
	if ok, err := c.TakeConsole(bootTTY); !ok || err != nil {
		t.Errorf("TakeConsole(boot's pty) = %v, %v; want true, nil", ok, err)
	}
	if rg.Focused() != boot {
		t.Errorf("the console shows %q, not the boot scripts", rg.Focused().Name)
	}
	if ok, _ := c.TakeConsole(bootTTY); !ok {
		t.Error("a second TakeConsole: not focused")
	}
}
