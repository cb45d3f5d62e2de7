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
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/guard"
	"github.com/ants/ants/internal/klog"
	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/payload"
	"github.com/ants/ants/internal/power"
	"github.com/ants/ants/internal/rootctl"
	"golang.org/x/sys/unix"
)

// Paths of the admin namespace.
const (
	EnvDir   = "/env"
	RunDir   = "/run/ants"
	BootLog  = rootctl.BootLog
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
	root    *Life
	payload *os.File // the image's squashfs, from stage1 to mountPayload
	// adminBlock are the block devices the admin side holds (the payload's loop
	// device): a contained root gets no node for them and its filter refuses them.
	// Written once by mountPayload, before any root starts.
	adminBlock []guard.DevRule
	// The admin shell: started before the boot scripts when the console has a
	// mux (so Ctrl-] a reaches it while they run), restarted when it exits. Only
	// the goroutine of Main (stage2, then superviseForever) touches these two.
	shellDone   chan unix.WaitStatus
	shellStarts int
	promptFirst bool // the console went to the admin shell at its first prompt (promptfirst.go)
	// bootDone is closed when the boot goroutine (scripts, root, watchdog) ends;
	// nil when it never started.
	bootDone chan struct{}
	// powerDown is set once a power signal is taken: the boot goroutine then
	// starts no root.
	powerDown atomic.Bool
	sigs      chan os.Signal
	env       []string
	// conq queues PID 1's log to the console /dev/console writes to; the mux
	// writes to that console through it too, so that the two keep their order.
	conq *console.Queue
	// sys is the machine (sys.go): realSys in Main, fakes in tests.
	sys *initSys
}

// Main is PID 1. It does not return.
func Main() {
	in := &Init{}
	in.sys = realSys(in)
	in.root = newLife(in)
	// Signals first: as PID 1, SIGTERM/SIGINT/SIGHUP left to Go's defaults would end
	// the process (and panic the kernel) before any handler exists.
	in.sigs = make(chan os.Signal, 16)
	signal.Notify(in.sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2, unix.SIGPWR, unix.SIGQUIT)
	sigchld := make(chan os.Signal, 16)
	signal.Notify(sigchld, unix.SIGCHLD)
	// The log never waits for a stalled console line: it is queued (and dropped,
	// with a count, when the queue is full).
	in.conq = console.NewQueue(os.Stdout, console.QueueSize)
	in.log = klog.New("ants", in.conq)
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
	// PID 1 and everything it starts (admin shells, nsfs, helpers) are the last
	// the OOM killer takes; the root child sets its own back to 0.
	os.WriteFile("/proc/self/oom_score_adj", []byte("-1000"), 0)
	// Ctrl-Alt-Del comes to PID 1 as SIGINT (an orderly reboot) instead of the
	// kernel's immediate restart, as sysvinit has it. A root cannot turn it back
	// on: reboot(2) in a child PID namespace takes only restart and power-off.
	unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF)
	devNull() // opened before any root exists (see devNull)
	os.MkdirAll(RunDir, 0o755)
	in.log.OpenFile(BootLog)
	in.log.Printf("init started: kernel %s, %d MiB of memory", release(), totalMiB())
	vars, errs := bootvar.Load(cmdline(), BootConf)
	size, err := bootvar.ParseSize(vars.Value("ants.tmpfs"), totalBytes())
	if err != nil {
		size = totalBytes() / 2
	}
	// The payload squashfs is opened here, where it is, and mounted after the
	// admin prompt appears (mountPayload).
	if f, err := payload.Open("/"); err != nil {
		in.log.Printf("init: image: %v", err)
	} else {
		in.payload = f
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

// mountPayload mounts the image's squashfs (internal/payload) onto /bbin/bb and
// /lib/modules of the admin namespace. It runs once the admin prompt is there
// (72-85 ms under TCG that the prompt does not wait for) and before anything from
// /bbin/bb starts; a command typed at the prompt meanwhile waits for it
// (payload.WaitBin). Without it only the admin program runs (PID 1, the admin
// shell and its builtins): the log says so and what to do.
func (in *Init) mountPayload() {
	if in.payload == nil {
		return // an image built with -payload cpio
	}
	defer in.payload.Close()
	start := time.Now()
	m, err := payload.System{Image: in.payload}.Mount()
	ms := time.Since(start).Milliseconds()
	if err != nil {
		in.log.Printf("init: image: cannot mount /%s after %d ms: %v; only the admin shell's builtins will run (boot an image built for kernel %s, or one built with -payload cpio)", payload.File, ms, err, release())
		os.WriteFile(payload.StatusFile, []byte(err.Error()+"\n"), 0o644)
		return
	}
	in.adminBlock = []guard.DevRule{{Major: int(m.Major), Minor: int(m.Minor), Name: filepath.Base(m.Loop) + " (the image's squashfs)"}}
	os.WriteFile(payload.StatusFile, []byte("ok\n"), 0o644)
	os.RemoveAll("/" + payload.BootDir) // loaded: the squashfs has them all again
	loaded := ""
	if len(m.Loaded) > 0 {
		loaded = ", loaded " + strings.Join(m.Loaded, " ")
	}
	in.log.Printf("image: /%s (%.1f MiB) on %s: /bbin/bb and /lib/modules read from it (%d ms: modules %d ms%s)", payload.File, float64(m.Size)/(1<<20), m.Loop, ms, m.Modules.Milliseconds(), loaded)
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
		if in.promptFirst = promptFirst(vars); in.promptFirst { // promptfirst.go
			in.boot.SetThrough(true)
			in.mux.Focus(in.admin)
		}
	}
	in.mountPayload()
	if err := vars.WriteEnv(EnvDir); err != nil {
		in.log.Printf("init: writing %s: %v", EnvDir, err)
	}
	// Beside /env, the record of where each value came from (ants env -v, ants
	// ask's offers, ants conf's "the command line wins"): written once.
	if err := vars.WriteRecord(bootvar.RecordFile); err != nil {
		in.log.Printf("init: writing %s: %v", bootvar.RecordFile, err)
	}
	in.log.Printf("boot variables in %s: %s", EnvDir, strings.Join(vars.CmdlineWords(), " "))
	setupCgroups(in)
	go in.safe("control socket", in.serveCtl)
	go in.safe("power button", in.watchPowerButton) // button.go
	// The boot scripts, then the root, run beside Main, which goes on to
	// superviseForever: a script that hangs holds neither a power signal nor a
	// new admin shell.
	in.bootDone = make(chan struct{})
	go in.safe("boot", func() { in.bootAndRoot(vars) })
}

// bootAndRoot runs the boot scripts, then starts the root and the watchdog. It
// runs in a goroutine of its own; superviseForever gives the console to the admin
// shell once it is done.
func (in *Init) bootAndRoot(vars *bootvar.Set) {
	defer close(in.bootDone)
	in.log.Printf("running the boot scripts")
	start := time.Now()
	ws, err := in.run(in.boot, BinDir+"/ants", "boot")
	if err != nil {
		in.log.Printf("init: cannot start the boot runner: %v", err)
	} else if !ws.Exited() || ws.ExitStatus() != 0 {
		in.log.Printf("boot runner %s after %d ms", Describe(ws), time.Since(start).Milliseconds())
	}
	if in.mux != nil {
		in.boot.SetState(Describe(ws))
		in.boot.SetThrough(false)
	}
	if in.powerDown.Load() {
		return // the boot runner ended because the machine is going down
	}
	in.autoStartRoot()
	in.startWatchdog(vars.Value("ants.watchdog"))
}

// startWatchdog starts the watchdog every v seconds, unless v is 0. A value out of
// range (boot.conf and the command line are checked already; this is /env's)
// gets the default.
func (in *Init) startWatchdog(v string) {
	d, err := bootvar.Seconds("ants.watchdog", v)
	if err != nil {
		k, _ := bootvar.Lookup("ants.watchdog")
		in.log.Printf("init: %v; using the default, %s s", err, k.Default)
		d, _ = bootvar.Seconds(k.Name, k.Default)
	}
	if d == 0 {
		return
	}
	go in.safe("watchdog", func() { in.root.Watch(d, d) })
}

// setupCgroups mounts cgroup2 (nsdelegate: a root with its own cgroup namespace
// manages its subtree) and hands the controllers down.
func setupCgroups(in *Init) {
	m := cgroupMount
	m.Target = in.sys.Cgroup
	if err := in.sys.Mount(m); err != nil {
		in.log.Printf("init: %v", err)
		return
	}
	os.WriteFile(in.sys.Cgroup+"/cgroup.subtree_control", []byte("+cpu +io +memory +pids"), 0o644)
}

// superviseForever keeps an admin shell on the console and handles power signals,
// from the moment the shell starts: the boot scripts run beside it (bootAndRoot).
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
	// Without a mux, the shell and the boot scripts would share the console: the
	// shell waits for them.
	booting := in.bootDone
	if in.shellDone == nil && (booting == nil || in.mux != nil) {
		in.startShell()
	}
	if booting == nil {
		in.bootEnded()
	}
	var last time.Time
	for {
		select {
		case <-in.sys.Quit:
			return
		case <-booting:
			booting = nil
			if in.shellDone == nil {
				in.safe("shell", in.startShell)
			}
			in.safe("focus", in.bootEnded)
		case <-in.shellDone:
			// A shell that dies at once, again and again, must not flood the console.
			if in.sys.Now().Sub(last) < time.Second {
				in.sys.Sleep(time.Second)
			}
			last = in.sys.Now()
			in.safe("shell", in.startShell)
		case ev := <-in.root.Events():
			in.safe("root exit", func() { in.rootExited(ev) })
		case s := <-in.sigs:
			sig := s.(syscall.Signal)
			a, ok := power.BySignal(sig)
			if !ok {
				in.log.Printf("init: got %s; ignored", unix.SignalName(sig))
				continue
			}
			in.powerDown.Store(true)
			in.safe("shutdown", func() { in.shutdown(a) })
		}
	}
}

// bootEnded gives the console to the admin shell when the boot is over, unless the
// root has it.
func (in *Init) bootEnded() {
	if in.mux != nil && in.mux.Focused() != in.rootc {
		in.focusAdmin()
		in.freshPrompt()
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
	in.ttyName = in.sys.kernelConsole()
	f, err := in.openTTY()
	if err != nil {
		in.log.Printf("init: %v", err)
		return
	}
	f.Close()
}

func (in *Init) openTTY() (*os.File, error) {
	f, err := in.sys.OpenTTY(in.ttyName)
	if err != nil && in.ttyName != "console" {
		in.log.Printf("init: open /dev/%s: %v; using /dev/console", in.ttyName, err)
		in.ttyName = "console"
		f, err = in.sys.OpenTTY("console")
	}
	if err != nil {
		return nil, fmt.Errorf("open the console: %v", err)
	}
	return f, nil
}

// startMux takes the console(s) for the console multiplexer: raw input, so that
// the escape key reaches PID 1 whatever a client does (console.OpenDevice). Output to each
// goes through a Queue, so that a stalled line stalls no goroutine of PID 1; the
// console /dev/console writes to shares its queue with PID 1's log. A console whose
// input ends (a hangup, EIO) is opened again (console.Mux.ReadForever).
func (in *Init) startMux(escape string) {
	esc, err := console.ParseEscape(escape)
	if err != nil {
		in.log.Printf("ants.escape: %v; using ^]", err)
		esc = console.DefaultEscape
	}
	var outs []io.Writer
	var devs []console.Device
	var ins []io.ReadCloser
	var sizes []unix.Winsize
	logTTY := in.sys.kernelConsole()
	for _, name := range in.sys.Consoles() {
		f, err := in.sys.OpenConsole(name)
		if err != nil {
			in.log.Printf("init: console /dev/%s: %v", name, err)
			if f == nil {
				continue
			}
		}
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil {
			sizes = append(sizes, *ws) // a VT's text size; a serial line's 0x0
		}
		cf := console.Direct(f) // no more f.Fd(): non-blocking from here on
		q := in.conq
		if name != logTTY || q == nil {
			q = console.NewQueue(cf, console.QueueSize)
		}
		q.SetWriter(cf)
		devs = append(devs, console.Device{
			Name: name,
			Open: func() (io.ReadCloser, error) {
				f, err := in.sys.OpenConsole(name)
				if f == nil {
					return nil, err
				}
				cf := console.Direct(f)
				q.SetWriter(cf)
				return cf, nil
			},
			Log: in.log.Printf,
		})
		outs = append(outs, q)
		ins = append(ins, cf)
	}
	if len(outs) == 0 {
		in.log.Printf("init: no console for the multiplexer; children get the console itself")
		return
	}
	// A P for each of the mux's hot readers while keys come (console.File).
	runtime.GOMAXPROCS(runtime.NumCPU() + console.HotReaders)
	in.mux = console.New(outs, esc)
	in.mux.SetSize(console.ConsoleSize(sizes))
	// PID 1's log goes to every console (console=tty0 console=ttyS0), as the
	// kernel's messages do, not only to the one /dev/console writes to, and
	// above whatever prompt the console shows (console/above.go).
	in.log.SetConsole(in.mux.LogWriter())
	in.boot = in.mux.Client("boot scripts", 'b')
	in.admin = in.mux.Client("admin shell", 'a')
	in.rootc = in.mux.Client("root console", 'r')
	in.mux.Focus(in.boot)
	go in.safe("hubs", in.serveHubs) // hubs.go
	for i, f := range ins {
		go in.safe("console input", func() { in.mux.ReadForever(devs[i], f) })
	}
	k := console.KeyName(esc)
	in.log.Printf("console: %s a admin shell, %s r root console, %s ? help", k, k, k)
}

// start starts a child on the console, in a session of its own with its terminal
// (a pty of the console mux for the client, or the console itself without a mux)
// as controlling terminal, and returns the channel of its exit status.
func (in *Init) start(c *console.Client, path string, args ...string) (<-chan unix.WaitStatus, error) {
	ch, _, err := in.startWith(c, nil, path, args...)
	return ch, err
}

// startWith is start with more of the command set (namespaces, cgroup, extra
// files: shape gets the command once its terminal is set); it also returns the
// child's pid.
func (in *Init) startWith(c *console.Client, shape func(*exec.Cmd), path string, args ...string) (<-chan unix.WaitStatus, int, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = in.env
	cmd.Dir = "/"
	var tty *os.File
	var err error
	if c != nil {
		tty, err = in.sys.PTY(c)
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
	if shape != nil {
		shape(cmd)
	}
	ch, err := in.sys.Start(cmd)
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

// childPath is the children's PATH.
const childPath = "/bbin:/bin:/sbin:/usr/bin:/usr/sbin"

// childEnv is the environment of every child: a clean one, not the kernel's.
func childEnv() []string {
	term := os.Getenv("TERM")
	if term == "" || term == "linux" {
		term = "vt100"
	}
	return []string{
		"PATH=" + childPath,
		"HOME=/",
		"TERM=" + term,
		"ANTS=1",
	}
}

// shutdown stops every process, syncs, unmounts and ends with reboot(2). Every
// step is bounded: sync(2) and umount(2) can wait for ever on a network file
// system whose server hangs (dirty pages of a hung 9P root), so they run in
// goroutines that are left behind when their time is up; power-off comes anyway.
func (in *Init) shutdown(a power.Action) {
	in.powerDown.Store(true)
	s := in.sys
	start := s.Now()
	if err := in.stopRoot(0); err != nil {
		in.log.Printf("%s: %v", a.Verb, err)
	}
	in.log.Printf("%s: stopping all processes", a.Verb)
	s.Kill(-1, unix.SIGTERM)
	alone := func() bool { return !othersAlive(s.Proc) }
	if !s.waitFor(3*time.Second, alone) {
		in.log.Printf("%s: some processes ignored SIGTERM for 3 s; killing them", a.Verb)
		s.Kill(-1, unix.SIGKILL)
		s.waitFor(time.Second, alone)
	}
	synced := s.bounded(syncTimeout, s.Sync)
	if !synced {
		in.log.Printf("%s: sync did not end in %v: a file system cannot write (a hung network root?); going on", a.Verb, syncTimeout)
	}
	var n atomic.Int32 // read even when the unmounts are still going on
	if !s.bounded(5*time.Second, func() { unmountAll(s.Proc, s.Unmount, &n) }) {
		in.log.Printf("%s: unmounting did not end in 5 s; going on", a.Verb)
	}
	synced = s.bounded(2*time.Second, s.Sync) && synced
	done := "synced"
	if !synced {
		done = "not all synced"
	}
	in.log.Printf("%s: %s, %d file systems unmounted, %.1f s; goodbye", a.Verb, done, n.Load(), s.Now().Sub(start).Seconds())
	if err := s.Reboot(a.Cmd); err != nil {
		in.log.Printf("init: reboot(2): %v; the admin shell stays", err)
	}
}

// syncTimeout bounds the sync of a shutdown.
const syncTimeout = 10 * time.Second

// othersAlive reports whether any process but PID 1 and kernel threads is left.
// It reads /proc/PID/stat, which the kernel answers without the process's memory
// map: /proc/PID/cmdline takes its mmap lock, which a process stuck in a page
// fault on a hung file system can hold for ever.
func othersAlive(proc string) bool {
	ents, err := os.ReadDir(proc)
	if err != nil {
		return false
	}
	for _, e := range ents {
		pid := e.Name()
		if pid == "1" || pid[0] < '0' || pid[0] > '9' {
			continue
		}
		b, err := os.ReadFile(proc + "/" + pid + "/stat")
		if err == nil && userProcess(string(b)) {
			return true
		}
	}
	return false
}

// userProcess reads a /proc/PID/stat line: true for a live process that is not a
// kernel thread (PF_KTHREAD in its flags) and not a zombie.
func userProcess(stat string) bool {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is the state (field 3), f[6] the flags (field 9).
	if len(f) < 7 || f[0] == "Z" || f[0] == "X" {
		return false
	}
	flags, err := strconv.ParseUint(f[6], 10, 64)
	return err == nil && flags&0x00200000 == 0
}

// unmountAll unmounts what it can of proc's self/mountinfo, newest first, and
// counts in n how many went. The kernel's file systems stay, and so do the image's
// read-only mounts (/bbin, its bb from the squashfs, /lib/modules): they hold
// nothing to write, and if reboot(2) fails the admin shell that stays still has
// its programs.
func unmountAll(proc string, unmount func(string, int) error, n *atomic.Int32) {
	mps, err := mount.Points(proc + "/self/mountinfo")
	if err != nil {
		return
	}
	for i := len(mps) - 1; i >= 0; i-- {
		switch mps[i] {
		case "/", "/proc", "/sys", "/dev", "/dev/pts", "/bbin", "/" + payload.BinTarget, "/" + payload.ModulesTarget:
			continue
		}
		if unmount(mps[i], 0) == nil {
			n.Add(1)
		} else if unmount(mps[i], unix.MNT_DETACH) == nil {
			n.Add(1)
		}
	}
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
