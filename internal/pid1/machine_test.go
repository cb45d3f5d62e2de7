package pid1

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/rootsys"
	"golang.org/x/sys/unix"
)

// The policies when the root ends by itself, applied: the machine goes, the
// boot's questions come again, the root starts again, or the admin shell gets
// the console.
func TestRootExited(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		ws      unix.WaitStatus
		runFor  time.Duration
		onExit  string
		askRoot bool // the boot set root=ask
		errFile string
		reboot  string // the reboot(2) call
		starts  int    // the root's starts after the one that ended
		ask     string // the ants ask started
		log     []string
	}{
		{name: "reboot(2) power off in the root", ws: unix.WaitStatus(unix.SIGINT), reboot: "reboot 0x4321fedc", log: []string{"root system: init killed by SIGINT after 1m0s", "powering off: synced"}},
		{name: "reboot(2) restart in the root", ws: unix.WaitStatus(unix.SIGHUP), reboot: "reboot 0x1234567", log: []string{"rebooting: synced"}},
		{name: "onrootexit=poweroff", ws: 0, onExit: "poweroff", reboot: "reboot 0x4321fedc"},
		{name: "onrootexit=restart", ws: 0, onExit: "restart", starts: 1, log: []string{"root system: restarting (ants.onrootexit=restart)"}},
		{name: "restart, but it lived 1 s", ws: 0, runFor: time.Second, onExit: "restart", log: []string{"it lived less than 5 s; not restarting", "root system: down; admin shell"}},
		{name: "the admin shell", ws: 1 << 8, errFile: "no such export\n", log: []string{"root system: init exited with status 1 after 1m0s", "root system: no such export", "root system: down; admin shell"}},
		{name: "a bad source asks again", ws: unix.WaitStatus(rootsys.ExitSource << 8), askRoot: true, ask: BinDir + "/ants ask root", log: []string{"root system: asking again for root"}},
		{name: "a bad source, nothing asked", ws: unix.WaitStatus(rootsys.ExitSource << 8), log: []string{"root system: down; admin shell"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, w := newTestInit(t)
			withMux(in, w)
			in.mux.Focus(in.rootc)
			w.exits[BinDir+"/ants"] = 0
			if tc.onExit != "" {
				writeFile(t, filepath.Join(in.sys.Env, "ants.onrootexit"), tc.onExit+"\n")
			}
			if tc.errFile != "" {
				writeFile(t, in.sys.RootErr, tc.errFile)
			}
			if tc.askRoot {
				in.vars, _ = bootvar.Load("root=ask")
			}
			runFor := tc.runFor
			if runFor == 0 {
				runFor = time.Minute
			}
			src := ninePSource(t)
			in.rootExited(rootEvent{ws: tc.ws, src: src, runFor: runFor})
			if tc.ask != "" {
				p := w.nextProc()
				if p.argv() != tc.ask || p.cmd.Stdin == nil {
					t.Errorf("started %s", p.argv())
				}
				// The dialogue over, the admin shell gets the console back (unless
				// the root it started took it).
				eventually(t, "the focus back", func() bool { return in.mux.Focused() != in.boot })
			}
			calls := w.callList()
			if tc.reboot != "" && !strings.HasSuffix(calls, tc.reboot) || tc.reboot == "" && strings.Contains(calls, "reboot") {
				t.Errorf("calls %q, want the end %q", calls, tc.reboot)
			}
			if got := in.root.Sys.(*fakeSys).starts; len(got) != tc.starts || tc.starts > 0 && !reflect.DeepEqual(got[0], src) {
				t.Errorf("starts %v, want %d of %v", got, tc.starts, src)
			}
			if tc.reboot == "" && tc.starts == 0 && tc.ask == "" && in.mux.Focused() != in.admin {
				t.Errorf("the console shows %s, want the admin shell", in.mux.Focused().Name)
			}
			for _, s := range tc.log {
				if !w.logged(s) {
					t.Errorf("no %q in the log:\n%s", s, w.out)
				}
			}
		})
	}
}

// askAgain reads what the boot set to "ask" from the record PID 1 wrote, and
// without it from its own snapshot of the variables.
func TestAskAgain(t *testing.T) {
	t.Parallel()
	in, _ := newTestInit(t)
	if got := in.askAgain(); len(got) != 0 {
		t.Errorf("nothing asked: %q", got)
	}
	in.vars, _ = bootvar.Load("venti=ask")
	if got := in.askAgain(); !reflect.DeepEqual(got, []string{"venti"}) {
		t.Errorf("snapshot: %q", got)
	}
	rec, _ := bootvar.Load("root=ask venti=ask")
	if err := rec.WriteRecord(in.sys.Record); err != nil {
		t.Fatal(err)
	}
	if got := in.askAgain(); !reflect.DeepEqual(got, []string{"root", "venti"}) {
		t.Errorf("record: %q", got)
	}
}

// autoStartRoot with no root named (the host has no /env): the admin shell only.
func TestAutoStartRootNone(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(EnvDir); err == nil {
		t.Skip(EnvDir + " exists here")
	}
	in, w := newTestInit(t)
	in.autoStartRoot()
	if !w.logged("no root configured (root=, venti=): admin shell only") {
		t.Errorf("log:\n%s", w.out)
	}
}

// The root machine's calls go to the world: its stop signal from /proc/PID/exe,
// the probe helper, the pid file, the server file, the variables of /env.
func TestRootMachine(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	m := newRootMachine(in)
	os.MkdirAll(filepath.Join(w.dir, "proc/50"), 0o755)
	os.Symlink("/usr/lib/systemd/systemd", filepath.Join(w.dir, "proc/50/exe"))
	os.MkdirAll(filepath.Join(w.dir, "proc/51"), 0o755)
	os.Symlink("/sbin/init", filepath.Join(w.dir, "proc/51/exe"))
	for pid, want := range map[int]string{50: "SIGRTMIN+3 30s", 51: "SIGTERM 10s", 52: "SIGTERM 10s"} {
		sig, name, grace := m.StopSignal(pid)
		if got := name + " " + grace.String(); got != want || name == "SIGTERM" && sig != unix.SIGTERM || name != "SIGTERM" && sig != 37 {
			t.Errorf("stop signal of %d: %s (%d), want %s", pid, got, sig, want)
		}
	}
	done, kill, err := m.Probe(77)
	if err != nil {
		t.Fatal(err)
	}
	p := w.nextProc()
	if p.cmd.Path != helperPath() || strings.Join(p.cmd.Args, " ") != HelperName+" probe 77" || !p.cmd.SysProcAttr.Setsid || p.exit != done {
		t.Errorf("probe: %s %q %+v", p.cmd.Path, p.cmd.Args, p.cmd.SysProcAttr)
	}
	kill()
	m.Kill(77, unix.SIGTERM)
	if got := w.callList(); got != "kill "+strconv.Itoa(p.pid)+" SIGKILL; kill 77 SIGTERM" {
		t.Errorf("calls %s", got)
	}
	m.Record(123)
	if b, _ := os.ReadFile(in.sys.RootPid); string(b) != "123\n" {
		t.Errorf("pid file %q", b)
	}
	m.Record(0)
	if _, err := os.Stat(in.sys.RootPid); !os.IsNotExist(err) {
		t.Errorf("pid file after the end: %v", err)
	}
	writeFile(t, in.sys.RootServer, "tcp!10.0.2.101!564\n")
	writeFile(t, filepath.Join(in.sys.Env, "ants.onroothang"), "failover\n")
	if s, v := m.Server(), m.Vars()("ants.onroothang"); s != "tcp!10.0.2.101!564" || v != "failover" {
		t.Errorf("server %q, ants.onroothang %q", s, v)
	}
}

// The root-abort helper gets the root's mount namespace as fd 3; its output is
// logged when it fails, and the channel closes when it ends.
func TestAbortRootMounts(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	if in.abortRootMounts(nil) != nil {
		t.Errorf("no namespace: a helper")
	}
	ns, _ := os.Open(os.DevNull)
	defer ns.Close()
	w.onStart = func(cmd *exec.Cmd) {
		cmd.Stdout.(*os.File).WriteString("root-abort: /: device or resource busy\n")
	}
	done := in.abortRootMounts(ns)
	p := w.nextProc()
	if strings.Join(p.cmd.Args, " ") != HelperName+" root-abort" || len(p.cmd.ExtraFiles) != 1 || p.cmd.ExtraFiles[0] != ns {
		t.Errorf("root-abort: %q, extra files %v", p.cmd.Args, p.cmd.ExtraFiles)
	}
	p.exit <- 1 << 8
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("not done")
	}
	if !w.logged("root system: root-abort exited with status 1: root-abort: /: device or resource busy") {
		t.Errorf("log:\n%s", w.out)
	}
	w.startErr = os.ErrPermission
	if in.abortRootMounts(ns) != nil || !w.logged("root system: root-abort: permission denied") {
		t.Errorf("a helper that cannot start; log:\n%s", w.out)
	}
}

// A root's start (ants.rootpriv=full: no /dev of its own, no device filter):
// its cgroup with the limits, the clone into root-N/init, its transport's end as
// fd 3, and the console's focus.
func TestRootMachineStart(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	withMux(in, w)
	writeFile(t, filepath.Join(w.dir, "proc/meminfo"), "MemTotal:        1024000 kB\n")
	writeFile(t, filepath.Join(in.sys.Env, "ants.rootmem"), "256m\n")
	writeFile(t, filepath.Join(in.sys.Env, "ants.rootpids"), "500\n")
	m := newRootMachine(in)
	src := ninePSource(t)
	src.Full = true
	c, err := m.Start(src, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	p := w.nextProc()
	a := p.cmd.SysProcAttr
	if a.Cloneflags != unix.CLONE_NEWNS|unix.CLONE_NEWPID|unix.CLONE_NEWUTS|unix.CLONE_NEWCGROUP || a.Setctty || !a.Setsid || !a.UseCgroupFD {
		t.Errorf("the root child's attributes: %+v", a)
	}
	if len(p.cmd.Args) != 3 || p.cmd.Args[1] != "root-child" || len(p.cmd.ExtraFiles) != 1 {
		t.Errorf("the root child: %q, %d extra files", p.cmd.Args, len(p.cmd.ExtraFiles))
	}
	dec, err := rootsys.Decode(p.cmd.Args[2])
	if err != nil || dec.Transport != 3 || dec.DevDir != "" || !dec.Full {
		t.Errorf("its source: %+v, %v", dec, err)
	}
	cg := filepath.Join(in.sys.Cgroup, "root-3")
	for f, want := range map[string]string{"memory.max": "268435456", "pids.max": "500", "cgroup.subtree_control": "+cpu +io +memory +pids"} {
		if b, _ := os.ReadFile(filepath.Join(cg, f)); strings.TrimSpace(string(b)) != want {
			t.Errorf("%s: %q, want %q", f, b, want)
		}
	}
	if st, err := os.Stat(filepath.Join(cg, "init")); err != nil || !st.IsDir() {
		t.Errorf("root-3/init: %v", err)
	}
	if c.Pid != p.pid || c.Note != "; its console has the focus" || in.mux.Focused() != in.rootc {
		t.Errorf("child %+v; focus %s", c, in.mux.Focused().Name)
	}
	if c.Break() {
		t.Errorf("a connection to break before the child handed one")
	}
	c.Drop()
	if !w.logged("root system: cgroup " + cg + ", limits: ") {
		t.Errorf("log:\n%s", w.out)
	}
	// A start that fails removes its cgroup (here the files of the limits,
	// which a cgroup2 has not, keep root-4 itself).
	w.startErr = os.ErrNotExist
	if _, err := m.Start(src, 4, false); err == nil {
		t.Errorf("a failed start")
	}
	if _, err := os.Stat(filepath.Join(in.sys.Cgroup, "root-4/init")); !os.IsNotExist(err) {
		t.Errorf("root-4/init after a failed start: %v", err)
	}

}

// Without cgroup2 the root shares PID 1's cgroup, and says so.
func TestNewCgroupWithoutCgroup2(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	in.sys.Cgroup = filepath.Join(w.dir, "none")
	dir, fd := in.newCgroup(1, rootsys.Source{})
	if dir != "" || fd != -1 || !w.logged("the root shares PID 1's cgroup, with no limits and no device filter") {
		t.Errorf("%q %d; log:\n%s", dir, fd, w.out)
	}
}

// removeCgroup removes the tree deepest first (a cgroup's files are no files).
func TestRemoveCgroup(t *testing.T) {
	t.Parallel()
	d := filepath.Join(t.TempDir(), "root-1")
	os.MkdirAll(filepath.Join(d, "init/a/b"), 0o755)
	os.MkdirAll(filepath.Join(d, "init/c"), 0o755)
	removeCgroup(d)
	if _, err := os.Stat(d); !os.IsNotExist(err) {
		t.Errorf("left: %v", err)
	}
	removeCgroup("")
}

// setupCgroups mounts cgroup2 and hands the controllers down; when the mount
// fails it says so and writes nothing.
func TestSetupCgroups(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	setupCgroups(in)
	if c := w.callList(); c != "mount cgroup2 "+in.sys.Cgroup {
		t.Errorf("calls %s", c)
	}
	if b, _ := os.ReadFile(filepath.Join(in.sys.Cgroup, "cgroup.subtree_control")); string(b) != "+cpu +io +memory +pids" {
		t.Errorf("subtree_control %q", b)
	}
	in, w = newTestInit(t)
	in.sys.Mount = func(e mount.Entry) error {
		if e.Data != "nsdelegate" || e.FSType != "cgroup2" {
			t.Errorf("mount %+v", e)
		}
		return unix.ENODEV
	}
	setupCgroups(in)
	if _, err := os.Stat(filepath.Join(in.sys.Cgroup, "cgroup.subtree_control")); !os.IsNotExist(err) || !w.logged("init: no such device") {
		t.Errorf("subtree_control: %v; log:\n%s", err, w.out)
	}
}
