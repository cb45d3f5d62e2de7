package pid1

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"golang.org/x/sys/unix"
)

// supervise runs the supervise loop until the test ends.
func supervise(t *testing.T, in *Init, w *world) {
	done := make(chan struct{})
	go func() { defer close(done); in.superviseForever() }()
	t.Cleanup(func() {
		close(w.quit)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("the supervise loop did not end")
		}
	})
}

// An admin shell that exits is started again; one that dies at once after the
// last start waits 1 s first, so a shell that cannot run does not flood the console.
func TestSuperviseRestartsTheShell(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	withMux(in, w)
	supervise(t, in, w)
	p := w.nextProc()
	if p.argv() != BinDir+"/antsh" || !p.cmd.SysProcAttr.Setsid || !p.cmd.SysProcAttr.Setctty || p.cmd.Dir != "/" {
		t.Errorf("the shell: %s %+v dir %q", p.argv(), p.cmd.SysProcAttr, p.cmd.Dir)
	}
	w.waitLog("admin shell on ttyS0 (exit starts a new one")
	p.exit <- 0 // the first exit: long after the (zero) last one
	p = w.nextProc()
	if s := w.clock.slept(); len(s) != 0 {
		t.Errorf("slept %v before the second shell", s)
	}
	p.exit <- 1 << 8 // at once again: 1 s first
	p = w.nextProc()
	if s := w.clock.slept(); !reflect.DeepEqual(s, []time.Duration{time.Second}) {
		t.Errorf("slept %v before the third shell, want [1s]", s)
	}
	w.clock.Advance(10 * time.Second) // a shell that ran for a while
	p.exit <- 0
	w.nextProc()
	if s := w.clock.slept(); len(s) != 1 {
		t.Errorf("slept %v; the shell had run 10 s", s)
	}
	w.waitLog("starting a new admin shell")
}

// Without a mux the shell shares the console with the boot scripts, so it waits
// for them; it gets the console itself as its terminal.
func TestSuperviseWithoutMuxWaitsForTheBoot(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	in.sigs = make(chan os.Signal, 1)
	in.bootDone = make(chan struct{})
	supervise(t, in, w)
	in.sigs <- unix.SIGHUP
	w.waitLog("init: got SIGHUP; ignored")
	w.noProc()
	close(in.bootDone)
	p := w.nextProc()
	if p.argv() != BinDir+"/antsh" || p.cmd.Stdin == nil || !p.cmd.SysProcAttr.Setctty {
		t.Errorf("the shell: %s %+v", p.argv(), p.cmd.SysProcAttr)
	}
}

// With a mux the shell starts at once, and the end of the boot gives it the
// console (an Enter first, for a fresh prompt), unless the root has it.
func TestSuperviseBootDoneFocus(t *testing.T) {
	t.Parallel()
	for _, rootHasIt := range []bool{false, true} {
		in, w := newTestInit(t)
		withMux(in, w)
		in.bootDone = make(chan struct{})
		in.sigs = make(chan os.Signal, 1)
		if rootHasIt {
			in.mux.Focus(in.rootc)
		}
		supervise(t, in, w)
		w.nextProc()
		if f := in.mux.Focused(); f == in.admin {
			t.Errorf("the admin shell has the console during the boot")
		}
		close(in.bootDone)
		if rootHasIt {
			// The loop takes the boot's end among the next few rounds (a
			// select picks at random among what is ready).
			for i := 1; i <= 5; i++ {
				in.sigs <- unix.SIGHUP
				eventually(t, "a round", func() bool { return strings.Count(w.out.String(), "ignored") == i })
			}
			if f := in.mux.Focused(); f != in.rootc {
				t.Errorf("root focused at the boot's end: now %s", f.Name)
			}
			continue
		}
		eventually(t, "the admin shell's focus", func() bool { return in.mux.Focused() == in.admin })
		if got := w.stream(in.admin).Got(); got != "\r" {
			t.Errorf("typed into the admin shell: %q, want an Enter", got)
		}
		w.noProc()
	}
}

// Power signals end in the shutdown with their reboot(2) command; other signals
// are logged and ignored.
func TestSupervisePowerSignals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sig  unix.Signal
		verb string
		cmd  int
	}{
		{unix.SIGUSR2, "powering off", unix.LINUX_REBOOT_CMD_POWER_OFF},
		{unix.SIGPWR, "powering off", unix.LINUX_REBOOT_CMD_POWER_OFF},
		{unix.SIGTERM, "rebooting", unix.LINUX_REBOOT_CMD_RESTART},
		{unix.SIGINT, "rebooting", unix.LINUX_REBOOT_CMD_RESTART},
		{unix.SIGUSR1, "halting", unix.LINUX_REBOOT_CMD_HALT},
	} {
		in, w := newTestInit(t)
		withMux(in, w)
		in.sigs = make(chan os.Signal, 2)
		supervise(t, in, w)
		w.nextProc()
		in.sigs <- unix.SIGQUIT
		in.sigs <- tc.sig
		w.waitLog(tc.verb + ": synced")
		if !w.logged("got SIGQUIT; ignored") || !in.powerDown.Load() {
			t.Errorf("%s: powerDown %v; log:\n%s", unix.SignalName(tc.sig), in.powerDown.Load(), w.out)
		}
		if c := w.callList(); !strings.HasSuffix(c, fmt.Sprintf("reboot %#x", tc.cmd)) {
			t.Errorf("%s: calls %s", unix.SignalName(tc.sig), c)
		}
	}
}

// A root that ends by itself comes to the loop, which applies the policy: here
// the admin shell gets the console.
func TestSuperviseRootEvent(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	withMux(in, w)
	supervise(t, in, w)
	w.nextProc()
	sys := in.root.Sys.(*fakeSys)
	pid, err := in.root.Start(ninePSource(t), true)
	if err != nil {
		t.Fatal(err)
	}
	in.mux.Focus(in.rootc)
	sys.end(sys.child(pid), 3<<8)
	w.waitLog("root system: init exited with status 3 after")
	w.waitLog("root system: down; admin shell (rootctl start to start it again)")
	eventually(t, "the admin shell's focus", func() bool { return in.mux.Focused() == in.admin })
}

// A panic in a step of the loop is logged and the loop goes on.
func TestSuperviseSurvivesAPanic(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	withMux(in, w)
	in.sigs = make(chan os.Signal, 1)
	w.onStart = func(cmd *exec.Cmd) {
		if len(w.procs) == 1 {
			panic("no more shells")
		}
	}
	supervise(t, in, w)
	p := w.nextProc()
	p.exit <- 0
	w.waitLog("init: shell: PANIC: no more shells")
	in.sigs <- unix.SIGHUP
	w.waitLog("got SIGHUP; ignored")
}

// A shell that cannot start is tried again (after 5 s, not waited for here).
func TestStartShellFails(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	w.startErr = errors.New("no such file")
	in.startShell()
	if !w.logged("init: cannot start the admin shell: no such file; trying again in 5 s") {
		t.Errorf("log:\n%s", w.out)
	}
}

// safe logs a panic with its stack, and its caller goes on.
func TestSafe(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	ran := false
	in.safe("step", func() { panic("boom") })
	in.safe("next", func() { ran = true })
	if !ran || !w.logged("init: step: PANIC: boom") || !w.logged("goroutine ") {
		t.Errorf("ran %v; log:\n%s", ran, w.out)
	}
}

// The boot goroutine: the boot runner through the reaper, its end on the boot
// client, then (unless the machine goes down) the root and the watchdog.
func TestBootAndRoot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		exit     unix.WaitStatus
		startErr error
		down     bool
		want     []string
		not      []string
	}{
		{name: "ok", exit: 0, want: []string{"running the boot scripts"}, not: []string{"boot runner"}},
		{name: "fails", exit: 3 << 8, want: []string{"boot runner exited with status 3 after"}},
		{name: "cannot start", startErr: errors.New("ENOENT"), want: []string{"init: cannot start the boot runner: ENOENT"}},
		{name: "going down", exit: unix.WaitStatus(unix.SIGTERM), down: true, want: []string{"boot runner killed by SIGTERM"}, not: []string{"root system", "no root configured"}},
	} {
		in, w := newTestInit(t)
		withMux(in, w)
		w.exits[BinDir+"/ants"] = tc.exit
		w.startErr = tc.startErr
		in.powerDown.Store(tc.down)
		in.bootDone = make(chan struct{})
		vars, _ := bootvar.Load("ants.watchdog=0")
		in.bootAndRoot(vars)
		select {
		case <-in.bootDone:
		default:
			t.Errorf("%s: bootDone still open", tc.name)
		}
		if tc.startErr == nil {
			if p := w.nextProc(); p.argv() != BinDir+"/ants boot" {
				t.Errorf("%s: started %s", tc.name, p.argv())
			}
		}
		for _, s := range tc.want {
			if !w.logged(s) {
				t.Errorf("%s: no %q in the log:\n%s", tc.name, s, w.out)
			}
		}
		for _, s := range tc.not {
			if w.logged(s) {
				t.Errorf("%s: %q in the log:\n%s", tc.name, s, w.out)
			}
		}
	}
}

// The watchdog's period from ants.watchdog: 0 is off, a bad value the default.
func TestStartWatchdog(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    string
		want time.Duration // 0: no watchdog
		log  string
	}{
		{"0", 0, ""},
		{"7", 7 * time.Second, ""},
		{"abc", 5 * time.Second, "using the default, 5 s"},
		{"99999", 5 * time.Second, "using the default, 5 s"},
	} {
		in, w := newTestInit(t)
		slept := make(chan time.Duration, 1)
		in.root.Sleep = func(d time.Duration) {
			slept <- d
			runtime.Goexit() // the watchdog's goroutine ends here
		}
		in.startWatchdog(tc.v)
		var got time.Duration
		select {
		case got = <-slept:
		case <-time.After(100 * time.Millisecond):
		}
		if got != tc.want {
			t.Errorf("ants.watchdog=%s: period %v, want %v", tc.v, got, tc.want)
		}
		if tc.log != "" && !w.logged(tc.log) || tc.log == "" && w.out.String() != "" {
			t.Errorf("ants.watchdog=%s: log %q", tc.v, w.out)
		}
	}
}
