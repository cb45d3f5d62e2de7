package pid1

import (
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/fakeio"
	"golang.org/x/sys/unix"
)

// hubProg is a hub's program in tests: a stream the mux reads, and an exit the
// test gives.
type hubProg struct {
	*fakeio.Stream
	exit chan unix.WaitStatus
}

type hubWorld struct {
	mu      sync.Mutex
	started []string
	progs   map[int]*hubProg
	signals []string
	next    int
	fail    error
	focused int
}

func newHubWorld(t *testing.T) (*hubs, *hubWorld) {
	m := console.New([]io.Writer{io.Discard}, 0)
	m.Client("admin shell", 'a')
	m.Client("root console", 'r')
	w := &hubWorld{progs: map[int]*hubProg{}, next: 500}
	h := &hubs{mux: m, pids: map[*console.Client]int{}, killAfter: 20 * time.Millisecond,
		start: func(c *console.Client, path string, args ...string) (<-chan unix.WaitStatus, int, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.fail != nil {
				return nil, 0, w.fail
			}
			w.next++
			p := &hubProg{Stream: fakeio.NewStream(), exit: make(chan unix.WaitStatus, 1)}
			c.Attach(p)
			w.progs[w.next] = p
			w.started = append(w.started, strings.Join(append([]string{path}, args...), " "))
			return p.exit, w.next, nil
		},
		kill: func(pid int, sig unix.Signal) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.signals = append(w.signals, unix.SignalName(sig))
			if p := w.progs[-pid]; p != nil && sig == unix.SIGKILL {
				p.exit <- unix.WaitStatus(9)
			}
		},
		refocus: func() { w.mu.Lock(); w.focused++; w.mu.Unlock() },
	}
	return h, w
}

func TestHubsNewExitKill(t *testing.T) {
	h, w := newHubWorld(t)
	if err := h.New("work", nil); err != nil {
		t.Fatal(err)
	}
	if err := h.New("tool", []string{"/bin/sh", "-c", "true"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(w.started, "; "); got != BinDir+"/antsh; /bin/sh -c true" {
		t.Errorf("started %q", got)
	}
	if err := h.New("work", nil); err == nil || !strings.Contains(err.Error(), "hub work exists") {
		t.Errorf("a second work: %v", err)
	}
	if err := h.New("x", []string{"no-such-program-here"}); err == nil || !strings.Contains(err.Error(), "command not found") {
		t.Errorf("an unknown program: %v", err)
	}
	w.fail = errors.New("fork: no memory")
	if err := h.New("y", nil); err == nil || !strings.Contains(err.Error(), "fork: no memory") || h.Lookup("y") != nil {
		t.Errorf("a failed start: %v, hub %v", err, h.Lookup("y"))
	}
	w.fail = nil

	// The program of tool ends: its hub stays, with its state.
	tool := h.Lookup("tool")
	v, _ := tool.AttachViewer(io.Discard, "test")
	w.progs[502].exit <- unix.WaitStatus(3 << 8)
	select {
	case <-v.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a viewer did not end with the hub's program")
	}
	eventually(t, "state", func() bool {
		for _, i := range h.Hubs() {
			if i.Name == "tool" {
				return i.State == "exited with status 3"
			}
		}
		return false
	})
	if !strings.Contains(string(tool.Backlog()), "sh exited with status 3]") {
		t.Errorf("backlog %q", tool.Backlog())
	}

	// The console's own are not for hub kill.
	if err := h.Kill("root"); err == nil || !strings.Contains(err.Error(), "console's own") {
		t.Errorf("kill root: %v", err)
	}
	if err := h.Kill("nosuch"); err == nil || !strings.Contains(err.Error(), "no hub nosuch") {
		t.Errorf("kill nosuch: %v", err)
	}
	// A running program gets SIGHUP, then SIGKILL when it stays; the hub goes
	// at once, and a focused one gives the console back.
	h.Focus(h.Lookup("work"))
	if err := h.Kill("work"); err != nil {
		t.Fatal(err)
	}
	if h.Lookup("work") != nil {
		t.Errorf("the killed hub is still listed")
	}
	eventually(t, "SIGKILL", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return strings.Join(w.signals, ",") == "SIGHUP,SIGCONT,SIGKILL"
	})
	if w.focused != 1 {
		t.Errorf("refocus called %d times", w.focused)
	}
	// An ended program's hub goes with no signal.
	w.signals = nil
	if err := h.Kill("tool"); err != nil || len(w.signals) != 0 {
		t.Errorf("kill of an ended hub: %v, signals %v", err, w.signals)
	}
}

func TestLookPath(t *testing.T) {
	if _, err := lookPath("/etc/hostname-not-here"); err == nil {
		t.Errorf("a missing path was found")
	}
	if _, err := lookPath("/etc"); err == nil {
		t.Errorf("a directory was found")
	}
	if p, err := lookPath("/bin/sh"); err != nil || p != "/bin/sh" {
		t.Errorf("lookPath(/bin/sh) = %q, %v", p, err)
	}
	if p, err := lookPath("sh"); err != nil || !strings.HasSuffix(p, "/sh") {
		t.Errorf("lookPath(sh) = %q, %v", p, err)
	}
}
