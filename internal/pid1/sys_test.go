package pid1

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/fakeio"
	"github.com/ants/ants/internal/klog"
	"github.com/ants/ants/internal/mount"
	"golang.org/x/sys/unix"
)

// testClock is the clock of PID 1's tests: Sleep moves it at once (sleeping is
// all that passes time), After's channels fire when it is moved past them.
type testClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*testTimer
	sleeps []time.Duration
}

type testTimer struct {
	at time.Time
	d  time.Duration
	ch chan time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Unix(2_000_000, 0)} }

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) Sleep(d time.Duration) {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	c.Advance(d)
}

func (c *testClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &testTimer{at: c.now.Add(d), d: d, ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
	} else {
		c.timers = append(c.timers, t)
	}
	return t.ch
}

// Advance moves the clock by d and fires the timers it passes.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	var left []*testTimer
	for _, t := range c.timers {
		if t.at.After(c.now) {
			left = append(left, t)
		} else {
			t.ch <- c.now
		}
	}
	c.timers = left
}

// waiting says whether a timer of d is pending.
func (c *testClock) waiting(d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.timers {
		if t.d == d {
			return true
		}
	}
	return false
}

func (c *testClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// fakeProc is a child a test's Init started.
type fakeProc struct {
	cmd  *exec.Cmd
	pid  int
	exit chan unix.WaitStatus
}

func (p *fakeProc) argv() string {
	return strings.Join(append([]string{p.cmd.Path}, p.cmd.Args[1:]...), " ")
}

// world is the machine under a test's Init: the children it starts, the calls
// it makes in order, a /proc and the paths in a temporary directory.
type world struct {
	t     *testing.T
	dir   string
	clock *testClock
	out   *fakeio.Buffer // PID 1's log (its console)

	mu       sync.Mutex
	next     int
	procs    []*fakeProc
	started  chan *fakeProc
	exits    map[string]unix.WaitStatus // a program (by path) that exits at once
	startErr error
	onStart  func(cmd *exec.Cmd) // under mu; may panic
	calls    []string            // kill, sync, unmount, mount, reboot, in order
	onKill   func(pid int, sig unix.Signal)
	syncs    chan struct{} // when set, every sync waits on it
	unmount  func(target string, flags int) error
	reboot   error
	ptys     map[*console.Client]*fakeio.Stream
	ttys     map[string]bool // the /dev names OpenTTY opens
	quit     chan struct{}
}

// newTestInit is an Init over a world: no mux (withMux adds one), a root
// lifecycle over fakeSys, the paths under a temporary directory.
func newTestInit(t *testing.T) (*Init, *world) {
	dir := t.TempDir()
	w := &world{t: t, dir: dir, clock: newTestClock(), out: &fakeio.Buffer{}, next: 1000,
		started: make(chan *fakeProc, 100), exits: map[string]unix.WaitStatus{},
		ptys: map[*console.Client]*fakeio.Stream{}, ttys: map[string]bool{"console": true, "ttyS0": true},
		quit: make(chan struct{})}
	in := &Init{log: klog.New("ants", w.out), reaper: NewReaper(), env: []string{"PATH=" + childPath}, ttyName: "ttyS0"}
	for _, d := range []string{"proc", "sys", "dev", "modules", "env", "run", "cgroup"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	in.sys = &initSys{
		Start:       w.start,
		PTY:         w.pty,
		OpenTTY:     w.openTTY,
		Consoles:    func() []string { return nil },
		OpenConsole: func(name string) (*os.File, error) { return nil, fmt.Errorf("no /dev/%s", name) },
		Kill:        w.kill,
		Now:         w.clock.Now,
		Sleep:       w.clock.Sleep,
		After:       w.clock.After,
		Mount:       func(e mount.Entry) error { w.call("mount %s %s", e.FSType, e.Target); return nil },
		Unmount:     w.doUnmount,
		Sync:        w.sync,
		Reboot:      func(cmd int) error { w.call("reboot %#x", cmd); return w.reboot },
		Quit:        w.quit,
		sysPaths: sysPaths{
			Proc:       filepath.Join(dir, "proc"),
			Sysfs:      filepath.Join(dir, "sys"),
			Dev:        filepath.Join(dir, "dev"),
			Modules:    filepath.Join(dir, "modules"),
			Env:        filepath.Join(dir, "env"),
			Record:     filepath.Join(dir, "run/vars.json"),
			Cgroup:     filepath.Join(dir, "cgroup"),
			CtlSocket:  filepath.Join(dir, "run/ctl"),
			HubSocket:  filepath.Join(dir, "run/hub.sock"),
			RootPid:    filepath.Join(dir, "run/root.pid"),
			RootErr:    filepath.Join(dir, "run/root.err"),
			RootServer: filepath.Join(dir, "run/root.server"),
			AbortLog:   filepath.Join(dir, "run/root-abort.log"),
		},
	}
	sys := newFakeSys(t, obedient)
	sys.grace = 10 * time.Second // an obedient root ends at once; a loaded machine is slow
	l := NewLife(sys, in.log.Printf)

	l.AfterKill, l.AbortWait, l.AfterAbort, l.Poll = 30*time.Millisecond, 60*time.Millisecond, 20*time.Millisecond, 5*time.Millisecond
	in.root = l
	t.Cleanup(func() {
		w.mu.Lock()
		if w.syncs != nil {
			close(w.syncs)
		}
		w.mu.Unlock()
	})
	return in, w
}

// withMux gives in a mux of one console (what it shows: w's out too) and the
// console's three clients, the boot scripts' focused, as startMux makes them.
func withMux(in *Init, w *world) {
	in.mux = console.New([]io.Writer{w.out}, 0x1d)
	in.boot = in.mux.Client("boot scripts", 'b')
	in.admin = in.mux.Client("admin shell", 'a')
	in.rootc = in.mux.Client("root console", 'r')
	in.mux.Focus(in.boot)
}

func (w *world) start(cmd *exec.Cmd) (<-chan unix.WaitStatus, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.onStart != nil {
		w.onStart(cmd)
	}
	if w.startErr != nil {
		return nil, w.startErr
	}
	w.next++
	cmd.Process = &os.Process{Pid: w.next}
	p := &fakeProc{cmd: cmd, pid: w.next, exit: make(chan unix.WaitStatus, 1)}
	if ws, ok := w.exits[cmd.Path]; ok {
		p.exit <- ws
	}
	w.procs = append(w.procs, p)
	w.started <- p
	return p.exit, nil
}

// next waits for the next child started.
func (w *world) nextProc() *fakeProc {
	w.t.Helper()
	select {
	case p := <-w.started:
		return p
	case <-time.After(5 * time.Second):
		w.t.Fatalf("no child started; log:\n%s", w.out)
		return nil
	}
}

// noProc checks that no child was started (since the last nextProc).
func (w *world) noProc() {
	w.t.Helper()
	select {
	case p := <-w.started:
		w.t.Errorf("started %s", p.argv())
	default:
	}
}

// pty stands for a client's pty: the program behind it is a stream the test
// reads (what was typed) and writes (Emit); the child's end is a pipe.
func (w *world) pty(c *console.Client) (*os.File, error) {
	s := fakeio.NewStream()
	c.Attach(s)
	w.mu.Lock()
	w.ptys[c] = s
	w.mu.Unlock()
	r, wr, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	r.Close()
	return wr, nil
}

func (w *world) stream(c *console.Client) *fakeio.Stream {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ptys[c]
}

func (w *world) openTTY(name string) (*os.File, error) {
	w.mu.Lock()
	ok := w.ttys[name]
	w.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("open /dev/%s: no such device", name)
	}
	return os.Open(os.DevNull)
}

func (w *world) call(format string, args ...any) {
	w.mu.Lock()
	w.calls = append(w.calls, fmt.Sprintf(format, args...))
	w.mu.Unlock()
}

func (w *world) callList() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.calls, "; ")
}

func (w *world) kill(pid int, sig unix.Signal) error {
	w.call("kill %d %s", pid, unix.SignalName(sig))
	w.mu.Lock()
	f := w.onKill
	w.mu.Unlock()
	if f != nil {
		f(pid, sig)
	}
	return nil
}

func (w *world) sync() {
	w.call("sync")
	w.mu.Lock()
	ch := w.syncs
	w.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

func (w *world) doUnmount(target string, flags int) error {
	w.call("unmount %s %s", target, mount.UnmountFlagString(flags))
	if w.unmount != nil {
		return w.unmount(target, flags)
	}
	return nil
}

// proc writes a process's /proc/PID/stat line into the world's /proc.
func (w *world) proc(pid int, stat string) {
	d := filepath.Join(w.dir, "proc", fmt.Sprint(pid))
	os.MkdirAll(d, 0o755)
	if err := os.WriteFile(filepath.Join(d, "stat"), []byte(stat), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// gone removes a process from the world's /proc.
func (w *world) gone(pid int) { os.RemoveAll(filepath.Join(w.dir, "proc", fmt.Sprint(pid))) }

// logged says whether PID 1's log has s.
func (w *world) logged(s string) bool { return strings.Contains(w.out.String(), s) }

// waitLog waits for s in PID 1's log.
func (w *world) waitLog(s string) {
	w.t.Helper()
	eventually(w.t, fmt.Sprintf("%q in the log", s), func() bool { return w.logged(s) })
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
