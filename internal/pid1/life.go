package pid1

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/rootsys"
	"golang.org/x/sys/unix"
)

// Life is the root system's lifecycle: its start, the stop escalation and the
// abandonment of processes stuck in the kernel, the watchdog's view of it (probes,
// "not responding", ants.onroothang) and the record rootctl status reads. What it
// does to the machine goes through Sys, so it is table-tested without a VM
// (life_test.go); PID 1's Sys is rootMachine (root.go). The policy when the root
// ends by itself is decideExit's, applied by PID 1 (rootExited).
type Life struct {
	Sys LifeSys
	Log func(format string, args ...any)
	Now func() time.Time
	// Sleep is the watchdog's pause between rounds.
	Sleep func(time.Duration)
	// Fixed waits of the stop, once SIGKILL is sent: for the namespace to end,
	// for the abort helper, and after it. Tests shorten them.
	AfterKill, AbortWait, AfterAbort time.Duration
	Poll                             time.Duration // how often a grace looks at the watchdog's view

	mu      sync.Mutex
	state   string
	src     rootsys.Source
	pid     int
	child   *Child
	started time.Time
	starts  int
	last    string        // how the last one ended
	exited  chan struct{} // closed when the current one is gone
	events  chan rootEvent
	gen     int // counts starts; a late exit of an abandoned root is ignored
	// The watchdog's view.
	hung      bool
	hungSince time.Time
	probeErr  string
	acting    bool // ants.onroothang is stopping and starting it
}

// LifeSys is the machine as the lifecycle sees it.
type LifeSys interface {
	// Start starts start number n of the root from src (its namespaces, cgroup,
	// /dev and console), giving it the console's focus if focus.
	Start(src rootsys.Source, n int, focus bool) (*Child, error)
	// Kill sends sig to pid: SIGKILL to the root's init ends its PID namespace.
	Kill(pid int, sig unix.Signal)
	// StopSignal is the signal that asks the init for its orderly shutdown, and
	// the grace that takes.
	StopSignal(pid int) (sig unix.Signal, name string, grace time.Duration)
	// Probe starts a look at the root's file system from its namespace; done
	// gives its exit status, kill ends it.
	Probe(pid int) (done <-chan unix.WaitStatus, kill func(), err error)
	// Vars reads the boot variables as they stand (/env).
	Vars() func(string) string
	// Server is the server of its list the running root came from ("" if none).
	Server() string
	// RootFocused says whether the console shows the root's console.
	RootFocused() bool
	// Hint is what the "root not responding" line tells the admin to do.
	Hint() string
	// Record writes the running root's pid for the admin's tools (0: none runs).
	Record(pid int)
}

// Child is one start of the root.
type Child struct {
	Pid  int
	Exit <-chan unix.WaitStatus
	// Note ends the "starting" line: where its console is.
	Note string
	// Break shuts a 9P root's connection to its server down (false: it has none
	// PID 1 holds); Abort starts the helper that force-unmounts the root's / from
	// inside its mount namespace (nil: none); Drop lets go of what PID 1 holds
	// for it (the namespace, the connection) once it is gone or abandoned;
	// Reaped cleans up once its init is reaped (its cgroup). Any may be nil.
	Break  func() bool
	Abort  func() <-chan struct{}
	Drop   func()
	Reaped func()
}

// rootEvent is a root's end that no stop asked for.
type rootEvent struct {
	ws     unix.WaitStatus
	src    rootsys.Source
	runFor time.Duration
}

// Root system states.
const (
	rootStopped  = "stopped"
	rootRunning  = "running"
	rootStopping = "stopping"
)

// NewLife returns the lifecycle of a root not started yet.
func NewLife(sys LifeSys, log func(string, ...any)) *Life {
	return &Life{Sys: sys, Log: log, Now: time.Now, Sleep: time.Sleep, state: rootStopped, events: make(chan rootEvent, 4),
		AfterKill: time.Second, AbortWait: 2 * time.Second, AfterAbort: 500 * time.Millisecond, Poll: 100 * time.Millisecond}
}

// Events gives the ends of the root that no stop asked for.
func (l *Life) Events() <-chan rootEvent { return l.events }

func (c *Child) doBreak() bool { return c != nil && c.Break != nil && c.Break() }
func (c *Child) doDrop() {
	if c != nil && c.Drop != nil {
		c.Drop()
	}
}
func (c *Child) doReaped() {
	if c != nil && c.Reaped != nil {
		c.Reaped()
	}
}

// Start starts the root system from src.
func (l *Life) Start(src rootsys.Source, focus bool) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state != rootStopped {
		return 0, fmt.Errorf("the root system is %s (pid %d); rootctl stop or restart first", l.state, l.pid)
	}
	if src.Kind == rootsys.None {
		return 0, fmt.Errorf("no root configured: set root= or venti= (rootctl start venti=tcp!HOST!PORT)")
	}
	l.starts++
	c, err := l.Sys.Start(src, l.starts, focus)
	if err != nil {
		return 0, fmt.Errorf("starting the root system: %v", err)
	}
	l.state, l.src, l.pid, l.child, l.started = rootRunning, src, c.Pid, c, l.Now()
	l.exited = make(chan struct{})
	l.gen++
	gen, exited := l.gen, l.exited
	l.hung, l.probeErr = false, ""
	l.Sys.Record(c.Pid)
	l.Log("root system: starting from %s (pid %d)%s", src, c.Pid, c.Note)
	go l.wait(c, gen, exited, src)
	return c.Pid, nil
}

// wait reaps one start of the root.
func (l *Life) wait(c *Child, gen int, exited chan struct{}, src rootsys.Source) {
	ws := <-c.Exit
	c.doDrop()
	l.mu.Lock()
	if l.gen != gen {
		// A root abandoned by stop (stuck in D state) ended at last.
		l.mu.Unlock()
		l.Log("root system: the abandoned root (pid %d) is gone at last", c.Pid)
		c.doReaped()
		return
	}
	stopping := l.state == rootStopping
	runFor := l.Now().Sub(l.started)
	l.state, l.pid, l.child = rootStopped, 0, nil
	l.last = Describe(ws)
	l.mu.Unlock()
	l.Sys.Record(0)
	close(exited)
	c.doReaped()
	if !stopping {
		l.events <- rootEvent{ws: ws, src: src, runFor: runFor}
	}
}

// Stop stops the root: a root the watchdog finds not responding at once (its 9P
// connection broken, SIGKILL to its PID namespace), any other with its init's
// stop signal and a grace first (cut short when the watchdog finds it not
// responding meanwhile). Processes stuck in the kernel after SIGKILL get the
// connection broken, then the abort helper, then are abandoned: they hold neither
// the caller nor the next root. grace 0 takes the init's own (Sys.StopSignal).
func (l *Life) Stop(grace time.Duration) error {
	l.mu.Lock()
	if l.state == rootStopped {
		l.mu.Unlock()
		return nil
	}
	l.state = rootStopping
	pid, exited, c := l.pid, l.exited, l.child
	hung := l.hung
	l.mu.Unlock()
	sig, sigName, initGrace := l.Sys.StopSignal(pid)
	if grace == 0 {
		grace = initGrace
	}
	stopped := func(d time.Duration) bool {
		select {
		case <-exited:
			l.Log("root system: stopped")
			return true
		case <-time.After(d):
			return false
		}
	}
	broken := false
	if hung {
		// An orderly shutdown needs its file system, which does not answer. Its
		// connection goes first, so that the processes SIGKILL wakes do not wait
		// for the dead server.
		broken = c.doBreak()
		how := "SIGKILL to its PID namespace"
		if broken {
			how = "its 9P connection broken and " + how
		}
		l.Log("root system: stopping pid %d, which does not respond: %s", pid, how)
	} else {
		l.Log("root system: stopping (%s to pid %d, SIGKILL after %v)", sigName, pid, grace)
		l.Sys.Kill(pid, sig)
		switch l.waitStop(exited, grace) {
		case stopExited:
			l.Log("root system: stopped")
			return nil
		case stopHung:
			// The watchdog found it not responding meanwhile: the rest of the
			// grace cannot help.
			broken = c.doBreak()
			how := "SIGKILL to its PID namespace now"
			if broken {
				how = "its 9P connection broken and " + how
			}
			l.Log("root system: not responding; %s", how)
		default:
			l.Log("root system: init still running after %v; SIGKILL to its PID namespace", grace)
		}
	}
	l.Sys.Kill(pid, unix.SIGKILL)
	if stopped(l.AfterKill) {
		return nil
	}
	if !broken && c.doBreak() {
		l.Log("root system: processes stuck after SIGKILL; breaking its 9P connection")
		if stopped(l.AfterKill) {
			return nil
		}
	}
	// Processes stuck in D state on a hung server keep the namespace's init from
	// ending. Abort the root's mounts from inside its mount namespace: a network
	// file system (NFS) fails its pending requests, and they can die.
	l.Log("root system: processes stuck (a hung file system?); aborting the root's mounts (MNT_FORCE, MNT_DETACH)")
	if c != nil && c.Abort != nil {
		if aborted := c.Abort(); aborted != nil {
			select {
			case <-exited:
				l.Log("root system: stopped")
				return nil
			case <-aborted:
				if stopped(l.AfterAbort) {
					return nil
				}
			case <-time.After(l.AbortWait):
				l.Log("root system: root-abort is stuck too (on the hung file system); going on")
			}
		}
	}
	// Leave them: nothing of the admin namespace depends on them, and a new root
	// does not need them gone.
	l.mu.Lock()
	if l.state != rootStopping {
		// It ended after all, just now (wait closes exited).
		l.mu.Unlock()
		l.Log("root system: stopped")
		return nil
	}
	l.gen++
	l.state, l.pid, l.child = rootStopped, 0, nil
	l.last = "abandoned: processes stuck in D state after SIGKILL"
	close(exited)
	l.mu.Unlock()
	c.doDrop()
	l.Sys.Record(0)
	l.Log("root system: abandoned pid %d with processes stuck in the kernel; a new root can start", pid)
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
func (l *Life) waitStop(exited <-chan struct{}, grace time.Duration) int {
	deadline := time.After(grace)
	for {
		select {
		case <-exited:
			return stopExited
		case <-deadline:
			return stopTimedOut
		case <-time.After(l.Poll):
			l.mu.Lock()
			hung := l.hung
			l.mu.Unlock()
			if hung {
				return stopHung
			}
		}
	}
}

// Running gives the running root's pid and state.
func (l *Life) Running() (pid int, state string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pid, l.state
}

// Status is rootctl status's text.
func (l *Life) Status() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "state: %s\n", l.state)
	if l.state != rootStopped || l.starts > 0 {
		fmt.Fprintf(&b, "source: %s\n", l.src)
		if len(l.src.Servers) > 1 {
			fmt.Fprintf(&b, "servers: %s\n", strings.Join(l.src.Servers, " "))
		}
		if cur := l.Sys.Server(); cur != "" && l.state != rootStopped {
			fmt.Fprintf(&b, "server: %s\n", cur)
		}
		fmt.Fprintf(&b, "init: %s\n", l.src.Init)
	}
	if l.pid != 0 {
		fmt.Fprintf(&b, "pid: %d\n", l.pid)
		fmt.Fprintf(&b, "uptime: %s\n", l.Now().Sub(l.started).Round(time.Second))
		if l.hung {
			fmt.Fprintf(&b, "responding: no, for %s (%s)\n", l.Now().Sub(l.hungSince).Round(time.Second), l.probeErr)
		} else {
			b.WriteString("responding: yes\n")
		}
	}
	fmt.Fprintf(&b, "starts: %d\n", l.starts)
	if l.last != "" {
		fmt.Fprintf(&b, "last exit: %s\n", l.last)
	}
	return b.String()
}

// Watch is the watchdog: every interval a probe (Sys.Probe) looks at the root's
// "/" from its namespace and gets timeout to answer. PID 1 itself never touches the
// root's files, and never waits for a probe that hangs: at most one is out at a
// time. It says "root not responding" once, and says so again when the root
// answers. It runs for ever.
func (l *Life) Watch(interval, timeout time.Duration) {
	var stuck <-chan unix.WaitStatus // a probe that did not answer, not reaped yet
	for {
		l.Sleep(interval)
		stuck = l.watchOnce(stuck, timeout)

	}
}

// watchOnce is one round of the watchdog; it returns the probe still stuck.
func (l *Life) watchOnce(stuck <-chan unix.WaitStatus, timeout time.Duration) <-chan unix.WaitStatus {
	if stuck != nil {
		select {
		case <-stuck:
		default:
			// Still stuck: the root still does not answer.
			pid, _ := l.Running()
			l.onHang(pid)
			return stuck
		}
	}
	pid, state := l.Running()
	if state != rootRunning || pid == 0 {
		return nil
	}
	done, kill, err := l.Sys.Probe(pid)
	if err != nil {
		return nil
	}
	var why string
	select {
	case ws := <-done:
		if ws.Exited() && ws.ExitStatus() == 0 {
			l.answered(pid)
			return nil
		}
		why = "its file system fails (" + Describe(ws) + ")"
	case <-time.After(timeout):
		kill()
		stuck = done
		why = "no answer in " + timeout.String()
	}
	l.silent(pid, why)
	l.onHang(pid)
	return stuck
}

func (l *Life) silent(pid int, why string) {
	l.mu.Lock()
	if l.pid != pid || l.hung {
		l.mu.Unlock()
		return
	}
	l.hung, l.hungSince, l.probeErr = true, l.Now(), why
	l.mu.Unlock()
	l.Log("root not responding: %s; %s", why, l.Sys.Hint())
}

func (l *Life) answered(pid int) {
	l.mu.Lock()
	if l.pid != pid || !l.hung {
		l.mu.Unlock()
		return
	}
	d := l.Now().Sub(l.hungSince).Round(time.Second)
	l.hung = false
	l.mu.Unlock()
	l.Log("root responding again after %s", d)
}

// onHang applies ants.onroothang to a root not responding for ants.hangafter
// seconds: report (nothing more), failover (stop it as a hung root and start it
// from the next server of its list), restart (the same server). The stop and
// start run beside the watchdog; one at a time.
func (l *Life) onHang(pid int) {
	get := l.Sys.Vars()
	policy := get("ants.onroothang")
	if policy != "failover" && policy != "restart" {
		return
	}
	after, err := bootvar.Seconds("ants.hangafter", get("ants.hangafter"))
	if err != nil {
		after = 30 * time.Second
	}
	l.mu.Lock()
	if l.pid != pid || !l.hung || l.acting || l.Now().Sub(l.hungSince) < after {
		l.mu.Unlock()
		return
	}
	l.acting = true
	src, since := l.src, l.Now().Sub(l.hungSince).Round(time.Second)
	l.mu.Unlock()
	go func() {
		defer func() {
			l.mu.Lock()
			l.acting = false
			l.mu.Unlock()
		}()
		next, what := src, "restarting it from the same server"
		if policy == "failover" {
			if len(src.Servers) < 2 {
				what = "one server only (" + src.String() + "): restarting it"
			} else {
				next = src.Next(l.Sys.Server())
				what = "failing over to " + next.Servers[0]
			}
		}
		l.Log("root system: not responding for %s; %s (ants.onroothang=%s)", since, what, policy)
		if err := l.Stop(0); err != nil {
			l.Log("root system: %v", err)
		}
		if _, err := l.Start(next, l.Sys.RootFocused()); err != nil {
			l.Log("root system: %v", err)
		}
	}()
}

// exitAction is what PID 1 does when the root ends by itself: power (the machine
// goes), ask (ask for these variables again, then start it), restart (start it
// again from the same source), or none of them: the console to the admin shell.
// notes are the log lines to write first.
type exitAction struct {
	power   string
	ask     []string
	restart bool
	notes   []string
}

// decideExit applies the policy to a root's end: reboot(2) in its PID namespace
// ends its init with SIGINT (power off, halt) or SIGHUP (reboot): the root asked
// for the machine; a bad source (ExitSource) asks again for what the command line
// set to "ask"; else ants.onrootexit (restart, unless it lived less than 5 s;
// poweroff; reboot; or the admin shell).
func decideExit(ev rootEvent, onExit string, ask []string) exitAction {
	ws := ev.ws
	if ws.Signaled() {
		switch ws.Signal() {
		case unix.SIGINT:
			return exitAction{power: "poweroff"}
		case unix.SIGHUP:
			return exitAction{power: "reboot"}
		}
	}
	if ws.Exited() && ws.ExitStatus() == rootsys.ExitSource && len(ask) > 0 {
		return exitAction{ask: ask, notes: []string{"root system: asking again for " + strings.Join(ask, " and ")}}
	}
	down := "root system: down; admin shell (rootctl start to start it again)"
	switch onExit {
	case "restart":
		if ev.runFor < 5*time.Second {
			return exitAction{notes: []string{"root system: it lived less than 5 s; not restarting (rootctl start to try again)", down}}
		}
		return exitAction{restart: true, notes: []string{"root system: restarting (ants.onrootexit=restart)"}}
	case "poweroff", "reboot":
		return exitAction{power: onExit}
	}
	return exitAction{notes: []string{down}}
}
