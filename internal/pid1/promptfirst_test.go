package pid1

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ants/ants/internal/bootvar"
)

func TestPromptFirst(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		want    bool
	}{
		{"console=ttyS0", true},
		{"sysname=later ip=none ants.sshd=22", true},
		{"interactive=no", true},
		{"root=LABEL=x", false},
		{"venti=tcp!10.0.2.2!564", false},
		{"sysname=ask", false},
		{"ip=ask", false},
		{"interactive=yes", false},
		{"ants.break=network", false},
	} {
		params, errs := bootvar.ParseCmdline(tc.cmdline)
		if len(errs) > 0 {
			t.Fatalf("%q: %v", tc.cmdline, errs)
		}
		s := &bootvar.Set{}
		s.Apply(params, "cmdline")
		if got := promptFirst(s); got != tc.want {
			t.Errorf("promptFirst(%q) = %v, want %v", tc.cmdline, got, tc.want)
		}
	}
	if promptFirst(nil) {
		t.Error("promptFirst(nil): no variables, yet the prompt first")
	}
}

// With the prompt first, the admin shell has the console during the boot; at its
// end it keeps it, and gets an Enter only if nobody used it and the boot renamed
// the machine (here the host's name stands for the new one).
func TestPromptFirstBootEnd(t *testing.T) {
	t.Parallel()
	if h, _ := os.Hostname(); h == "ants" || h == "" {
		t.Skip("the host is called ants: no rename to see")
	}
	for _, used := range []bool{false, true} {
		in, w := newTestInit(t)
		withMux(in, w)
		in.bootDone = make(chan struct{})
		in.sigs = make(chan os.Signal, 1)
		in.promptFirst = true
		supervise(t, in, w)
		w.nextProc()
		in.mux.Focus(in.admin) // as stage2 does
		if used {
			in.mux.Input(strings.NewReader("x"))
		}
		close(in.bootDone)
		want := "\r"
		if used {
			want = "x"
		}
		eventually(t, "the admin shell's input", func() bool { return w.stream(in.admin).Got() == want })
		for i := 1; i <= 3; i++ { // a few rounds of the loop: nothing more comes
			in.sigs <- unix.SIGHUP
			eventually(t, "a round", func() bool { return strings.Count(w.out.String(), "ignored") == i })
		}
		if got := w.stream(in.admin).Got(); got != want || in.mux.Focused() != in.admin {
			t.Errorf("used %v: admin shell got %q, want %q; focus on %s", used, got, want, in.mux.Focused().Name)
		}
	}
}
