package console

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The backlog keeps output whether or not the console showed it: `hub log`.
func TestBacklogKeepsWhatTheConsoleShowed(t *testing.T) {
	m, out, admin, root := setup(t)
	admin.Emit("shown ")
	waitFor(t, "admin output", func() bool { return strings.Contains(out.String(), "shown ") })
	root.Emit("hidden ")
	r := m.Lookup("root")
	waitFor(t, "root backlog", func() bool { return string(r.Backlog()) == "hidden " })
	a := m.Lookup("admin")
	if got := string(a.Backlog()); got != "shown " {
		t.Errorf("admin backlog %q, want what the console showed", got)
	}
	m.keys([]byte("\x1dr"), false)
	if !strings.Contains(out.String(), "hidden ") {
		t.Errorf("focus did not show the unseen output: %q", out.String())
	}
	if got := string(r.Backlog()); got != "hidden " {
		t.Errorf("after focus, backlog %q: focus must not empty it", got)
	}
}

// Viewers get the backlog, then the output in order, and type into the program.
func TestViewerSeesBacklogThenOutput(t *testing.T) {
	m, _, _, root := setup(t)
	r := m.Lookup("root")
	root.Emit("one ")
	waitFor(t, "backlog", func() bool { return len(r.Backlog()) == 4 })
	got := &syncBuf{}
	v, err := r.AttachViewer(got, "test")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		root.Emit(fmt.Sprintf("%d ", i))
	}
	var want strings.Builder
	want.WriteString("one ")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&want, "%d ", i)
	}
	waitFor(t, "viewer output", func() bool { return got.String() == want.String() })
	v.Write([]byte("typed"))
	if root.Got() != "typed" {
		t.Errorf("program got %q", root.Got())
	}
	if !strings.Contains(m.list(), "attached: test") {
		t.Errorf("list does not show the viewer: %q", m.list())
	}
	<-v.Detach()
	root.Emit("after")
	time.Sleep(20 * time.Millisecond)
	if strings.Contains(got.String(), "after") {
		t.Errorf("a detached viewer got output")
	}
}

// blockWriter blocks every write until released.
type blockWriter struct{ release chan struct{} }

func (b *blockWriter) Write(p []byte) (int, error) { <-b.release; return len(p), nil }

// A viewer that does not read loses output, with a marker, and holds back
// neither the console nor another viewer.
func TestSlowViewerDropsAndBlocksNoOne(t *testing.T) {
	m, out, _, root := setup(t)
	r := m.Lookup("root")
	m.Focus(r)
	slow := &blockWriter{release: make(chan struct{})}
	sv, err := r.AttachViewer(slow, "slow")
	if err != nil {
		t.Fatal(err)
	}
	fast := &syncBuf{}
	if _, err := r.AttachViewer(fast, "fast"); err != nil {
		t.Fatal(err)
	}
	// The program prints at the pace the fast viewer reads (a pty's output is
	// not faster than its readers for long): the slow one falls behind.
	chunk := strings.Repeat("y", 4096)
	total := 2*ViewerQueue + 64<<10 // more than the slow drainer holds plus its queue
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 0; n < total; n += len(chunk) {
			root.Emit(chunk)
			for i := 0; i < 1000 && len(fast.String()) < n+len(chunk); i++ {
				time.Sleep(time.Millisecond)
			}
		}
		root.Emit("END")
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("a slow viewer blocked the hub's output")
	}
	waitFor(t, "fast viewer", func() bool { return strings.HasSuffix(fast.String(), "END") })
	waitFor(t, "console", func() bool { return strings.HasSuffix(out.String(), "END") })
	if strings.Contains(fast.String(), "dropped") {
		t.Errorf("the fast viewer lost output")
	}
	close(slow.release)
	<-sv.Detach()
	if sv.q.Dropped() == 0 {
		t.Errorf("the slow viewer's queue dropped nothing")
	}
}

// The drop marker reaches the slow viewer where the loss is.
func TestViewerDropNotice(t *testing.T) {
	var b syncBuf
	q := NewStream(&b, 8, ViewerDropNotice)
	q.mu.Lock() // hold the drainer off so the queue fills
	q.buf = append(q.buf, "12345678"...)
	q.queued += 8
	q.mu.Unlock()
	q.Write([]byte("lost"))
	<-q.Close()
	if s := b.String(); !strings.HasPrefix(s, "12345678") || !strings.Contains(s, "4 bytes of output dropped: this client read too slowly") {
		t.Errorf("got %q", s)
	}
}

func TestNewHubNamesKeysAndRemove(t *testing.T) {
	m, out, _, _ := setup(t)
	for _, bad := range []string{"", "-x", ".x", "a b", "a/b", strings.Repeat("n", 33), "é"} {
		if _, err := m.NewHub(bad); err == nil {
			t.Errorf("NewHub(%q): no error", bad)
		}
	}
	if _, err := m.NewHub("admin"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("NewHub(admin): %v", err)
	}
	w1, err := m.NewHub("work")
	if err != nil || w1.Key != '1' || w1.Name != "hub work" {
		t.Fatalf("NewHub(work) = %+v, %v", w1, err)
	}
	w2, _ := m.NewHub("w2")
	if w2.Key != '2' {
		t.Errorf("second hub key %q", w2.Key)
	}
	fw := newFake()
	w1.Attach(fw)
	fw.Emit("in-work")
	m.keys([]byte("\x1d1"), false)
	waitFor(t, "hub on the console", func() bool { return strings.Contains(out.String(), "in-work") })
	if !strings.Contains(m.Help(), "1 hub work") {
		t.Errorf("help: %q", m.Help())
	}
	v, _ := w1.AttachViewer(io.Discard, "x")
	if !m.Remove(w1) {
		t.Errorf("Remove of the focused hub did not say so")
	}
	select {
	case <-v.Done():
	case <-time.After(5 * time.Second):
		t.Errorf("a removed hub's viewer did not end")
	}
	if m.Lookup("work") != nil {
		t.Errorf("removed hub still there")
	}
	if _, err := w1.AttachViewer(io.Discard, "y"); err == nil {
		t.Errorf("attach to a removed hub worked")
	}
	w3, _ := m.NewHub("w3")
	if w3.Key != '1' {
		t.Errorf("freed key not reused: %q", w3.Key)
	}
	for i := len(m.Hubs()); i < MaxHubs; i++ {
		if _, err := m.NewHub(fmt.Sprintf("h%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.NewHub("onemore"); err == nil {
		t.Errorf("no limit on hubs")
	}
}

func TestTooManyViewers(t *testing.T) {
	m, _, _, _ := setup(t)
	r := m.Lookup("root")
	for i := 0; i < MaxViewers; i++ {
		if _, err := r.AttachViewer(io.Discard, "v"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.AttachViewer(io.Discard, "v"); err != ErrTooManyViewers {
		t.Errorf("viewer %d: %v", MaxViewers+1, err)
	}
}

func TestPtsNumber(t *testing.T) {
	for _, c := range []struct {
		maj, min uint32
		n        int
		ok       bool
	}{{136, 0, 0, true}, {136, 5, 5, true}, {136, 300, 300, true}, {4, 64, 0, false}, {5, 1, 0, false}} {
		n, ok := ptsNumber(unix.Mkdev(c.maj, c.min))
		if n != c.n || ok != c.ok {
			t.Errorf("ptsNumber(%d:%d) = %d, %v", c.maj, c.min, n, ok)
		}
	}
}

// The hub a real pty belongs to is found by its slave's device number.
func TestByTTY(t *testing.T) {
	mst, sl, err := OpenPTY()
	if err != nil {
		t.Skipf("no ptys here: %v", err)
	}
	mst.Close()
	sl.Close()
	m := New([]io.Writer{io.Discard}, 0)
	a := m.Client("admin shell", 'a')
	slave, err := a.NewPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(slave.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if got := m.ByTTY(st.Rdev); got != a {
		t.Errorf("ByTTY(%s) = %v", slave.Name(), got)
	}
	if m.ByTTY(unix.Mkdev(4, 64)) != nil {
		t.Errorf("ByTTY(ttyS0) found a hub")
	}
}

// Mark writes into the backlog and to viewers, never to the console.
func TestMark(t *testing.T) {
	m, out, _, _ := setup(t)
	r := m.Lookup("root")
	m.Focus(r)
	got := &syncBuf{}
	r.AttachViewer(got, "v")
	before := out.String()
	r.Mark("root %d started", 2)
	waitFor(t, "viewer mark", func() bool { return strings.Contains(got.String(), "root 2 started]") })
	if out.String() != before {
		t.Errorf("Mark wrote to the console")
	}
	if !strings.Contains(string(r.Backlog()), "root 2 started]") {
		t.Errorf("backlog %q", r.Backlog())
	}
}

func TestKernelConsoleIsAName(t *testing.T) {
	if name := KernelConsole(); name == "" || strings.Contains(name, "/") {
		t.Errorf("KernelConsole() = %q", name)
	}
}

// OpenDevice leaves a terminal raw, as the mux needs it: a pty's slave stands in
// for the console.
func TestOpenDeviceIsRaw(t *testing.T) {
	m, s, err := OpenPTY()
	if err != nil {
		t.Skipf("no ptys: %v", err)
	}
	defer m.Close()
	defer s.Close()
	f, err := OpenDevice(strings.TrimPrefix(s.Name(), "/dev/"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&(unix.ECHO|unix.ICANON|unix.ISIG) != 0 || tio.Iflag&(unix.ICRNL|unix.IXON) != 0 || tio.Oflag&unix.OPOST != 0 || tio.Cc[unix.VMIN] != 1 {
		t.Errorf("not raw: lflag %#x iflag %#x oflag %#x vmin %d", tio.Lflag, tio.Iflag, tio.Oflag, tio.Cc[unix.VMIN])
	}
}
