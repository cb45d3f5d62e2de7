package pid1

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/console"
)

func TestHelper(t *testing.T) {
	var out bytes.Buffer
	if st := Helper([]string{"probe", fmt.Sprint(os.Getpid())}, &out); st != 0 {
		t.Errorf("probe of a live process: %d %q", st, out.String())
	}
	out.Reset()
	if st := Helper([]string{"probe", "x"}, &out); st != 1 || !strings.Contains(out.String(), `"x" is not a pid`) {
		t.Errorf("probe x: %d %q", st, out.String())
	}
	out.Reset()
	if st := Helper([]string{"probe", "999999999"}, &out); st != 1 {
		t.Errorf("probe of no process: %d %q", st, out.String())
	}
	out.Reset()
	if st := Helper(nil, &out); st != 2 || !strings.Contains(out.String(), "not for use by hand") {
		t.Errorf("no arguments: %d %q", st, out.String())
	}
}

// The control socket's handler speaks for the lifecycle.
func TestCtlHandler(t *testing.T) {
	sys := newFakeSys(t, obedient)
	l, _, _ := newTestLife(sys)
	h := ctlHandler{&Init{root: l, sys: &initSys{sysPaths: sysPaths{Env: t.TempDir()}}}}

	if s := h.Status(); !strings.Contains(s, "state: stopped") {
		t.Errorf("status: %q", s)
	}
	if _, err := h.Start(map[string]string{"venti": "udp!x!1"}); err == nil {
		t.Errorf("a bad venti started")
	}
	if _, err := h.Start(map[string]string{}); err == nil || !strings.Contains(err.Error(), "no root configured") {
		t.Errorf("start with nothing: %v", err)
	}
	l.Start(ninePSource(t), true)
	if err := h.Stop(); err != nil || !strings.Contains(h.Status(), "state: stopped") {
		t.Errorf("stop: %v\n%s", err, h.Status())
	}
}

func TestChildEnv(t *testing.T) {
	for term, want := range map[string]string{"": "TERM=vt100", "linux": "TERM=vt100", "xterm": "TERM=xterm"} {
		t.Setenv("TERM", term)
		env := strings.Join(childEnv(), " ")
		if !strings.Contains(env, want) || !strings.Contains(env, "PATH="+childPath) || !strings.Contains(env, "ANTS=1") {
			t.Errorf("TERM=%q: %s", term, env)
		}
	}
}

func TestBoundedAndWaitFor(t *testing.T) {
	s := realSys(nil)
	if !s.bounded(time.Second, func() {}) {
		t.Errorf("a quick function did not end in time")
	}
	block := make(chan struct{})
	defer close(block)
	if s.bounded(20*time.Millisecond, func() { <-block }) {
		t.Errorf("a blocked function ended")
	}
	n := 0
	if !s.waitFor(time.Second, func() bool { n++; return n == 3 }) {
		t.Errorf("waitFor gave up")
	}
	if s.waitFor(60*time.Millisecond, func() bool { return false }) {
		t.Errorf("waitFor of a false condition")
	}
}

func TestMachineHint(t *testing.T) {
	in := &Init{}
	m := newRootMachine(in)
	if h := m.Hint(); h != "rootctl stop or restart in the admin shell" || !m.RootFocused() {
		t.Errorf("no mux: %q %v", h, m.RootFocused())
	}
	in.mux = console.New([]io.Writer{io.Discard}, 0x01)
	in.rootc = in.mux.Client("root console", 'r')
	in.admin = in.mux.Client("admin shell", 'a')
	in.mux.Focus(in.admin)
	if h := m.Hint(); h != "^A a for the admin shell, then rootctl stop or restart" || m.RootFocused() {
		t.Errorf("mux: %q %v", h, m.RootFocused())
	}
}
