package pid1

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ants/ants/internal/testns"

	"golang.org/x/sys/unix"
)

// inNamespace re-runs the test in a throwaway mount namespace as root; it returns
// true in the child, where the test body runs.
func inNamespace(t *testing.T) bool {
	return testns.Rerun(t, "ANTS_IN_NS", []string{"--mount", "--propagation", "private"})
}

// TestMountDoOnce: Mount.Do creates its target and mounts; doing it again (init
// re-executed) leaves the mount as it is instead of stacking a second one.
func TestMountDoOnce(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	dir := filepath.Join(t.TempDir(), "a", "run")
	m := Mount{Source: "tmpfs", Target: dir, FSType: "tmpfs", Data: "size=1m"}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	for i := 0; i < 2; i++ {
		if err := m.Do(); err != nil {
			t.Fatal(err)
		}
	}
	if !IsMountPoint(dir) {
		t.Fatalf("%s is not a mount point", dir)
	}
	mps, err := MountPoints()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range mps {
		if p == dir {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%s mounted %d times", dir, n)
	}
	bad := Mount{Source: "none", Target: filepath.Join(t.TempDir(), "x"), FSType: "no-such-fs"}
	err = bad.Do()
	if err == nil || !strings.Contains(err.Error(), "no-such-fs") {
		t.Errorf("mounting an unknown fs type: %v", err)
	}
}

// TestMountPointsDecodesSpaces: a mount point with a space in its name comes back
// from /proc/self/mountinfo decoded.
func TestMountPointsDecodesSpaces(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	dir := filepath.Join(t.TempDir(), "with space")
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := (Mount{Source: "tmpfs", Target: dir, FSType: "tmpfs"}).Do(); err != nil {
		t.Fatal(err)
	}
	mps, _ := MountPoints()
	for _, p := range mps {
		if p == dir {
			return
		}
	}
	t.Errorf("%q not among %q", dir, mps)
}
