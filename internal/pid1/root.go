package pid1

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/guard"
	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/power"
	"github.com/ants/ants/internal/rootsys"
	"golang.org/x/sys/unix"
)

// CtlSocket is where rootctl talks to PID 1.
const CtlSocket = "/run/ants/ctl"

// RootPidFile holds the pid of the root's init while it runs (for reroot).
const RootPidFile = "/run/ants/root.pid"

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

// Root system states.
const (
	rootStopped  = "stopped"
	rootRunning  = "running"
	rootStopping = "stopping"
)

// rootSys is PID 1's view of the root system.
type rootSys struct {
	mu      sync.Mutex
	state   string
	src     rootsys.Source
	pid     int
	started time.Time
	starts  int
	last    string        // how the last one ended
	exited  chan struct{} // closed when the current one is gone
	cgroup  string
	events  chan rootEvent
	gen     int      // counts starts; a late exit of an abandoned root is ignored
	mntns   *os.File // the root's mount namespace, for aborting its mounts
	// transport is a 9P root's connection to its server (transport.go).
	transport *os.File
	// The root's own /dev, for hotplug: an O_PATH descriptor of RootDevDir's
	// tmpfs of this start, -1 when the root uses devtmpfs (ants.rootpriv=full).
	devfd      int
	hotplugged bool // the uevent reader is running
	// The watchdog's view.
	hung      bool
	hungSince time.Time
	probeErr  string
	acting    bool // ants.onroothang is stopping and starting it
}

type rootEvent struct {
	ws     unix.WaitStatus
	src    rootsys.Source
	runFor time.Duration
}

func newRootSys() *rootSys {
	return &rootSys{state: rootStopped, events: make(chan rootEvent, 4), devfd: -1}
}

// rootVars reads the boot variables as they stand (/env), with overrides.
func rootVars(over map[string]string) func(string) string {
	env, _ := bootvar.ReadEnv(EnvDir)
	return func(k string) string {
		if v, ok := over[k]; ok {
			return v
		}
		return env[k]
	}
}

// startRoot starts the root system from src.
func (in *Init) startRoot(src rootsys.Source, focus bool) (int, error) {
	r := in.root
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != rootStopped {
		return 0, fmt.Errorf("the root system is %s (pid %d); rootctl stop or restart first", r.state, r.pid)
	}
	if src.Kind == rootsys.None {
		return 0, fmt.Errorf("no root configured: set root= or venti= (rootctl start venti=tcp!HOST!PORT)")
	}
	os.Remove(rootsys.ErrFile)
	os.Remove(rootsys.ServerFile)
	r.starts++
	src.DevDir = ""
	if !src.Full {
		src.DevDir = in.newRootDev()
	}
	cg, cgfd := in.newCgroup(r.starts, src)
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
		return 0, fmt.Errorf("starting the root system: %v", err)
	}
	r.state, r.src, r.pid, r.started, r.cgroup = rootRunning, src, pid, time.Now(), cg
	r.exited = make(chan struct{})
	r.gen++
	gen := r.gen
	r.hung, r.probeErr = false, ""
	exited := r.exited
	if back != nil {
		go in.safe("root transport", func() { in.takeTransport(back, gen) })
	}
	if f, err := os.Open(fmt.Sprintf("/proc/%d/ns/mnt", pid)); err == nil {
		r.mntns = f
	}
	os.WriteFile(RootPidFile, []byte(fmt.Sprintf("%d\n", pid)), 0o644)
	if in.mux != nil {
		in.rootc.Mark("root system %d starting from %s (pid %d)", r.starts, src, pid)
	}
	switch {
	case in.mux == nil:
		in.log.Printf("root system: starting from %s (pid %d)", src, pid)
	case focus:
		in.log.Printf("root system: starting from %s (pid %d); its console has the focus", src, pid)
		in.mux.Focus(in.rootc)
	default:
		in.log.Printf("root system: starting from %s (pid %d); %s r for its console", src, pid, console.KeyName(in.mux.Escape()))
	}
	mntns := r.mntns
	go in.safe("root wait", func() {
		ws := <-ch
		if mntns != nil {
			mntns.Close()
		}
		r.mu.Lock()
		if r.gen != gen {
			// A root abandoned by stop (stuck in D state) ended at last.
			r.mu.Unlock()
			in.log.Printf("root system: the abandoned root (pid %d) is gone at last", pid)
			removeCgroup(cg)
			return
		}
		stopping := r.state == rootStopping
		runFor := time.Since(r.started)
		r.state, r.pid, r.mntns = rootStopped, 0, nil
		r.dropTransport()
		r.last = Describe(ws)
		r.mu.Unlock()
		os.Remove(RootPidFile)
		close(exited)
		removeCgroup(cg)
		if !stopping {
			r.events <- rootEvent{ws: ws, src: src, runFor: runFor}
		}
	})
	return pid, nil
}

// stopRoot stops the root: its init's stop signal (stopSignal), a grace period,
// then SIGKILL, which ends its whole PID namespace. Its mounts go with its mount
// namespace; processes stuck in D state on a dead server do not hold the caller.
// grace 0 takes the init's own (stopSignal).
func (in *Init) stopRoot(grace time.Duration) error {
	r := in.root
	r.mu.Lock()
	if r.state == rootStopped {
		r.mu.Unlock()
		return nil
	}
	r.state = rootStopping
	pid, exited := r.pid, r.exited
	sig, sigName, initGrace := stopSignal(pid)
	if grace == 0 {
		grace = initGrace
	}
	hung := r.hung
	r.mu.Unlock()
	stopped := func(d time.Duration) bool {
		select {
		case <-exited:
			in.log.Printf("root system: stopped")
			return true
		case <-time.After(d):
			return false
		}
	}
	if hung {
		// A root the watchdog finds not responding cannot shut down in order: its
		// file system does not answer. No grace; its connection is broken first,
		// so that the processes SIGKILL wakes do not wait for the dead server.
		broke := in.breakTransport()
		how := "SIGKILL to its PID namespace"
		if broke {
			how = "its 9P connection broken and " + how
		}
		in.log.Printf("root system: stopping pid %d, which does not respond: %s", pid, how)
		unix.Kill(pid, unix.SIGKILL)
		if stopped(time.Second) {
			return nil
		}
	} else {
		in.log.Printf("root system: stopping (%s to pid %d, SIGKILL after %v)", sigName, pid, grace)
		unix.Kill(pid, sig)
		switch in.waitStop(exited, grace) {
		case stopExited:
			in.log.Printf("root system: stopped")
			return nil
		case stopHung:
			// The watchdog found it not responding meanwhile: the rest of the
			// grace cannot help.
			how := "SIGKILL to its PID namespace now"
			if in.breakTransport() {
				how = "its 9P connection broken and " + how
			}
			in.log.Printf("root system: not responding; %s", how)
		default:
			in.log.Printf("root system: init still running after %v; SIGKILL to its PID namespace", grace)
		}
		unix.Kill(pid, unix.SIGKILL)
		if stopped(time.Second) {
			return nil
		}
		if in.breakTransport() {
			in.log.Printf("root system: processes stuck after SIGKILL; breaking its 9P connection")
			if stopped(time.Second) {
				return nil
			}
		}
	}
	// Processes stuck in D state on a hung server keep the namespace's init from
	// ending. Abort the root's mounts from inside its mount namespace: a network
	// file system (NFS) fails its pending requests, and they can die.
	in.log.Printf("root system: processes stuck (a hung file system?); aborting the root's mounts (MNT_FORCE, MNT_DETACH)")
	if aborted := in.abortRootMounts(); aborted != nil {
		select {
		case <-exited:
			in.log.Printf("root system: stopped")
			return nil
		case <-aborted:
			if stopped(500 * time.Millisecond) {
				return nil
			}
		case <-time.After(2 * time.Second):
			in.log.Printf("root system: root-abort is stuck too (on the hung file system); going on")
		}
	}
	// Leave them: nothing of the admin namespace depends on them, and a new root
	// does not need them gone.
	r.mu.Lock()
	r.gen++
	r.state, r.pid = rootStopped, 0
	r.last = "abandoned: processes stuck in D state after SIGKILL"
	r.dropTransport()
	if r.mntns != nil {
		r.mntns.Close()
		r.mntns = nil
	}
	close(exited)
	r.mu.Unlock()
	os.Remove(RootPidFile)
	in.log.Printf("root system: abandoned pid %d with processes stuck in the kernel; a new root can start", pid)
	return nil
}

// Outcomes of waitStop.
const (
	stopExited = iota
	stopHung
	stopTimedOut
)

// waitStop waits for the root to end, for at most grace, and ends early when the
// watchdog finds it not responding (an orderly stop needs its file system).
func (in *Init) waitStop(exited <-chan struct{}, grace time.Duration) int {
	deadline := time.After(grace)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			return stopExited
		case <-deadline:
			return stopTimedOut
		case <-tick.C:
			in.root.mu.Lock()
			hung := in.root.hung
			in.root.mu.Unlock()
			if hung {
				return stopHung
			}
		}
	}
}

// abortRootMounts starts `ants root-abort` in the root's mount namespace (handed
// over as fd 3); the channel is closed when it has ended (nil: not started).
func (in *Init) abortRootMounts() <-chan struct{} {
	in.root.mu.Lock()
	ns := in.root.mntns
	in.root.mu.Unlock()
	if ns == nil {
		return nil
	}
	cmd := exec.Command(BinDir+"/ants", "root-abort")
	cmd.ExtraFiles = []*os.File{ns}
	cmd.Env = in.env
	if n := devNull(); n != nil {
		cmd.Stdin = n
	}
	const abortLog = "/run/ants/root-abort.log"
	f, err := os.Create(abortLog)
	if err == nil {
		cmd.Stdout, cmd.Stderr = f, f
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	ch, err := in.reaper.Start(cmd)
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

// rootExited applies the policy when the root's init ends by itself.
func (in *Init) rootExited(ev rootEvent) {
	ws := ev.ws
	in.log.Printf("root system: init %s after %s", Describe(ws), ev.runFor.Round(time.Millisecond))
	if b, err := os.ReadFile(rootsys.ErrFile); err == nil && len(b) > 0 {
		in.log.Printf("root system: %s", strings.TrimSpace(string(b)))
	}
	// reboot(2) inside a PID namespace ends its init with SIGHUP (reboot) or SIGINT
	// (power off, halt): the root asked for the machine.
	if ws.Signaled() {
		switch ws.Signal() {
		case unix.SIGINT:
			a, _ := power.ByName("poweroff")
			in.shutdown(a)
			return
		case unix.SIGHUP:
			a, _ := power.ByName("reboot")
			in.shutdown(a)
			return
		}
	}
	if ws.Exited() && ws.ExitStatus() == rootsys.ExitSource {
		if names := in.askAgain(); len(names) > 0 {
			in.log.Printf("root system: asking again for %s", strings.Join(names, " and "))
			if in.mux != nil {
				in.mux.Focus(in.boot)
			}
			// The dialogue waits for a person: beside the supervise loop, so power
			// signals and shell restarts are served meanwhile.
			go in.safe("ask again", func() {
				in.boot.SetState("")
				ws, _ := in.run(in.boot, BinDir+"/ants", append([]string{"ask"}, names...)...)
				in.boot.SetState(Describe(ws))
				if in.powerDown.Load() {
					return
				}
				in.autoStartRoot()
				if in.mux != nil && in.mux.Focused() == in.boot {
					in.focusAdmin()
				}
			})
			return
		}
	}
	policy := rootVars(nil)("ants.onrootexit")
	switch policy {
	case "restart":
		if ev.runFor < 5*time.Second {
			in.log.Printf("root system: it lived less than 5 s; not restarting (rootctl start to try again)")
			break
		}
		in.log.Printf("root system: restarting (ants.onrootexit=restart)")
		if _, err := in.startRoot(ev.src, true); err != nil {
			in.log.Printf("root system: %v", err)
		}
		return
	case "poweroff", "reboot":
		a, _ := power.ByName(policy)
		in.shutdown(a)
		return
	}
	in.log.Printf("root system: down; admin shell (rootctl start to start it again)")
	in.focusAdmin()
}

// askAgain names the root variables the command line set to "ask".
func (in *Init) askAgain() []string {
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
	src, err := rootsys.FromVars(rootVars(nil))
	if err != nil {
		in.log.Printf("root system: %v; admin shell only", err)
		return
	}
	if src.Kind == rootsys.None {
		in.log.Printf("no root configured (root=, venti=): admin shell only")
		return
	}
	// An admin who took the console during the boot scripts (Ctrl-] a) keeps it.
	focus := in.mux == nil || in.mux.Focused() != in.admin
	if _, err := in.startRoot(src, focus); err != nil {
		in.log.Printf("root system: %v", err)
	}
}

func (in *Init) rootStatus() string {
	r := in.root
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "state: %s\n", r.state)
	if r.state != rootStopped || r.starts > 0 {
		fmt.Fprintf(&b, "source: %s\n", r.src)
		if len(r.src.Servers) > 1 {
			fmt.Fprintf(&b, "servers: %s\n", strings.Join(r.src.Servers, " "))
		}
		if cur := currentServer(); cur != "" && r.state != rootStopped {
			fmt.Fprintf(&b, "server: %s\n", cur)
		}
		fmt.Fprintf(&b, "init: %s\n", r.src.Init)
	}
	if r.pid != 0 {
		fmt.Fprintf(&b, "pid: %d\n", r.pid)
		fmt.Fprintf(&b, "uptime: %s\n", time.Since(r.started).Round(time.Second))
	}
	if r.pid != 0 {
		if r.hung {
			fmt.Fprintf(&b, "responding: no, for %s (%s)\n", time.Since(r.hungSince).Round(time.Second), r.probeErr)
		} else {
			b.WriteString("responding: yes\n")
		}
	}
	fmt.Fprintf(&b, "starts: %d\n", r.starts)
	if r.last != "" {
		fmt.Fprintf(&b, "last exit: %s\n", r.last)
	}
	return b.String()
}

// newCgroup makes a fresh cgroup for a start of the root, root-N, with the
// limits and the device filter, and below it root-N/init, which the root is cloned
// into (CLONE_INTO_CGROUP) and which is the root of its cgroup namespace: the
// limits and the filter sit above what the root can see or write. It returns
// root-N and a descriptor of root-N/init; -1 when cgroup2 is not there (the root
// then shares PID 1's).
func (in *Init) newCgroup(n int, src rootsys.Source) (string, int) {
	dir := filepath.Join(cgroupRoot, fmt.Sprintf("root-%d", n))
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		in.log.Printf("root system: cgroup %s: %v; the root shares PID 1's cgroup, with no limits and no device filter", dir, err)
		return "", -1
	}
	get := rootVars(nil)
	lim, err := guard.ParseLimits(get("ants.rootmem"), get("ants.rootpids"), guard.ReadMachine("/proc"))
	if err != nil {
		in.log.Printf("root system: %v; using auto", err)
		lim, _ = guard.ParseLimits("auto", "auto", guard.ReadMachine("/proc"))
	}
	if err := lim.Write(dir); err != nil {
		in.log.Printf("root system: %v", err)
	}
	what := "limits: " + lim.String()
	if !src.Full {
		if err := guard.AttachDeviceFilter(dir, guard.RootDevices); err != nil {
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
func (in *Init) newRootDev() string {
	r := in.root
	if r.devfd >= 0 {
		unix.Close(r.devfd)
		r.devfd = -1
	}
	mount.Unmount(RootDevDir, unix.MNT_DETACH)
	os.MkdirAll(RootDevDir, 0o755)
	if err := mount.Mount("tmpfs", RootDevDir, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755,size=4m,nr_inodes=64k"); err != nil {
		in.log.Printf("root system: a /dev of its own: %v; it gets the kernel's devtmpfs", err)
		return ""
	}
	d := guard.DevDir{Path: RootDevDir, Host: "/dev", Sys: "/sys"}
	if err := d.Fill(); err != nil {
		in.log.Printf("root system: %v", err)
	}
	fd, err := unix.Open(RootDevDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == nil {
		r.devfd = fd
	}
	if !r.hotplugged {
		r.hotplugged = true
		go in.safe("hotplug", func() { in.hotplug(d) })
	}
	return RootDevDir
}

// hotplug keeps the root's /dev in step with the machine's block devices. It holds
// the root's lock only to read the descriptor, never while it makes a node.
func (in *Init) hotplug(d guard.DevDir) {
	err := guard.Uevents(func(ev guard.Uevent) {
		r := in.root
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
func stopSignal(pid int) (unix.Signal, string, time.Duration) {
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
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

// serveCtl answers rootctl on the control socket.
func (in *Init) serveCtl() {
	os.Remove(CtlSocket)
	l, err := net.Listen("unix", CtlSocket)
	if err != nil {
		in.log.Printf("init: control socket %s: %v; rootctl will not work", CtlSocket, err)
		return
	}
	os.Chmod(CtlSocket, 0o600)
	serveConns(l, ctlMaxConns, func(c net.Conn) { in.safe("rootctl", func() { in.ctl(c) }) })
}

// Bounds of the control socket: a request is one line of at most ctlMaxLine
// bytes, sent within ctlTimeout of connecting; at most ctlMaxConns requests are
// served at once, more are answered "busy". A reply that the client does not
// take within ctlTimeout is dropped.
const (
	ctlMaxLine  = 4096
	ctlTimeout  = 5 * time.Second
	ctlMaxConns = 16
)

// serveConns accepts on l for ever and runs handle for each connection, at
// most max at a time; a connection over that gets "error: busy" and is closed.
func serveConns(l net.Listener, max int, handle func(net.Conn)) {
	slots := make(chan struct{}, max)
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		select {
		case slots <- struct{}{}:
			go func() {
				defer func() { <-slots }()
				handle(c)
			}()
		default:
			go func() {
				defer c.Close()
				c.SetWriteDeadline(time.Now().Add(ctlTimeout))
				fmt.Fprintf(c, "error: busy: %d requests already in progress; try again\n", max)
			}()
		}
	}
}

// readRequest reads one request line from c: at most max bytes, within
// timeout.
func readRequest(c net.Conn, max int, timeout time.Duration) (string, error) {
	c.SetReadDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(io.LimitReader(c, int64(max)+1)).ReadString('\n')
	if len(line) > max || (err != nil && len(line) == max) {
		return "", fmt.Errorf("request longer than %d bytes", max)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "", fmt.Errorf("no request within %v", timeout)
	}
	if err != nil && line == "" {
		return "", err
	}
	return line, nil
}

// ctl handles one rootctl request: a line "VERB [NAME=VALUE ...]"; the answer is
// text lines, the last "ok" or "error: ...".
func (in *Init) ctl(c net.Conn) {
	defer c.Close()
	reply := func(text string, err error) {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		c.SetWriteDeadline(time.Now().Add(ctlTimeout))
		if err != nil {
			fmt.Fprintf(c, "%serror: %v\n", text, err)
			return
		}
		fmt.Fprintf(c, "%sok\n", text)
	}
	line, err := readRequest(c, ctlMaxLine, ctlTimeout)
	if err == io.EOF {
		return // connected and closed: nothing asked
	}
	if err != nil {
		reply("", err)
		return
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		reply("", fmt.Errorf("empty request"))
		return
	}
	over := map[string]string{}
	for _, kv := range f[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			reply("", fmt.Errorf("%q is not NAME=VALUE", kv))
			return
		}
		if err := bootvar.Validate(k, v); err != nil {
			reply("", fmt.Errorf("%s: %v", k, err))
			return
		}
		over[k] = v
	}
	if len(over) > 0 && f[0] != "start" && f[0] != "restart" {
		reply("", fmt.Errorf("%s takes no variables", f[0]))
		return
	}
	start := func() (string, error) {
		src, err := rootsys.FromVars(rootVars(over))
		if err != nil {
			return "", err
		}
		for k, v := range over {
			bootvar.WriteVar(EnvDir, k, v)
		}
		pid, err := in.startRoot(src, true)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("started from %s, pid %d", src, pid), nil
	}
	switch f[0] {
	case "status":
		reply(in.rootStatus(), nil)
	case "stop":
		reply("", in.stopRoot(0))
	case "start":
		reply(start())
	case "restart":
		if err := in.stopRoot(0); err != nil {
			reply("", err)
			return
		}
		reply(start())
	default:
		reply("", fmt.Errorf("unknown request %q; want status, start, stop or restart", f[0]))
	}
}
