package pid1

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"time"

	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/fakeio"
	"github.com/ants/ants/internal/hub"
	"github.com/ants/ants/internal/rootctl"
	"golang.org/x/sys/unix"
)

// rootctl over the control socket: its mode, and the lifecycle behind it.
func TestServeCtl(t *testing.T) {
	t.Parallel()
	in, _ := newTestInit(t)
	go in.serveCtl()
	sock := in.sys.CtlSocket
	// Its mode is set once it listens.
	eventually(t, "the control socket", func() bool { st, err := os.Stat(sock); return err == nil && st.Mode().Perm() == 0o600 })
	if st, _ := os.Stat(sock); st.Mode()&os.ModeSocket == 0 {
		t.Errorf("%s: %v", sock, st.Mode())
	}
	cl := rootctl.Client{Socket: sock}
	run := func(args ...string) (int, string) {
		var out, errw bytes.Buffer
		st := cl.Main(args, &out, &errw)
		return st, out.String() + errw.String()
	}
	if st, out := run("status"); st != 0 || !strings.Contains(out, "state: stopped") {
		t.Errorf("status: %d %q", st, out)
	}
	if st, out := run("start", "venti=tcp!10.0.2.100!564"); st != 0 || !strings.Contains(out, "started from 9p tcp!10.0.2.100!564") {
		t.Errorf("start: %d %q", st, out)
	}
	if b, _ := os.ReadFile(filepath.Join(in.sys.Env, "venti")); strings.TrimSpace(string(b)) != "tcp!10.0.2.100!564" {
		t.Errorf("/env/venti after the start: %q", b)
	}
	if st, out := run("status"); st != 0 || !strings.Contains(out, "state: running") {
		t.Errorf("status: %d %q", st, out)
	}
	if st, out := run("stop"); st != 0 {
		t.Errorf("stop: %d %q", st, out)
	}
	if st, _ := run("status"); st != 0 || !strings.Contains(in.root.Status(), "state: stopped") {
		t.Errorf("after the stop: %s", in.root.Status())
	}
	// A socket that cannot be made: rootctl will not work, PID 1 goes on.
	in, w := newTestInit(t)

	in.sys.CtlSocket = filepath.Join(w.dir, "none/ctl")
	in.serveCtl()
	if !w.logged("rootctl will not work") {
		t.Errorf("log:\n%s", w.out)
	}
}

// The hubs' socket serves the mux's clients; hub new starts a program through
// PID 1, hub kill signals its session.
func TestServeHubs(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	in.serveHubs() // no mux: nothing to serve
	if _, err := os.Stat(in.sys.HubSocket); !os.IsNotExist(err) {
		t.Errorf("a hub socket without a mux: %v", err)
	}
	withMux(in, w)
	go in.serveHubs()
	sock := in.sys.HubSocket
	eventually(t, "the hub socket", func() bool { st, err := os.Stat(sock); return err == nil && st.Mode().Perm() == 0o600 })
	hubCmd := func(args ...string) (int, string) {
		var out bytes.Buffer
		c := &hub.Client{Socket: sock, EscapeFile: filepath.Join(w.dir, "none"), In: strings.NewReader(""), Out: &out, Err: &out}
		st := c.Run(args)
		return st, out.String()
	}
	if st, out := hubCmd("list"); st != 0 || !strings.Contains(out, "admin") || !strings.Contains(out, "boot") {
		t.Errorf("list: %d %q", st, out)
	}
	if st, out := hubCmd("new", "work"); st != 0 {
		t.Errorf("new: %d %q", st, out)
	}
	p := w.nextProc()
	if p.argv() != BinDir+"/antsh" {
		t.Errorf("hub new started %s", p.argv())
	}
	if st, out := hubCmd("kill", "work"); st != 0 {
		t.Errorf("kill: %d %q", st, out)
	}
	if c := w.callList(); !strings.HasPrefix(c, fmt.Sprintf("kill %d SIGHUP; kill %d SIGCONT", -p.pid, -p.pid)) {
		t.Errorf("calls %s", c)
	}
	h := newHubs(in)
	if h.Focused() != in.boot || h.ByTTY(12345) != nil {
		t.Errorf("focused %v", h.Focused())
	}
	in, w = newTestInit(t)
	withMux(in, w)
	in.sys.HubSocket = filepath.Join(w.dir, "none/hub.sock")
	in.serveHubs()
	if !w.logged("init: hubs: listen unix") {
		t.Errorf("log:\n%s", w.out)
	}
}

// The power button: each press of KEY_POWER on its event device is SIGUSR2 to
// PID 1 (the orderly power-off), until the device ends.
func TestReadPowerButton(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	var b bytes.Buffer
	for _, e := range [][]byte{inputEvent(evKey, keyPower, 1), inputEvent(evKey, keyPower, 0), inputEvent(evKey, keyPower, 1), inputEvent(evKey, keyPower, 0)} {
		b.Write(e)
	}
	dev := filepath.Join(in.sys.Dev, "input/event3")
	writeFile(t, dev, b.String())
	in.readPowerButton("event3")
	if c := w.callList(); c != "kill 1 SIGUSR2; kill 1 SIGUSR2" {
		t.Errorf("calls %s", c)
	}
	for _, s := range []string{"power button on " + dev + ": pressing it powers off in order", "power button pressed: powering off", "init: power button " + dev + ": EOF"} {
		if !w.logged(s) {
			t.Errorf("no %q in the log:\n%s", s, w.out)
		}
	}
	// A device that never comes: 5 s of looking (devtmpfs may be late).
	in, w = newTestInit(t)
	in.readPowerButton("event9")
	var slept time.Duration
	for _, d := range w.clock.slept() {
		slept += d
	}
	if slept != 5*time.Second || !w.logged("init: power button: open ") || w.callList() != "" {
		t.Errorf("slept %v, calls %q; log:\n%s", slept, w.callList(), w.out)
	}
}

// watchPowerButton watches each power button of sysfs; with none it looks again
// for a minute. Modules it cannot load are logged.
func TestWatchPowerButton(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	in.watchPowerButton()
	var slept time.Duration
	for _, d := range w.clock.slept() {
		slept += d
	}
	if slept != time.Minute || strings.Count(w.out.String(), "no power button yet") != 1 || !w.logged("init: modules: ") {
		t.Errorf("slept %v; log:\n%s", slept, w.out)
	}
	in, w = newTestInit(t)
	d := filepath.Join(in.sys.Sysfs, "class/input/input0")
	writeFile(t, filepath.Join(d, "name"), "Power Button\n")
	os.MkdirAll(filepath.Join(d, "event0"), 0o755)
	writeFile(t, filepath.Join(in.sys.Dev, "input/event0"), string(inputEvent(evKey, keyPower, 1)))
	in.watchPowerButton()
	eventually(t, "the press", func() bool { return w.callList() == "kill 1 SIGUSR2" })
	if len(w.clock.slept()) != 0 {
		t.Errorf("slept %v with a button there", w.clock.slept())
	}
}

// startMux takes the kernel's consoles: a console that does not open is left
// out, the clients are made with the boot scripts' in front, PID 1's log goes to
// every console, and the escape key typed on one moves the focus.
func TestStartMux(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	dev, line := os.NewFile(uintptr(fds[0]), "ttyS0"), os.NewFile(uintptr(fds[1]), "line")
	t.Cleanup(func() { line.Close() })
	var shown fakeio.Buffer
	go io.Copy(&shown, line)
	in.sys.Consoles = func() []string { return []string{"tty0", "ttyS0"} }
	var opened atomic.Bool
	in.sys.OpenConsole = func(name string) (*os.File, error) {
		if name == "ttyS0" && !opened.Swap(true) {
			return dev, nil
		}
		return nil, fmt.Errorf("no %s", name)
	}
	in.conq = console.NewQueue(w.out, console.QueueSize)
	in.log.SetConsole(in.conq)
	in.startMux("bad")
	if in.mux == nil {
		t.Fatalf("no mux; log:\n%s", w.out)
	}
	for _, s := range []string{"ants.escape: ", "; using ^]", "init: console /dev/tty0: no tty0"} {
		if !w.logged(s) {
			t.Errorf("no %q in the log:\n%s", s, w.out)
		}
	}
	if in.mux.Focused() != in.boot || in.admin == nil || in.rootc == nil {
		t.Errorf("focus %v", in.mux.Focused())
	}
	// From now on the log goes to the console /dev/console writes to: its
	// queue is PID 1's log's.
	eventually(t, "the log on the console", func() bool {
		return strings.Contains(shown.String(), "console: ^] a admin shell, ^] r root console, ^] ? help")
	})

	line.Write([]byte{0x1d, 'a'})
	eventually(t, "the admin shell's focus", func() bool { return in.mux.Focused() == in.admin })
	eventually(t, "the hub socket", func() bool { st, err := os.Stat(in.sys.HubSocket); return err == nil && st.Mode().Perm() == 0o600 })

	// No console at all: children get the console itself.
	in, w = newTestInit(t)
	in.startMux("")
	if in.mux != nil || !w.logged("init: no console for the multiplexer; children get the console itself") {
		t.Errorf("mux %v; log:\n%s", in.mux, w.out)
	}
}

// openConsole takes the kernel's console for the children's terminal, or
// /dev/console when that does not open; startWith without a mux gives it to the
// child, and without any terminal PID 1's own stdio.
func TestOpenConsole(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	in.sys.Consoles = func() []string { return []string{"tty0", "ttyS1"} }
	in.openConsole()
	if in.ttyName != "console" || !w.logged("init: open /dev/ttyS1: open /dev/ttyS1: no such device; using /dev/console") {
		t.Errorf("tty %q; log:\n%s", in.ttyName, w.out)
	}
	in.sys.Consoles = func() []string { return nil }
	in.openConsole()
	if in.ttyName != "console" {
		t.Errorf("no console named: %q", in.ttyName)
	}
	w.mu.Lock()
	w.ttys = map[string]bool{}
	w.mu.Unlock()
	in.openConsole()
	if !w.logged("init: open the console: open /dev/console: no such device") {
		t.Errorf("log:\n%s", w.out)
	}
	ch, pid, err := in.startWith(nil, func(cmd *exec.Cmd) { cmd.Env = append(cmd.Env, "SHAPED=1") }, "/bin/prog", "a")
	p := w.nextProc()
	if err != nil || pid != p.pid || ch == nil || p.cmd.Stdin != os.Stdin || p.cmd.SysProcAttr.Setctty || !p.cmd.SysProcAttr.Setsid || p.cmd.Env[len(p.cmd.Env)-1] != "SHAPED=1" {
		t.Errorf("no terminal: %v %d %+v", err, pid, p.cmd.SysProcAttr)
	}
	w.exits["/bin/false"] = 1 << 8
	if ws, err := in.run(nil, "/bin/false"); err != nil || ws.ExitStatus() != 1 {
		t.Errorf("run: %v %v", ws, err)
	}
	w.startErr = os.ErrNotExist
	if _, err := in.run(nil, "/bin/none"); err != os.ErrNotExist {
		t.Errorf("run of none: %v", err)
	}
}

// The real machine's calls are the system's.
func TestRealSys(t *testing.T) {
	t.Parallel()
	in := &Init{reaper: NewReaper()}
	s := realSys(in)
	if s.Proc != "/proc" || s.Env != EnvDir || s.CtlSocket != rootctl.Socket || s.HubSocket != hub.Socket || s.Cgroup != cgroupRoot || s.RootPid != RootPidFile {
		t.Errorf("paths %+v", s.sysPaths)
	}
	if s.Kill(os.Getpid(), 0) != nil || s.Unmount(filepath.Join(t.TempDir(), "x"), 0) == nil {
		t.Errorf("kill or unmount")
	}
	if f, err := s.OpenTTY("null"); err != nil {
		t.Errorf("open /dev/null: %v", err)
	} else {
		f.Close()
	}
	if s.Start == nil || s.PTY == nil || s.OpenConsole == nil || s.Reboot == nil || s.Quit != nil {
		t.Errorf("a call missing, or a Quit")
	}
	if k := (&initSys{Consoles: func() []string { return []string{"tty0", "ttyS0"} }}).kernelConsole(); k != "ttyS0" {
		t.Errorf("kernel console %q", k)
	}
}

// release, totalBytes and cmdline read the running kernel.
func TestKernelFacts(t *testing.T) {
	t.Parallel()
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	if r := release(); r != strings.TrimSpace(string(b)) {
		t.Errorf("release %q, /proc says %q", r, b)
	}
	if totalMiB() == 0 || totalBytes()>>20 != totalMiB() {
		t.Errorf("memory %d MiB", totalMiB())
	}
	b, _ = os.ReadFile("/proc/cmdline")
	if cmdline() != string(b) {
		t.Errorf("cmdline %q", cmdline())
	}
}
