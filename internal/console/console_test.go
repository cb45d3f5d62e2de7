package console

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/fakeio"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// fakeMaster is a client stream: what the mux writes to it is kept (Got); Emit
// makes the "program" print.
type fakeMaster = fakeio.Stream

func newFake() *fakeMaster { return fakeio.NewStream() }

type syncBuf = fakeio.Buffer

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	fakeio.Eventually(t, what, f)
}

func TestParseEscape(t *testing.T) {
	for in, want := range map[string]byte{"^]": 0x1d, "^a": 1, "^A": 1, "^\\": 0x1c, "^_": 0x1f, "\x1d": 0x1d} {
		got, err := ParseEscape(in)
		if err != nil || got != want {
			t.Errorf("ParseEscape(%q) = %#x, %v; want %#x", in, got, err, want)
		}
	}
	for _, in := range []string{"", "]", "^", "^1", "^M", "^J", "^H", "^@", "ctrl-]", "\r", "a"} {
		if _, err := ParseEscape(in); err == nil {
			t.Errorf("ParseEscape(%q): no error", in)
		}
	}
	if KeyName(0x1d) != "^]" {
		t.Errorf("KeyName(0x1d) = %q", KeyName(0x1d))
	}
}

func setup(t *testing.T) (*Mux, *syncBuf, *fakeMaster, *fakeMaster) {
	out := &syncBuf{}
	m := New([]io.Writer{out}, 0)
	admin, root := newFake(), newFake()
	a := m.Client("admin shell", 'a')
	r := m.Client("root console", 'r')
	a.Attach(admin)
	r.Attach(root)
	m.Focus(a)
	return m, out, admin, root
}

func TestKeysGoToTheFocusedClient(t *testing.T) {
	m, _, admin, root := setup(t)
	m.keys([]byte("ls\r"), false)
	if admin.Got() != "ls\r" || root.Got() != "" {
		t.Fatalf("admin got %q, root got %q", admin.Got(), root.Got())
	}
	// Escape, r: the root gets the focus; the command key is not sent anywhere.
	esc := m.keys([]byte("x\x1dry"), false)
	if esc || admin.Got() != "ls\rx" || root.Got() != "y" {
		t.Fatalf("after ^]r: admin %q, root %q, esc %v", admin.Got(), root.Got(), esc)
	}
	// The escape split across reads still works.
	if !m.keys([]byte("\x1d"), false) {
		t.Fatal("a lone escape at the end of a read is forgotten")
	}
	m.keys([]byte("az"), true)
	if admin.Got() != "ls\rxz" {
		t.Fatalf("after a split ^] a: admin %q", admin.Got())
	}
	// Escape twice sends one escape.
	m.keys([]byte("\x1d\x1d"), false)
	if admin.Got() != "ls\rxz\x1d" {
		t.Fatalf("^]^]: admin %q", admin.Got())
	}
	// Ctrl-C goes through as a byte (the pty makes it SIGINT for its own group).
	m.keys([]byte{3}, false)
	if !strings.HasSuffix(admin.Got(), "\x03") || strings.Contains(root.Got(), "\x03") {
		t.Fatalf("^C went to the wrong client: admin %q root %q", admin.Got(), root.Got())
	}
}

func TestUnfocusedOutputIsKeptAndShownOnFocus(t *testing.T) {
	m, out, admin, root := setup(t)
	admin.Emit("admin-1 ")
	waitFor(t, "admin output", func() bool { return strings.Contains(out.String(), "admin-1") })
	root.Emit("root-while-hidden")
	time.Sleep(20 * time.Millisecond)
	if strings.Contains(out.String(), "root-while-hidden") {
		t.Fatal("an unfocused client reached the console")
	}
	m.keys([]byte("\x1dr"), false)
	waitFor(t, "replay", func() bool { return strings.Contains(out.String(), "root-while-hidden") })
	if !strings.Contains(out.String(), "[ants: root console; ^] ? for help]") {
		t.Errorf("no focus notice in %q", out.String())
	}
	// Shown once: switching back and forth does not repeat it.
	m.keys([]byte("\x1da\x1dr"), false)
	if strings.Count(out.String(), "root-while-hidden") != 1 {
		t.Errorf("replayed twice: %q", out.String())
	}
}

func TestRingKeepsTheLatestOutput(t *testing.T) {
	m, out, _, root := setup(t)
	big := strings.Repeat("x", RingSize) + "TAIL"
	root.Emit(big)
	waitFor(t, "ring", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return bytes.HasSuffix(m.clients[1].backlog.bytes(), []byte("TAIL"))
	})
	m.keys([]byte("\x1dr"), false)
	s := out.String()
	if !strings.Contains(s, "4 bytes of earlier output lost") || !strings.HasSuffix(s, "TAIL") {
		t.Errorf("ring replay: %d bytes, tail %q", len(s), s[len(s)-60:])
	}
}

func TestHelpListAndUnknownKey(t *testing.T) {
	m, out, admin, _ := setup(t)
	m.keys([]byte("\x1d?\x1dl\x1dz"), false)
	s := out.String()
	for _, w := range []string{"^] then: a admin shell, r root console, l list, ? help", "* a admin shell", "no console on \"z\""} {
		if !strings.Contains(s, w) {
			t.Errorf("want %q in %q", w, s)
		}
	}
	if admin.Got() != "" {
		t.Errorf("command keys leaked to the client: %q", admin.Got())
	}
}

func TestOpenPTY(t *testing.T) {
	master, slave, err := OpenPTY()
	if err != nil {
		t.Skipf("no ptys here: %v", err)
	}
	defer master.Close()
	slave.Write([]byte("hello\n"))
	buf := make([]byte, 64)
	n, _ := master.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "hello") {
		t.Errorf("read %q from the master", buf[:n])
	}
	slave.Close()
}

// TestSpoke: a client's Spoke channel closes at the first output of its program,
// focused or not, and a new Attach (a new program) starts a new one.
func TestSpoke(t *testing.T) {
	m := New([]io.Writer{&syncBuf{}}, 0)
	c := m.Client("admin shell", 'a')
	if c.Spoke() != nil {
		t.Fatal("Spoke before any Attach is not nil")
	}
	f := newFake()
	c.Attach(f)
	ch := c.Spoke()
	select {
	case <-ch:
		t.Fatal("spoke before any output")
	case <-time.After(20 * time.Millisecond):
	}
	f.Emit("ants% ")
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("no Spoke after output")
	}
	f.Emit("more") // no second close (that would panic)
	g := newFake()
	c.Attach(g)
	select {
	case <-c.Spoke():
		t.Fatal("the new program's Spoke is closed already")
	case <-time.After(20 * time.Millisecond):
	}
	g.Emit("x")
	select {
	case <-c.Spoke():
	case <-time.After(time.Second):
		t.Fatal("no Spoke for the second program")
	}
}

// TestHadFocus: a client's program has had the focus once the focus was on it since
// it was attached; a program attached while the client has the focus has it too.
func TestHadFocus(t *testing.T) {
	m := New([]io.Writer{&syncBuf{}}, 0)
	a, b := m.Client("admin shell", 'a'), m.Client("boot scripts", 'b')
	a.Attach(newFake())
	b.Attach(newFake())
	m.Focus(b)
	if a.HadFocus() {
		t.Fatal("HadFocus before any focus")
	}
	m.keys([]byte("\x1da"), false)
	m.keys([]byte("\x1db"), false)
	if !a.HadFocus() {
		t.Fatal("no HadFocus after Ctrl-] a")
	}
	a.Attach(newFake()) // a new shell, the focus elsewhere
	if a.HadFocus() {
		t.Error("a new program inherits HadFocus")
	}
	m.Focus(a)
	a.Attach(newFake()) // a new shell while the client has the focus
	if !a.HadFocus() {
		t.Error("a program attached with the focus on its client: HadFocus false")
	}
}

// TestPTYSize: the ptys of a mux get the consoles' size (the smallest any console
// reports; a serial line's 0x0 does not count), 80x24 when none reports one.
func TestPTYSize(t *testing.T) {
	for _, tc := range []struct {
		name       string
		sizes      []unix.Winsize
		rows, cols uint16
	}{
		{"serial only", []unix.Winsize{{}}, 24, 80},
		{"nothing", nil, 24, 80},
		{"vga and serial", []unix.Winsize{{Row: 25, Col: 80}, {}}, 25, 80},
		{"two vts", []unix.Winsize{{Row: 48, Col: 128}, {Row: 30, Col: 160}}, 30, 128},
		{"half a size", []unix.Winsize{{Row: 40}}, 24, 80},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New([]io.Writer{&syncBuf{}}, 0)
			m.SetSize(ConsoleSize(tc.sizes))
			c := m.Client("admin shell", 'a')
			slave, err := c.NewPTY()
			if err != nil {
				t.Skipf("no ptys here: %v", err)
			}
			defer slave.Close()
			ws, err := unix.IoctlGetWinsize(int(slave.Fd()), unix.TIOCGWINSZ)
			if err != nil {
				t.Fatal(err)
			}
			if ws.Row != tc.rows || ws.Col != tc.cols {
				t.Errorf("pty %dx%d, want %dx%d", ws.Row, ws.Col, tc.rows, tc.cols)
			}
		})
	}
}

// TestEscapeWhileTheRootDoesNotReadItsKeys: the root's program does not read its
// terminal (a hung root's shell: here a real pty whose slave nobody reads) and a
// paste of 1 MiB goes to it, more than its pty and the key queue hold. The
// console's input goes on all the same: the escape key gives the admin shell its
// keys, and the consoles say that the root drops keys.
func TestEscapeWhileTheRootDoesNotReadItsKeys(t *testing.T) {
	out := &syncBuf{}
	m := New([]io.Writer{out}, 0)
	a, r := m.Client("admin shell", 'a'), m.Client("root console", 'r')
	admin := newFake()
	a.Attach(admin)
	slave, err := r.NewPTY()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer slave.Close() // open and never read
	// Raw, as a shell's line editor leaves it at its prompt: the pty then takes
	// no more once its buffers are full (a canonical one drops what overflows).
	if _, err := term.MakeRaw(int(slave.Fd())); err != nil {
		t.Fatal(err)
	}
	m.Focus(r)
	in, keys := io.Pipe()
	go m.Input(in)
	typed := make(chan error, 1)
	go func() {
		paste := bytes.Repeat([]byte("x"), 1<<20)
		_, err := keys.Write(append(paste, m.escape, 'a', 'o', 'k', '\r'))
		typed <- err
	}()
	select {
	case err := <-typed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the console's input is held up by a root that does not read its keys")
	}
	waitFor(t, "the admin shell gets the keys after the escape", func() bool { return admin.Got() == "ok\r" })
	if m.Focused() != a {
		t.Errorf("focus on %v, want the admin shell", m.Focused().Name)
	}
	if s := out.String(); !strings.Contains(s, "root console does not read its keys: ") {
		t.Errorf("no notice of the dropped keys on the console:\n%.300s", s)
	}
	keys.Close()
}
