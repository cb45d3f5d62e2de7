package pid1

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ants/ants/internal/fakeio"
	"github.com/ants/ants/internal/rootsys"
	"golang.org/x/sys/unix"
)

// How a fake root's init takes signals.
type behaviour int

const (
	obedient     behaviour = iota // ends on its stop signal
	stubborn                      // ignores it; SIGKILL ends it
	stuck9P                       // SIGKILL ends it once its connection is broken
	stuckForEver                  // nothing ends it until the test says
)

type fakeChild struct {
	exit   chan unix.WaitStatus
	killed bool // SIGKILL came
	broken bool // its connection was shut
	ended  bool
	drops  int
	reaped bool
}

// fakeSys is the machine of the lifecycle's tests.
type fakeSys struct {
	mu       sync.Mutex
	t        *testing.T
	how      behaviour
	has9P    bool
	grace    time.Duration
	next     int
	children map[int]*fakeChild
	signals  []string // "PID SIG" in order
	records  []int
	starts   []rootsys.Source
	startErr error
	aborts   int
	abortEnd bool // the abort helper ends (at once)
	probe    func(pid int) (<-chan unix.WaitStatus, func(), error)
	vars     map[string]string
	server   string
	focused  bool
}

func newFakeSys(t *testing.T, how behaviour) *fakeSys {
	return &fakeSys{t: t, how: how, grace: 50 * time.Millisecond, next: 100, children: map[int]*fakeChild{}, vars: map[string]string{}}
}

func (f *fakeSys) end(c *fakeChild, ws unix.WaitStatus) {
	if !c.ended {
		c.ended = true
		c.exit <- ws
	}
}

func (f *fakeSys) Start(src rootsys.Source, n int, focus bool) (*Child, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return nil, f.startErr
	}
	f.next++
	pid := f.next
	fc := &fakeChild{exit: make(chan unix.WaitStatus, 1)}
	f.children[pid] = fc
	f.starts = append(f.starts, src)
	c := &Child{Pid: pid, Exit: fc.exit, Note: fmt.Sprintf("; start %d", n)}
	if f.has9P {
		c.Break = func() bool {
			f.mu.Lock()
			defer f.mu.Unlock()
			fc.broken = true
			if fc.killed && f.how == stuck9P {
				f.end(fc, unix.WaitStatus(9)) // killed by SIGKILL
			}
			return true
		}
	}
	c.Abort = func() <-chan struct{} {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.aborts++
		ch := make(chan struct{})
		if f.abortEnd {
			close(ch)
		}
		return ch
	}
	c.Drop = func() { f.mu.Lock(); fc.drops++; f.mu.Unlock() }
	c.Reaped = func() { f.mu.Lock(); fc.reaped = true; f.mu.Unlock() }
	return c, nil
}

func (f *fakeSys) Kill(pid int, sig unix.Signal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signals = append(f.signals, fmt.Sprintf("%d %s", pid, unix.SignalName(sig)))
	c := f.children[pid]
	if c == nil {
		return
	}
	switch {
	case sig == unix.SIGTERM && f.how == obedient:
		f.end(c, 0)
	case sig == unix.SIGKILL:
		c.killed = true
		if f.how == stubborn || f.how == obedient || (f.how == stuck9P && c.broken) {
			f.end(c, unix.WaitStatus(9))
		}
	}
}

func (f *fakeSys) StopSignal(pid int) (unix.Signal, string, time.Duration) {
	return unix.SIGTERM, "SIGTERM", f.grace
}

func (f *fakeSys) Probe(pid int) (<-chan unix.WaitStatus, func(), error) {
	if f.probe == nil {
		return nil, nil, errors.New("no probe")
	}
	return f.probe(pid)
}

func (f *fakeSys) Vars() func(string) string {
	return func(k string) string { f.mu.Lock(); defer f.mu.Unlock(); return f.vars[k] }
}
func (f *fakeSys) Server() string    { f.mu.Lock(); defer f.mu.Unlock(); return f.server }
func (f *fakeSys) RootFocused() bool { return f.focused }
func (f *fakeSys) Hint() string      { return "HINT" }
func (f *fakeSys) Record(pid int)    { f.mu.Lock(); f.records = append(f.records, pid); f.mu.Unlock() }

func (f *fakeSys) child(pid int) *fakeChild {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.children[pid]
}

func (f *fakeSys) sigs() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.signals, ", ")
}

type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func (l *logLines) has(s string) bool { return strings.Contains(l.String(), s) }

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	fakeio.Eventually(t, what, f)
}

// newTestLife is a lifecycle over sys with short fixed waits and a clock the test
// moves.
func newTestLife(sys *fakeSys) (*Life, *logLines, *fakeClock) {
	log := &logLines{}
	l := NewLife(sys, log.printf)
	l.AfterKill, l.AbortWait, l.AfterAbort, l.Poll = 30*time.Millisecond, 60*time.Millisecond, 20*time.Millisecond, 5*time.Millisecond
	clk := &fakeClock{now: time.Unix(1_000_000, 0)}
	l.Now = clk.Now
	return l, log, clk
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func ninePSource(t *testing.T) rootsys.Source {
	vars := map[string]string{"venti": "tcp!10.0.2.100!564,tcp!10.0.2.101!564", "ants.aname": "/srv/root"}
	src, err := rootsys.FromVars(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestLifeStartStatusStop(t *testing.T) {
	sys := newFakeSys(t, obedient)
	l, log, clk := newTestLife(sys)
	src := ninePSource(t)
	pid, err := l.Start(src, true)
	if err != nil || pid != 101 {
		t.Fatalf("Start = %d, %v", pid, err)
	}
	if !log.has("root system: starting from 9p tcp!10.0.2.100!564 aname=/srv/root (pid 101); start 1") {
		t.Errorf("log: %s", log)
	}
	if _, err := l.Start(src, true); err == nil || !strings.Contains(err.Error(), "the root system is running (pid 101); rootctl stop or restart first") {
		t.Errorf("second Start: %v", err)
	}
	clk.Add(90 * time.Second)
	sys.server = "tcp!10.0.2.100!564"
	st := l.Status()
	for _, want := range []string{"state: running\n", "servers: tcp!10.0.2.100!564 tcp!10.0.2.101!564\n", "server: tcp!10.0.2.100!564\n",
		"pid: 101\n", "uptime: 1m30s\n", "responding: yes\n", "starts: 1\n"} {
		if !strings.Contains(st, want) {
			t.Errorf("status has no %q:\n%s", want, st)
		}
	}
	if err := l.Stop(0); err != nil {
		t.Fatal(err)
	}
	if got := sys.sigs(); got != "101 SIGTERM" {
		t.Errorf("signals %q, want SIGTERM only", got)
	}
	if !log.has("root system: stopping (SIGTERM to pid 101, SIGKILL after 50ms)\nroot system: stopped") {
		t.Errorf("log: %s", log)
	}
	eventually(t, "reaped", func() bool {
		c := sys.child(101)
		sys.mu.Lock()
		defer sys.mu.Unlock()
		return c.reaped && c.drops == 1
	})
	st = l.Status()
	if !strings.Contains(st, "state: stopped\n") || !strings.Contains(st, "last exit: exited\n") || strings.Contains(st, "pid:") {
		t.Errorf("status after stop:\n%s", st)
	}
	select {
	case ev := <-l.Events():
		t.Errorf("a stop asked for gave an event: %+v", ev)
	default:
	}
	if fmt.Sprint(sys.records) != "[101 0]" {
		t.Errorf("records %v", sys.records)
	}
	if err := l.Stop(0); err != nil {
		t.Errorf("Stop of a stopped root: %v", err)
	}
}

func TestLifeStartRefused(t *testing.T) {
	sys := newFakeSys(t, obedient)
	l, _, _ := newTestLife(sys)
	if _, err := l.Start(rootsys.Source{Kind: rootsys.None}, true); err == nil || !strings.Contains(err.Error(), "no root configured") {
		t.Errorf("Start(None): %v", err)
	}
	sys.startErr = errors.New("fork: no memory")
	if _, err := l.Start(ninePSource(t), true); err == nil || err.Error() != "starting the root system: fork: no memory" {
		t.Errorf("Start failing: %v", err)
	}
	if _, state := l.Running(); state != rootStopped {
		t.Errorf("state %s after a failed start", state)
	}
	sys.startErr = nil
	if _, err := l.Start(ninePSource(t), true); err != nil {
		t.Errorf("Start after a failed one: %v", err)
	}
}

// The escalation, case by case: what is sent, what is logged, how it ends.
func TestLifeStopEscalation(t *testing.T) {
	for _, c := range []struct {
		name     string
		how      behaviour
		has9P    bool
		hung     bool
		abortEnd bool
		sigs     string
		logs     []string
		not      []string
		aborts   int
		abandon  bool
	}{
		{name: "stubborn init", how: stubborn, sigs: "101 SIGTERM, 101 SIGKILL",
			logs: []string{"init still running after 50ms; SIGKILL to its PID namespace", "root system: stopped"}, not: []string{"9P", "abort"}},
		{name: "stuck on 9P, not found hung", how: stuck9P, has9P: true, sigs: "101 SIGTERM, 101 SIGKILL",
			logs: []string{"processes stuck after SIGKILL; breaking its 9P connection", "root system: stopped"}, not: []string{"aborting"}},
		{name: "hung 9P root", how: stuck9P, has9P: true, hung: true, sigs: "101 SIGKILL",
			logs: []string{"stopping pid 101, which does not respond: its 9P connection broken and SIGKILL to its PID namespace", "root system: stopped"},
			not:  []string{"SIGTERM", "aborting"}},
		{name: "hung, no 9P connection", how: stuckForEver, hung: true, abortEnd: true, sigs: "101 SIGKILL", aborts: 1, abandon: true,
			logs: []string{"which does not respond: SIGKILL to its PID namespace", "aborting the root's mounts", "abandoned pid 101"}},
		{name: "stuck for ever, abort stuck too", how: stuckForEver, has9P: true, sigs: "101 SIGTERM, 101 SIGKILL", aborts: 1, abandon: true,
			logs: []string{"breaking its 9P connection", "root-abort is stuck too", "abandoned pid 101 with processes stuck in the kernel; a new root can start"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sys := newFakeSys(t, c.how)
			sys.has9P, sys.abortEnd = c.has9P, c.abortEnd
			l, log, _ := newTestLife(sys)
			l.Start(ninePSource(t), true)
			if c.hung {
				l.silent(101, "no answer in 5s")
			}
			if err := l.Stop(0); err != nil {
				t.Fatal(err)
			}
			if got := sys.sigs(); got != c.sigs {
				t.Errorf("signals %q, want %q", got, c.sigs)
			}
			for _, w := range c.logs {
				if !log.has(w) {
					t.Errorf("log has no %q:\n%s", w, log)
				}
			}
			for _, w := range c.not {
				if strings.Contains(strings.SplitN(log.String(), "root system: stopping", 2)[1], w) {
					t.Errorf("log has %q:\n%s", w, log)
				}
			}
			if sys.aborts != c.aborts {
				t.Errorf("%d aborts, want %d", sys.aborts, c.aborts)
			}
			if _, state := l.Running(); state != rootStopped {
				t.Errorf("state %s after Stop", state)
			}
			if !c.abandon {
				return
			}
			// Abandoned: a new root starts, and the old one's end, when it comes, is
			// only logged.
			if !strings.Contains(l.Status(), "last exit: abandoned: processes stuck in D state after SIGKILL") {
				t.Errorf("status: %s", l.Status())
			}
			if pid, err := l.Start(ninePSource(t), true); err != nil || pid != 102 {
				t.Fatalf("Start after abandonment: %d, %v", pid, err)
			}
			old := sys.child(101)
			sys.mu.Lock()
			sys.end(old, unix.WaitStatus(9))
			sys.mu.Unlock()
			eventually(t, "gone at last", func() bool { return log.has("root system: the abandoned root (pid 101) is gone at last") })
			eventually(t, "old cgroup", func() bool { sys.mu.Lock(); defer sys.mu.Unlock(); return old.reaped })
			if pid, state := l.Running(); pid != 102 || state != rootRunning {
				t.Errorf("the old root's end touched the new one: %d %s", pid, state)
			}
			select {
			case ev := <-l.Events():
				t.Errorf("the abandoned root's end gave an event: %+v", ev)
			default:
			}
		})
	}
}

// A grace ends when the watchdog finds the root not responding meanwhile.
func TestLifeGraceCutShortByHang(t *testing.T) {
	sys := newFakeSys(t, stuck9P)
	sys.has9P = true
	sys.grace = time.Hour
	l, log, _ := newTestLife(sys)
	l.Start(ninePSource(t), true)
	go func() {
		time.Sleep(50 * time.Millisecond)
		l.silent(101, "no answer in 5s")
	}()
	done := make(chan error)
	go func() { done <- l.Stop(0) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the grace was not cut short")
	}
	if !log.has("root system: not responding; its 9P connection broken and SIGKILL to its PID namespace now") || !log.has("root system: stopped") {
		t.Errorf("log: %s", log)
	}
}

func TestLifeExitEvent(t *testing.T) {
	sys := newFakeSys(t, obedient)
	l, _, clk := newTestLife(sys)
	src := ninePSource(t)
	l.Start(src, true)
	clk.Add(7 * time.Second)
	sys.mu.Lock()
	sys.end(sys.children[101], unix.WaitStatus(3<<8)) // exit 3
	sys.mu.Unlock()
	select {
	case ev := <-l.Events():
		if !ev.ws.Exited() || ev.ws.ExitStatus() != 3 || ev.runFor != 7*time.Second || ev.src.String() != src.String() {
			t.Errorf("event %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	if !strings.Contains(l.Status(), "last exit: exited with status 3") {
		t.Errorf("status: %s", l.Status())
	}
}

// probeWith makes probes that end with the statuses given, in turn; nil hangs.
func probeWith(results ...*unix.WaitStatus) (func(int) (<-chan unix.WaitStatus, func(), error), *int) {
	var mu sync.Mutex
	i, kills := 0, 0
	return func(int) (<-chan unix.WaitStatus, func(), error) {
		mu.Lock()
		defer mu.Unlock()
		ch := make(chan unix.WaitStatus, 1)
		r := results[min(i, len(results)-1)]
		i++
		if r != nil {
			ch <- *r
		}
		return ch, func() { mu.Lock(); kills++; mu.Unlock() }, nil
	}, &kills
}

func ws(status int) *unix.WaitStatus { w := unix.WaitStatus(status << 8); return &w }

func TestLifeWatch(t *testing.T) {
	sys := newFakeSys(t, obedient)
	l, log, clk := newTestLife(sys)
	l.Start(ninePSource(t), true)
	var kills *int
	sys.probe, kills = probeWith(ws(0), ws(1), ws(0), nil)
	stuck := l.watchOnce(nil, time.Second)
	if stuck != nil || log.has("not responding") {
		t.Fatalf("an answering root: %s", log)
	}
	l.watchOnce(nil, time.Second)
	if !log.has("root not responding: its file system fails (exited with status 1); HINT") {
		t.Errorf("log: %s", log)
	}
	clk.Add(4 * time.Second)
	if !strings.Contains(l.Status(), "responding: no, for 4s (its file system fails (exited with status 1))") {
		t.Errorf("status: %s", l.Status())
	}
	l.watchOnce(nil, time.Second)
	if !log.has("root responding again after 4s") {
		t.Errorf("log: %s", log)
	}
	stuck = l.watchOnce(nil, 20*time.Millisecond)
	if stuck == nil || *kills != 1 || !log.has("root not responding: no answer in 20ms; HINT") {
		t.Errorf("a probe that hangs: stuck %v, kills %d, log %s", stuck, *kills, log)
	}
	// The stuck probe is not reaped yet: no new probe, still stuck.
	if again := l.watchOnce(stuck, 20*time.Millisecond); again != stuck {
		t.Errorf("a new probe while one is stuck")
	}
	if n := strings.Count(log.String(), "root not responding"); n != 2 {
		t.Errorf("said %d times", n)
	}
}

// ants.onroothang=failover moves a root hung for ants.hangafter to the next server.
func TestLifeFailover(t *testing.T) {
	sys := newFakeSys(t, stuck9P)
	sys.has9P = true
	sys.vars = map[string]string{"ants.onroothang": "failover", "ants.hangafter": "10"}
	sys.server = "tcp!10.0.2.100!564"
	l, log, clk := newTestLife(sys)
	l.Start(ninePSource(t), true)
	sys.probe, _ = probeWith(nil)
	stuck := l.watchOnce(nil, 10*time.Millisecond)
	clk.Add(5 * time.Second)
	l.watchOnce(stuck, 10*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	if log.has("failing over") {
		t.Fatalf("failed over before ants.hangafter: %s", log)
	}
	clk.Add(6 * time.Second)
	l.watchOnce(stuck, 10*time.Millisecond)
	eventually(t, "the new root", func() bool { pid, _ := l.Running(); return pid == 102 })
	if !log.has("root system: not responding for 11s; failing over to tcp!10.0.2.101!564 (ants.onroothang=failover)") ||
		!log.has("its 9P connection broken and SIGKILL") {
		t.Errorf("log: %s", log)
	}
	sys.mu.Lock()
	next := sys.starts[1]
	sys.mu.Unlock()
	if next.Servers[0] != "tcp!10.0.2.101!564" || next.Venti.Host != "10.0.2.101" {
		t.Errorf("second start from %+v", next)
	}
	// report (the default) does nothing more than say so.
	sys2 := newFakeSys(t, stuck9P)
	l2, log2, clk2 := newTestLife(sys2)
	l2.Start(ninePSource(t), true)
	sys2.probe, _ = probeWith(nil)
	st := l2.watchOnce(nil, 10*time.Millisecond)
	clk2.Add(time.Hour)
	l2.watchOnce(st, 10*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	if pid, _ := l2.Running(); pid != 101 || log2.has("restarting") {
		t.Errorf("report policy acted: %s", log2)
	}
}

func TestDecideExit(t *testing.T) {
	killed := func(s unix.Signal) unix.WaitStatus { return unix.WaitStatus(s) }
	for _, c := range []struct {
		name   string
		ev     rootEvent
		policy string
		ask    []string
		want   string
	}{
		{"poweroff from the root", rootEvent{ws: killed(unix.SIGINT)}, "", nil, "power=poweroff"},
		{"reboot from the root", rootEvent{ws: killed(unix.SIGHUP)}, "restart", nil, "power=reboot"},
		{"bad source, ask", rootEvent{ws: *ws(rootsys.ExitSource)}, "", []string{"venti"}, "ask=[venti] notes=[root system: asking again for venti]"},
		{"bad source, nothing to ask", rootEvent{ws: *ws(rootsys.ExitSource)}, "", nil, "admin notes=[root system: down; admin shell (rootctl start to start it again)]"},
		{"restart", rootEvent{ws: 0, runFor: time.Minute}, "restart", nil, "restart notes=[root system: restarting (ants.onrootexit=restart)]"},
		{"restart too soon", rootEvent{ws: 0, runFor: time.Second}, "restart", nil,
			"admin notes=[root system: it lived less than 5 s; not restarting (rootctl start to try again) root system: down; admin shell (rootctl start to start it again)]"},
		{"poweroff policy", rootEvent{ws: *ws(1)}, "poweroff", nil, "power=poweroff"},
		{"reboot policy", rootEvent{ws: *ws(1)}, "reboot", nil, "power=reboot"},
		{"default", rootEvent{ws: killed(unix.SIGKILL)}, "", nil, "admin notes=[root system: down; admin shell (rootctl start to start it again)]"},
	} {
		a := decideExit(c.ev, c.policy, c.ask)
		var got string
		switch {
		case a.power != "":
			got = "power=" + a.power
		case len(a.ask) > 0:
			got = fmt.Sprintf("ask=%v", a.ask)
		case a.restart:
			got = "restart"
		default:
			got = "admin"
		}
		if len(a.notes) > 0 {
			got += fmt.Sprintf(" notes=%v", a.notes)
		}
		if got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
