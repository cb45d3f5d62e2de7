package testns

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ants/ants/internal/mount"
)

// Checked is Rerun in a new private mount namespace, with TMPDIR below a directory
// the parent removes, and, in the parent, CheckUntouched on the host's mount table
// afterwards (ours says which lines the test would have left). It returns true in
// the child, where the test goes on.
func Checked(t *testing.T, key string, ours func(line string) bool) bool {
	t.Helper()
	before := Mountinfo()
	if Rerun(t, key, []string{"--mount", "--propagation", "private"}, "TMPDIR="+t.TempDir()) {
		return true
	}
	CheckUntouched(t, before, Mountinfo(), ours)
	return false
}

// Scratch is a test directory; everything mounted below it is unmounted (the
// deepest first, a few rounds for stacks) before it is removed.
func Scratch(t *testing.T) string {
	d := t.TempDir()
	t.Cleanup(func() {
		for i := 0; i < 20; i++ {
			n := 0
			points := mountPoints()
			for j := len(points) - 1; j >= 0; j-- {
				if p := points[j]; p == d || strings.HasPrefix(p, d+"/") {
					syscall.Unmount(p, syscall.MNT_DETACH)
					n++
				}
			}
			if n == 0 {
				break
			}
		}
	})
	return d
}

// mountPoints lists the calling thread's mount points in mount order.
func mountPoints() []string {
	points, _ := mount.Points(mount.Self)
	return points
}

// Write writes s to p, making its directories.
func Write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Sleeper starts a process in a mount namespace of its own (a copy of ours), killed
// at the end of the test, and returns its pid once it is in that namespace.
func Sleeper(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	self, _ := os.Readlink("/proc/thread-self/ns/mnt")
	for i := 0; i < 100; i++ {
		if ns, _ := os.Readlink("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/ns/mnt"); ns != "" && ns != self {
			return cmd.Process.Pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the child did not get its own mount namespace")
	return 0
}
