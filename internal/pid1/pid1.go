// Package pid1 is ants' init: PID 1 of the machine. It mounts the kernel file
// systems, builds the admin namespace (a tmpfs from the initramfs), writes the boot
// variables to /env, runs the boot scripts in a child, and keeps an admin shell on
// the console for ever. It never exits: the kernel panics when PID 1 does.
package pid1

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/klog"
	"github.com/ants/ants/internal/power"
	"golang.org/x/sys/unix"
)

// Paths of the admin namespace.
const (
	EnvDir   = "/env"
	RunDir   = "/run/ants"
	BootLog  = "/run/ants/boot.log"
	BootConf = "/cfg/boot.conf"
	BinDir   = "/bbin"
)

// Init is the state of PID 1.
type Init struct {
	log     *klog.Log
	reaper  *Reaper
	vars    *bootvar.Set
	ttyName string // the console tty children get as controlling terminal
	mux     *console.Mux
	boot    *console.Client
	admin   *console.Client
	rootc   *console.Client
	root    *rootSys
	// The admin shell: started before the boot scripts when the console has a
	// mux (so Ctrl-] a reaches it while they run), restarted when it exits.
	shellDone   chan unix.WaitStatus
	shellStarts int
	sigs        chan os.Signal
	env         []string
}

// Main is PID 1. It does not return.
func Main() {
	in := &Init{root: newRootSys()}
	// Signals first: as PID 1, SIGTERM/SIGINT/SIGHUP left to Go's defaults would end
	// the process (and panic the kernel) before any handler exists.
	in.sigs = make(chan os.Signal, 16)
	signal.Notify(in.sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2, unix.SIGPWR, unix.SIGQUIT)
	sigchld := make(chan os.Signal, 16)
	signal.Notify(sigchld, unix.SIGCHLD)
	in.log = klog.New("ants", os.Stdout)
	in.log.CRLF = true // the console is raw once the mux has it; \r\n reads right either way
	defer func() {
		// Whatever happened above, PID 1 stays and keeps a shell on the console.
		if r := recover(); r != nil {
			in.log.Printf("init: PANIC: %v\n%s", r, debug.Stack())
		}
		in.superviseForever()
	}()
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "init: this is ants' PID 1; it must be started by the kernel (pid 1)")
		os.Exit(1)
	}
	vars, errs := in.stage1()
	in.reaper = NewReaper()
	in.reaper.Orphan = func(pid int, ws unix.WaitStatus) {}
	go in.safe("reaper", func() { in.reaper.Run(sigchld) })
	in.stage2(vars, errs)
}

// safe runs f and logs a panic instead of dying of it.
func (in *Init) safe(name string, f func()) {
	defer func() {
		if r := recover(); r != nil {
			in.log.Printf("init: %s: PANIC: %v\n%s", name, r, debug.Stack())
		}
	}()
	f()
}

// stage1 runs from the initramfs: kernel file systems, the boot variables (the
// skeleton's boot.conf is the same file before and after the switch), then the
// switch into the admin tmpfs. On any failure it stays where it is and goes on.
func (in *Init) stage1() (*bootvar.Set, []error) {
	for _, m := range EarlyMounts {
		if err := m.Do(); err != nil {
			in.log.Printf("init: %v", err)
		}
	}
	os.MkdirAll(RunDir, 0o755)
	in.log.OpenFile(BootLog)
	in.log.Printf("init started: kernel %s, %d MiB of memory", release(), totalMiB())
	vars, errs := bootvar.Load(cmdline(), BootConf)
	size, err := bootvar.ParseSize(vars.Value("ants.tmpfs"), totalBytes())
	if err != nil {
		size = totalBytes() / 2
	}
	done := in.log.Step(fmt.Sprintf("admin namespace: tmpfs of %d MiB", size>>20))
	sw, err := SwitchRoot(size)
	if err != nil {
		done(err)
		in.log.Printf("init: staying on the initramfs; the root system will not be able to pivot")
		return vars, errs
	}
	done(nil)
	in.log.Printf("moved %d files into it; %s bound read-only from the image", sw.Moved, strings.Join(sw.Bound, " "))
	return vars, errs
}

// stage2 runs in the admin namespace.
func (in *Init) stage2(vars *bootvar.Set, errs []error) {
	for _, m := range LateMounts {
		if err := m.Do(); err != nil {
			in.log.Printf("init: %v", err)
		}
	}
	in.openConsole()
	for _, e := range errs {
		in.log.Printf("%v", e)
	}
	in.vars = vars
	in.startMux(vars.Value("ants.escape"))
	in.env = childEnv()
	unix.Sethostname([]byte("ants"))
	// The admin shell comes first: its prompt is there (Ctrl-] a) before anything
	// else starts, and on one CPU nothing competes with it until then.
	if in.mux != nil {
		in.startShell()
		select {
		case <-in.admin.Spoke():
		case <-time.After(time.Second):
		}
	}
	if err := vars.WriteEnv(EnvDir); err != nil {
		in.log.Printf("init: writing %s: %v", EnvDir, err)
	}
	in.log.Printf("boot variables in %s: %s", EnvDir, strings.Join(vars.CmdlineWords(), " "))
	setupCgroups(in)
	go in.safe("control socket", in.serveCtl)
	in.log.Printf("running the boot scripts")
	start := time.Now()
	ws, err := in.run(in.boot, BinDir+"/ants", "boot")
	if err != nil {
		in.log.Printf("init: cannot start the boot runner: %v", err)
	} else if !ws.Exited() || ws.ExitStatus() != 0 {
		in.log.Printf("boot runner %s after %d ms", Describe(ws), time.Since(start).Milliseconds())
	}
	in.autoStartRoot()
	if secs := vars.Value("ants.watchdog"); secs != "0" {
		n, _ := strconv.Atoi(secs)
		if n <= 0 {
			n = 5
		}
		go in.safe("watchdog", func() { in.watchdog(time.Duration(n)*time.Second, time.Duration(n)*time.Second) })
	}
}

// setupCgroups mounts cgroup2 (nsdelegate: a root with its own cgroup namespace
// manages its subtree) and hands the controllers down.
func setupCgroups(in *Init) {
	m := Mount{Source: "cgroup2", Target: cgroupRoot, FSType: "cgroup2", Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, Data: "nsdelegate"}
	if err := m.Do(); err != nil {
		in.log.Printf("init: %v", err)
		return
	}
	os.WriteFile(cgroupRoot+"/cgroup.subtree_control", []byte("+cpu +io +memory +pids"), 0o644)
}

// superviseForever keeps an admin shell on the console and handles power signals.
func (in *Init) superviseForever() {
	if in.reaper == nil {
		// A panic came before the reaper existed.
		in.reaper = NewReaper()
		ch := make(chan os.Signal, 16)
		signal.Notify(ch, unix.SIGCHLD)
		go in.safe("reaper", func() { in.reaper.Run(ch) })
	}
	if in.env == nil {
		in.env = childEnv()
	}
	if in.ttyName == "" {
		in.openConsole()
	}
	if in.shellDone == nil {
		in.startShell()
	}
	if in.mux != nil && in.mux.Focused() != in.rootc {
		in.focusAdmin()
	}
	var last time.Time
	for {
		select {
		case <-in.shellDone:
			// A shell that dies at once, again and again, must not flood the console.
			if time.Since(last) < time.Second {
				time.Sleep(time.Second)
			}
			last = time.Now()
			in.safe("shell", in.startShell)
		case ev := <-in.root.events:
			in.safe("root exit", func() { in.rootExited(ev) })
		case s := <-in.sigs:
			sig := s.(syscall.Signal)
			a, ok := power.BySignal(sig)
			if !ok {
				in.log.Printf("init: got %s; ignored", unix.SignalName(sig))
				continue
			}
			in.safe("shutdown", func() { in.shutdown(a) })
		}
	}
}

// focusAdmin gives the console to the admin shell. A shell that has never had the
// console gets an Enter first, for a fresh prompt: the one it printed may predate the
// boot scripts (a new hostname) and sits in the ring buffer. The Enter goes before
// the focus moves, so it comes ahead of any key typed, and never to a shell someone
// has typed into: that could run half a line (a shell with the console already is
// left alone, as one that had it earlier).
func (in *Init) focusAdmin() {
	if in.mux == nil || in.mux.Focused() == in.admin {
		return
	}
	if !in.admin.HadFocus() {
		in.admin.Send([]byte("\r"))
	}
	in.mux.Focus(in.admin)
}

// startShell starts an admin shell on the admin client; its end comes on shellDone.
func (in *Init) startShell() {
	if in.shellDone == nil {
		in.shellDone = make(chan unix.WaitStatus, 1)
	}
	in.shellStarts++
	if in.shellStarts > 1 {
		in.log.Printf("starting a new admin shell")
	} else {
		in.log.Printf("admin shell on %s (exit starts a new one; poweroff or reboot to stop)", in.ttyName)
	}
	ch, err := in.start(in.admin, BinDir+"/antsh")
	if err != nil {
		in.log.Printf("init: cannot start the admin shell: %v; trying again in 5 s", err)
		go func() { time.Sleep(5 * time.Second); in.shellDone <- 0 }()
		return
	}
	go func() { in.shellDone <- <-ch }()
}

// openConsole finds the console tty that children get as their terminal. The tty
// is opened anew for every child: when a session leader that had it as controlling
// terminal exits, the kernel hangs up every open file of it, PID 1's too.
func (in *Init) openConsole() {
	in.ttyName = ConsoleTTY()
	f, err := in.openTTY()
	if err != nil {
		in.log.Printf("init: %v", err)
		return
	}
	f.Close()
}

func (in *Init) openTTY() (*os.File, error) {
	f, err := os.OpenFile("/dev/"+in.ttyName, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil && in.ttyName != "console" {
		in.log.Printf("init: open /dev/%s: %v; using /dev/console", in.ttyName, err)
		in.ttyName = "console"
		f, err = os.OpenFile("/dev/console", os.O_RDWR|unix.O_NOCTTY, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("open the console: %v", err)
	}
	return f, nil
}

// startMux takes the console(s) for the console multiplexer: raw input, so that
// the escape key reaches PID 1 whatever a client does; output keeps its newline
// translation, so PID 1's own log lines still read right.
func (in *Init) startMux(escape string) {
	esc, err := console.ParseEscape(escape)
	if err != nil {
		in.log.Printf("ants.escape: %v; using ^]", err)
		esc = console.DefaultEscape
	}
	var outs []io.Writer
	var ins []*os.File
	for _, name := range ConsoleTTYs() {
		f, err := os.OpenFile("/dev/"+name, os.O_RDWR|unix.O_NOCTTY, 0)
		if err != nil {
			in.log.Printf("init: console /dev/%s: %v", name, err)
			continue
		}
		if err := rawInput(int(f.Fd())); err != nil {
			in.log.Printf("init: console /dev/%s: %v", name, err)
		}
		outs = append(outs, f)
		ins = append(ins, f)
	}
	if len(outs) == 0 {
		in.log.Printf("init: no console for the multiplexer; children get the console itself")
		return
	}
	in.mux = console.New(outs, esc)
	in.boot = in.mux.Client("boot scripts", 'b')
	in.admin = in.mux.Client("admin shell", 'a')
	in.rootc = in.mux.Client("root console", 'r')
	in.mux.Focus(in.boot)
	for _, f := range ins {
		f := f
		go in.safe("console input", func() {
			err := in.mux.Input(f)
			in.log.Printf("init: console input ended: %v", err)
		})
	}
	k := console.KeyName(esc)
	in.log.Printf("console: %s a admin shell, %s r root console, %s ? help", k, k, k)
}

// rawInput sets a console raw (no echo, no line editing, no signals, no output
// translation: the ptys behind the mux do all that, and their output already ends
// lines with \r\n; PID 1's own log writes \r\n to the console itself).
func rawInput(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Oflag &^= unix.OPOST
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// ConsoleTTYs names every console the kernel writes to (console= on the command
// line: serial and VGA).
func ConsoleTTYs() []string {
	b, _ := os.ReadFile("/sys/class/tty/console/active")
	return strings.Fields(string(b))
}

// ConsoleTTY names the tty of the kernel's console: the last of
// /sys/class/tty/console/active, which is the one /dev/console writes to.
func ConsoleTTY() string {
	b, err := os.ReadFile("/sys/class/tty/console/active")
	f := strings.Fields(string(b))
	if err != nil || len(f) == 0 {
		return "console"
	}
	return f[len(f)-1]
}

// start starts a child on the console, in a session of its own with its terminal
// (a pty of the console mux for the client, or the console itself without a mux)
// as controlling terminal, and returns the channel of its exit status.
func (in *Init) start(c *console.Client, path string, args ...string) (<-chan unix.WaitStatus, error) {
	ch, _, err := in.startWith(c, nil, path, args...)
	return ch, err
}

// startWith is start with more process attributes (namespaces, cgroup); it also
// returns the child's pid.
func (in *Init) startWith(c *console.Client, attrs func(*syscall.SysProcAttr), path string, args ...string) (<-chan unix.WaitStatus, int, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = in.env
	cmd.Dir = "/"
	var tty *os.File
	var err error
	if c != nil {
		tty, err = c.NewPTY()
	} else {
		tty, err = in.openTTY()
	}
	if err == nil {
		defer tty.Close()
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	} else {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	if attrs != nil {
		attrs(cmd.SysProcAttr)
	}
	ch, err := in.reaper.Start(cmd)
	if err != nil {
		return nil, 0, err
	}
	return ch, cmd.Process.Pid, nil
}

// run starts a child and waits for it (through the reaper).
func (in *Init) run(c *console.Client, path string, args ...string) (unix.WaitStatus, error) {
	ch, err := in.start(c, path, args...)
	if err != nil {
		return 0, err
	}
	return <-ch, nil
}

// childEnv is the environment of every child: a clean one, not the kernel's.
func childEnv() []string {
	term := os.Getenv("TERM")
	if term == "" || term == "linux" {
		term = "vt100"
	}
	return []string{
		"PATH=/bbin:/bin:/sbin:/usr/bin:/usr/sbin",
		"HOME=/",
		"TERM=" + term,
		"ANTS=1",
	}
}

// shutdown stops every process, syncs, unmounts and ends with reboot(2).
func (in *Init) shutdown(a power.Action) {
	if err := in.stopRoot(stopGrace); err != nil {
		in.log.Printf("%s: %v", a.Verb, err)
	}
	in.log.Printf("%s: stopping all processes", a.Verb)
	unix.Kill(-1, unix.SIGTERM)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && othersAlive() {
		time.Sleep(50 * time.Millisecond)
	}
	if othersAlive() {
		in.log.Printf("%s: some processes ignored SIGTERM for 3 s; killing them", a.Verb)
		unix.Kill(-1, unix.SIGKILL)
		time.Sleep(100 * time.Millisecond)
	}
	unix.Sync()
	n := unmountAll()
	unix.Sync()
	in.log.Printf("%s: synced, %d file systems unmounted; goodbye", a.Verb, n)
	if err := unix.Reboot(a.Cmd); err != nil {
		in.log.Printf("init: reboot(2): %v; the admin shell stays", err)
	}
}

// othersAlive reports whether any process but PID 1 and kernel threads is left.
func othersAlive() bool {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range ents {
		pid := e.Name()
		if pid == "1" || pid[0] < '0' || pid[0] > '9' {
			continue
		}
		// Kernel threads have an empty cmdline; zombies too, and the reaper takes them.
		b, err := os.ReadFile("/proc/" + pid + "/cmdline")
		if err == nil && len(b) > 0 {
			return true
		}
	}
	return false
}

// unmountAll unmounts what it can, newest first, and returns how many went.
func unmountAll() int {
	mps, err := MountPoints()
	if err != nil {
		return 0
	}
	n := 0
	for i := len(mps) - 1; i >= 0; i-- {
		switch mps[i] {
		case "/", "/proc", "/sys", "/dev", "/dev/pts":
			continue
		}
		if unix.Unmount(mps[i], 0) == nil {
			n++
		} else if unix.Unmount(mps[i], unix.MNT_DETACH) == nil {
			n++
		}
	}
	return n
}

func cmdline() string {
	b, _ := os.ReadFile("/proc/cmdline")
	return string(b)
}

func release() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "?"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func totalBytes() uint64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 256 << 20
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}

func totalMiB() uint64 { return totalBytes() >> 20 }
