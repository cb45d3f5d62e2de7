package shell

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"mvdan.cc/sh/v3/syntax"
)

// TestKillTimeout: a command that ignores SIGINT gets SIGKILL killTimeout after ^C
// cancels it, and the shell gets its status back.
func TestKillTimeout(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh on this host")
	}
	t.Parallel()
	r, err := newRunner(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The host's sh ignores SIGINT, and so does the sleep it becomes.
	f, err := syntax.NewParser().Parse(strings.NewReader(`sh -c 'trap "" INT; exec sleep 30'`), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err = r.Run(ctx, f)
	took := time.Since(start)
	if err == nil {
		t.Fatal("no error from a cancelled command")
	}
	if took < 50*time.Millisecond {
		t.Fatalf("returned at once: %v", err)
	}
	if took < killTimeout || took > killTimeout+5*time.Second {
		t.Errorf("the command ran %v after ^C; want SIGKILL after %v", took-100*time.Millisecond, killTimeout)
	}
}
