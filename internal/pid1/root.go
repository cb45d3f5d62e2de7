package pid1

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/guard"
	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/power"
	"github.com/ants/ants/internal/rootctl"
	"github.com/ants/ants/internal/rootsys"
	"golang.org/x/sys/unix"
)

// RootPidFile holds the pid of the root's init while it runs (for reroot).
const RootPidFile = rootctl.RootPidFile

// cgroupRoot is cgroup2, mounted by PID 1; each start of the root gets a fresh
// cgroup under it, entered at clone time, with a cgroup namespace of its own.
const cgroupRoot = "/sys/fs/cgroup"

// stopGrace is how long the root's init gets after its stop signal before
// SIGKILL; a systemd, whose orderly shutdown under TCG takes longer, gets
// systemdGrace.
const (
	stopGrace    = 10 * time.Second
	systemdGrace = 30 * time.Second
)

// RootDevDir is where PID 1 keeps the contained root's /dev (guard.DevDir).
const RootDevDir = "/run/ants/rootdev"

// rootMachine is the machine under the root's lifecycle (LifeSys): the child in
// its namespaces and cgroup, its /dev, its console on the mux, the probes.
type rootMachine struct {
	in *Init
	mu sync.Mutex
	// The root's own /dev, for hotplug: an O_PATH descriptor of RootDevDir's
	// tmpfs of this start, -1 when the root uses devtmpfs (ants.rootpriv=full).
	devfd      int
	hotplugged bool // the uevent reader is running
}

func newRootMachine(in *Init) *rootMachine { return &rootMachine{in: in, devfd: -1} }

// newLife makes PID 1's root lifecycle over the machine.
func newLife(in *Init) *Life {
	return NewLife(newRootMachine(in), func(format string, args ...any) { in.log.Printf(format, args...) })
}

// envVars reads the boot variables of the directory dir, with overrides.
func envVars(dir string, over map[string]string) func(string) string {
	env, _ := bootvar.ReadEnv(dir)
	return func(k string) string {
		if v, ok := over[k]; ok {
			return v
		}
		return env[k]
	}
}

func (in *Init) startRoot(src rootsys.Source, focus bool) (int, error) {
	return in.root.Start(src, focus)
}
func (in *Init) stopRoot(grace time.Duration) error { return in.root.Stop(grace) }
func (in *Init) rootStatus() string                 { return in.root.Status() }

// Start clones the root child (`ants root-child SOURCE`) into new mount, PID, UTS
// and cgroup namespaces, in root-N/init, on the root console's pty.
func (m *rootMachine) Start(src rootsys.Source, n int, focus bool) (*Child, error) {
	in := m.in
	begin := time.Now()
	os.Remove(rootsys.ErrFile)
	os.Remove(rootsys.ServerFile)
	src.DevDir = ""
	if !src.Full {
		src.DevDir = m.newRootDev()
	}
	cg, cgfd := in.newCgroup(n, src)
	// The child hands a 9P root's connection back on this socket (rootsys.Source
	// Transport): PID 1 can then break it at once when the root hangs.
	back, childEnd := transportPair()
	if childEnd != nil {
		src.Transport = 3
	}
	shape := func(cmd *exec.Cmd) {
		a := cmd.SysProcAttr
		a.Cloneflags = unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP
		// An init has no controlling terminal: its getty or shell takes the console
		// (the pty) as its own, which it could not if init held it.
		a.Setctty = false
		if cgfd >= 0 {
			a.UseCgroupFD, a.CgroupFD = true, cgfd
		}
		if childEnd != nil {
			cmd.ExtraFiles = []*os.File{childEnd}
		}
	}
	ch, pid, err := in.startWith(in.rootc, shape, BinDir+"/ants", "root-child", src.Encode())
	if cgfd >= 0 {
		unix.Close(cgfd)
	}
	if childEnd != nil {
		childEnd.Close()
	}
	if err != nil {
		if back != nil {
			back.Close()
		}
		removeCgroup(cg)
		return nil, err
	}
	t := &transport{}
	if back != nil {
		go in.safe("root transport", func() {
			t.take(back, func(init string) {
				in.log.Printf("root system: %s mounted; its init %s starts (%d ms)", src, init, time.Since(begin).Milliseconds())
			})
		})
	}
	mntns, _ := os.Open(fmt.Sprintf("%s/%d/ns/mnt", in.sys.Proc, pid))
	var once sync.Once
	c := &Child{
		Pid:   pid,
		Exit:  ch,
		Break: t.shut,
		Abort: func() <-chan struct{} { return in.abortRootMounts(mntns) },
		Drop: func() {
			once.Do(func() {
				t.drop()
				if mntns != nil {
					mntns.Close()
				}
			})
		},
		Reaped: func() { removeCgroup(cg) },
	}
	if in.mux != nil {
		in.rootc.Mark("root system %d starting from %s (pid %d)", n, src, pid)
		if focus {
			c.Note = "; its console has the focus"
			in.mux.Focus(in.rootc)
		} else {
			c.Note = fmt.Sprintf("; %s r for its console", console.KeyName(in.mux.Escape()))
		}
	}
	return c, nil
}

func (m *rootMachine) Kill(pid int, sig unix.Signal) { m.in.sys.Kill(pid, sig) }

func (m *rootMachine) StopSignal(pid int) (unix.Signal, string, time.Duration) {
	return stopSignal(m.in.sys.Proc, pid)
}

// Probe runs the probe helper (helpers.go): a child that looks at the root's "/"
// through its namespace.
func (m *rootMachine) Probe(pid int) (<-chan unix.WaitStatus, func(), error) {
	cmd := exec.Command(helperPath(), "probe", strconv.Itoa(pid))
	cmd.Args[0] = HelperName
	cmd.Env = m.in.env
	// exec would open /dev/null for unset stdio inside the reaper's lock; give
	// it the one PID 1 holds open.
	if n := devNull(); n != nil {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = n, n, n
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	ch, err := m.in.sys.Start(cmd)
	if err != nil {
		return nil, nil, err
	}
	return ch, func() { m.in.sys.Kill(cmd.Process.Pid, unix.SIGKILL) }, nil
}

func (m *rootMachine) Vars() func(string) string { return m.in.rootVars(nil) }

func (m *rootMachine) Server() string { return currentServer(m.in.sys.RootServer) }

func (m *rootMachine) RootFocused() bool {
	return m.in.mux == nil || m.in.mux.Focused() == m.in.rootc
}

func (m *rootMachine) Hint() string {
	if m.in.mux == nil {
		// No multiplexer: no escape key; the admin shell shares the console.
		return "rootctl stop or restart in the admin shell"
	}
	return console.KeyName(m.in.mux.Escape()) + " a for the admin shell, then rootctl stop or restart"
}

func (m *rootMachine) Record(pid int) {
	if pid == 0 {
		os.Remove(m.in.sys.RootPid)
		return
	}
	os.WriteFile(m.in.sys.RootPid, []byte(fmt.Sprintf("%d\n", pid)), 0o644)
}

// currentServer is the server the running root came from (rootsys.ServerFile).
func currentServer(file string) string {
	b, _ := os.ReadFile(file)
	return strings.TrimSpace(string(b))
}

// abortRootMounts starts the root-abort helper (helpers.go) in the root's mount namespace (handed
// over as fd 3); the channel is closed when it has ended (nil: not started).
func (in *Init) abortRootMounts(ns *os.File) <-chan struct{} {
	if ns == nil {
		return nil
	}
	cmd := exec.Command(helperPath(), "root-abort")
	cmd.Args[0] = HelperName
	cmd.ExtraFiles = []*os.File{ns}
	cmd.Env = in.env
	if n := devNull(); n != nil {
		cmd.Stdin = n
	}
	abortLog := in.sys.AbortLog
	f, err := os.Create(abortLog)
	if err == nil {
		cmd.Stdout, cmd.Stderr = f, f
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	ch, err := in.sys.Start(cmd)
	if f != nil {
		f.Close()
	}
	if err != nil {
		in.log.Printf("root system: root-abort: %v", err)
		return nil
	}
	done := make(chan struct{})
	go func() {
		ws := <-ch
		if !ws.Exited() || ws.ExitStatus() != 0 {
			b, _ := os.ReadFile(abortLog)
			in.log.Printf("root system: root-abort %s: %s", Describe(ws), strings.TrimSpace(string(b)))
		}
		close(done)
	}()
	return done
}

// rootExited applies the policy (decideExit) when the root's init ends by itself.
func (in *Init) rootExited(ev rootEvent) {
	in.log.Printf("root system: init %s after %s", Describe(ev.ws), ev.runFor.Round(time.Millisecond))
	if b, err := os.ReadFile(in.sys.RootErr); err == nil && len(b) > 0 {
		in.log.Printf("root system: %s", strings.TrimSpace(string(b)))
	}
	act := decideExit(ev, in.rootVars(nil)("ants.onrootexit"), in.askAgain())
	for _, n := range act.notes {
		in.log.Printf("%s", n)
	}
	switch {
	case act.power != "":
		a, _ := power.ByName(act.power)
		in.shutdown(a)
	case len(act.ask) > 0:
		if in.mux != nil {
			in.mux.Focus(in.boot)
		}
		// The dialogue waits for a person: beside the supervise loop, so power
		// signals and shell restarts are served meanwhile.
		go in.safe("ask again", func() {
			in.boot.SetState("")
			ws, _ := in.run(in.boot, BinDir+"/ants", append([]string{"ask"}, act.ask...)...)
			in.boot.SetState(Describe(ws))
			if in.powerDown.Load() {
				return
			}
			in.autoStartRoot()
			if in.mux != nil && in.mux.Focused() == in.boot {
				in.focusAdmin()
			}
		})
	case act.restart:
		if _, err := in.startRoot(ev.src, true); err != nil {
			in.log.Printf("root system: %v", err)
		}
	default:
		in.focusAdmin()
	}
}

// askAgain names the root variables the boot set to "ask": from the record of
// the variables PID 1 wrote (bootvar.RecordFile), else its own snapshot.
func (in *Init) askAgain() []string {
	if names, err := bootvar.AskedAtBoot(in.sys.Record, "root", "venti"); err == nil {
		return names
	}
	var names []string
	for _, n := range []string{"root", "venti"} {
		if in.vars != nil && in.vars.Value(n) == bootvar.Ask {
			names = append(names, n)
		}
	}
	return names
}

// autoStartRoot starts the root if the variables name one.
func (in *Init) autoStartRoot() {
	src, err := rootsys.FromVars(in.rootVars(nil))
	if err != nil {
		in.log.Printf("root system: %v; admin shell only", err)
		return
	}
	if src.Kind == rootsys.None {
		in.log.Printf("no root configured (root=, venti=): admin shell only")
		return
	}
	// The root's console takes the console, unless the admin shell has it and
	// someone used it (Ctrl-] a during the boot scripts, or typed at the prompt
	// promptFirst gave): that admin keeps it.
	focus := in.mux == nil || in.mux.Focused() != in.admin || !in.admin.Used()
	if _, err := in.startRoot(src, focus); err != nil {
		in.log.Printf("root system: %v", err)
	}
}

// newCgroup makes a fresh cgroup for a start of the root, root-N, with the
// limits and the device filter, and below it root-N/init, which the root is cloned
// into (CLONE_INTO_CGROUP) and which is the root of its cgroup namespace: the
// limits and the filter sit above what the root can see or write. It returns
// root-N and a descriptor of root-N/init; -1 when cgroup2 is not there (the root
// then shares PID 1's).
func (in *Init) newCgroup(n int, src rootsys.Source) (string, int) {
	dir := filepath.Join(in.sys.Cgroup, fmt.Sprintf("root-%d", n))
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		in.log.Printf("root system: cgroup %s: %v; the root shares PID 1's cgroup, with no limits and no device filter", dir, err)
		return "", -1
	}
	get := in.rootVars(nil)
	lim, err := guard.ParseLimits(get("ants.rootmem"), get("ants.rootpids"), guard.ReadMachine(in.sys.Proc))
	if err != nil {
		in.log.Printf("root system: %v; using auto", err)
		lim, _ = guard.ParseLimits("auto", "auto", guard.ReadMachine(in.sys.Proc))
	}
	if err := lim.Write(dir); err != nil {
		in.log.Printf("root system: %v", err)
	}
	what := "limits: " + lim.String()
	if !src.Full {
		if err := guard.AttachDeviceFilter(dir, guard.RootDevices, in.adminBlock...); err != nil {
			in.log.Printf("root system: %v; the root can open every device", err)
		} else {
			what += "; device filter on"
		}
	}
	in.log.Printf("root system: cgroup %s, %s", dir, what)
	os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+cpu +io +memory +pids"), 0o644)
	initDir := filepath.Join(dir, "init")
	if err := os.Mkdir(initDir, 0o755); err != nil && !os.IsExist(err) {
		in.log.Printf("root system: cgroup %s: %v; the root shares PID 1's cgroup", initDir, err)
		return dir, -1
	}
	fd, err := unix.Open(initDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return dir, -1
	}
	return dir, fd
}

// newRootDev mounts a fresh tmpfs on RootDevDir for the root's /dev and fills it;
// the one of an earlier start is detached (an abandoned root may still hold it).
// It returns the directory, or "" when it cannot be made (the root then gets a
// devtmpfs, and the log says so).
func (m *rootMachine) newRootDev() string {
	in := m.in
	m.mu.Lock()
	if m.devfd >= 0 {
		unix.Close(m.devfd)
		m.devfd = -1
	}
	m.mu.Unlock()
	mount.Unmount(RootDevDir, unix.MNT_DETACH)
	os.MkdirAll(RootDevDir, 0o755)
	if err := mount.Mount("tmpfs", RootDevDir, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755,size=4m,nr_inodes=64k"); err != nil {
		in.log.Printf("root system: a /dev of its own: %v; it gets the kernel's devtmpfs", err)
		return ""
	}
	d := guard.DevDir{Path: RootDevDir, Host: "/dev", Sys: "/sys", Hidden: in.adminBlock}
	if err := d.Fill(); err != nil {
		in.log.Printf("root system: %v", err)
	}
	fd, err := unix.Open(RootDevDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	m.mu.Lock()
	if err == nil {
		m.devfd = fd
	}
	start := !m.hotplugged
	m.hotplugged = true
	m.mu.Unlock()
	if start {
		go in.safe("hotplug", func() { m.hotplug(d) })
	}
	return RootDevDir
}

// hotplug keeps the root's /dev in step with the machine's block devices. It holds
// the root's lock only to read the descriptor, never while it makes a node.
func (m *rootMachine) hotplug(d guard.DevDir) {
	in := m.in
	err := guard.Uevents(func(ev guard.Uevent) {
		r := m
		r.mu.Lock()
		fd := r.devfd
		if fd >= 0 {
			// A descriptor of its own, so a restart closing r.devfd cannot pull it
			// from under the call.
			fd, _ = unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		}
		r.mu.Unlock()
		if fd < 0 {
			return
		}
		defer unix.Close(fd)
		if err := d.Apply(fd, ev); err != nil {
			in.log.Printf("root system: hotplug: %v", err)
		}
	})
	in.log.Printf("root system: hotplug ended: %v; new block devices will not reach the root's /dev", err)
}

// stopSignal is the signal that asks the root's init for its orderly shutdown,
// and how long that may take: SIGRTMIN+3 for systemd (to which SIGTERM means
// "re-execute yourself"; systemd-nspawn sends the same), SIGTERM for the rest.
// The name comes from /proc/PID/exe, which the kernel answers from memory,
// without a lookup in the root's file system.
func stopSignal(proc string, pid int) (unix.Signal, string, time.Duration) {
	exe, _ := os.Readlink(fmt.Sprintf("%s/%d/exe", proc, pid))

	if strings.Contains(filepath.Base(exe), "systemd") {
		// glibc's SIGRTMIN is the kernel's 32 + 2.
		return unix.Signal(34 + 3), "SIGRTMIN+3", systemdGrace
	}
	return unix.SIGTERM, "SIGTERM", stopGrace
}

// removeCgroup removes a root's cgroup tree, deepest first.
func removeCgroup(dir string) {
	if dir == "" {
		return
	}
	var dirs []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		unix.Rmdir(d)
	}
}
