package mount_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/testns"
	"golang.org/x/sys/unix"
)

// inNamespace re-runs the test as root in a throwaway private mount namespace; it
// returns true in the child, where the test body runs.
func inNamespace(t *testing.T) bool {
	return testns.Rerun(t, "ANTS_MOUNT_IN_NS", []string{"--mount", "--propagation", "private"})
}

// find returns the topmost mount at point.
func find(t *testing.T, point string) (mount.Info, bool) {
	t.Helper()
	ms, err := mount.ReadInfo(mount.Self)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Point == point {
			return ms[i], true
		}
	}
	return mount.Info{}, false
}

// TestWrappers: mount, bind, remount read-only, propagation, move and unmount do
// what they say, and read back from mountinfo (a blank in the name included).
func TestWrappers(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	d := testns.Scratch(t)
	src, dst, moved := filepath.Join(d, "src dir"), filepath.Join(d, "dst"), filepath.Join(d, "moved")
	for _, p := range []string{src, dst, moved} {
		os.Mkdir(p, 0o755)
	}
	if err := mount.Mount("ants-test", src, "tmpfs", unix.MS_NOSUID, "size=64k,mode=0755"); err != nil {
		t.Fatal(err)
	}
	m, ok := find(t, src)
	if !ok || m.FSType != "tmpfs" || m.Source != "ants-test" {
		t.Fatalf("after Mount: %+v", m)
	}
	testns.Write(t, filepath.Join(src, "f"), "x")
	if err := mount.Bind(src, dst, 0); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "f")); err != nil || string(b) != "x" {
		t.Fatalf("through the bind: %q %v", b, err)
	}
	if err := mount.Remount(dst, unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "g"), nil, 0o644); !errors.Is(err, unix.EROFS) {
		t.Errorf("writing into the read-only bind: %v", err)
	}
	if m, _ := find(t, dst); !m.ReadOnly() {
		t.Errorf("the bind is not read-only: %+v", m)
	}
	if err := mount.Propagate(dst, unix.MS_SHARED); err != nil {
		t.Fatal(err)
	}
	if m, _ := find(t, dst); m.Propagation() != "shared" {
		t.Errorf("propagation %s, want shared", m.Propagation())
	}
	if err := mount.Propagate(dst, unix.MS_PRIVATE); err != nil {
		t.Fatal(err)
	}
	if err := mount.Move(dst, moved); err != nil {
		t.Fatal(err)
	}
	if _, ok := find(t, dst); ok {
		t.Error("the moved mount is still at its old place")
	}
	if _, ok := find(t, moved); !ok {
		t.Error("the moved mount is not at its new place")
	}
	if err := mount.Unmount(moved, 0); err != nil {
		t.Fatal(err)
	}
	if err := mount.Unmount(src, unix.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	if _, ok := find(t, src); ok {
		t.Error("still mounted after Unmount")
	}
	points, err := mount.Points(mount.Self)
	if err != nil || len(points) == 0 || points[0] != "/" {
		t.Errorf("Points: %q %v", points, err)
	}
}

// TestWrapperErrors: each failure names its operation, paths, type, flags and data,
// and unwraps to the errno.
func TestWrapperErrors(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	d := testns.Scratch(t)
	nope := filepath.Join(d, "nope")
	for _, tc := range []struct {
		err   error
		errno unix.Errno
		want  string
	}{
		{mount.Mount("none", d, "no-such-fs", unix.MS_NODEV, "a=b"), unix.ENODEV,
			"mount none on " + d + ` (type no-such-fs, flags MS_NODEV, data "a=b"): no such device`},
		{mount.Bind(nope, d, unix.MS_REC), unix.ENOENT,
			"bind " + nope + " on " + d + " (flags MS_BIND|MS_REC): no such file or directory"},
		{mount.Move(d, nope), unix.ENOENT, "move " + d + " to " + nope + " (flags MS_MOVE): "},
		{mount.Remount(nope, unix.MS_BIND|unix.MS_RDONLY, ""), unix.ENOENT,
			"remount " + nope + " (flags MS_RDONLY|MS_REMOUNT|MS_BIND): no such file or directory"},
		{mount.Propagate(nope, unix.MS_REC|unix.MS_SLAVE), unix.ENOENT,
			"propagate " + nope + " (flags MS_REC|MS_SLAVE): no such file or directory"},
		{mount.Unmount(d, unix.MNT_DETACH), unix.EINVAL,
			"unmount " + d + " (flags MNT_DETACH): invalid argument"},
		{mount.PivotRoot(nope, d), unix.ENOENT, "pivot_root " + nope + " " + d + ": no such file or directory"},
	} {
		var me *mount.Error
		if !errors.Is(tc.err, tc.errno) || !errors.As(tc.err, &me) {
			t.Errorf("%v: not a *mount.Error with %v", tc.err, tc.errno)
			continue
		}
		if !strings.HasPrefix(tc.err.Error(), tc.want) {
			t.Errorf("got  %v\nwant %s", tc.err, tc.want)
		}
	}
}

// TestTable: a table mounts in order below a root, making the targets; a bind with
// more flags gets them by a remount; a Once entry is left alone when it is mounted;
// a failure stops the table unless it goes on.
func TestTable(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	root := testns.Scratch(t)
	tab := mount.Table{
		{Source: "ants-a", Target: "/a", FSType: "tmpfs", Data: "size=64k"},
		{Source: "ants-b", Target: "/a/b/c", FSType: "tmpfs", Flags: unix.MS_NOEXEC, Mode: 0o700, Once: true},
		{Source: filepath.Join(root, "a"), Target: "/ro", Flags: unix.MS_BIND | unix.MS_RDONLY | unix.MS_NOSUID},
	}
	if err := tab.Mount(root, false); err != nil {
		t.Fatal(err)
	}
	if m, ok := find(t, filepath.Join(root, "ro")); !ok || !m.ReadOnly() || !strings.Contains(strings.Join(m.Opts, ","), "nosuid") {
		t.Errorf("the bind: %+v", m)
	}
	c := filepath.Join(root, "a/b/c")
	if st, err := os.Stat(filepath.Join(root, "a/b")); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("the made parent of a target: %v %v", st, err)
	}
	if err := tab[1].Under(root).Do(); err != nil {
		t.Errorf("Once again: %v", err)
	}
	n := 0
	points, _ := mount.Points(mount.Self)
	for _, p := range points {
		if p == c {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%s mounted %d times, want once", c, n)
	}
	bad := mount.Table{
		{Source: "none", Target: "/x", FSType: "no-such-fs"},
		{Source: "ants-y", Target: "/y", FSType: "tmpfs"},
		{Source: "none", Target: "/z", FSType: "no-such-fs-either"},
	}
	err := bad.Mount(root, false)
	if err == nil || !strings.Contains(err.Error(), "no-such-fs") || !errors.Is(err, unix.ENODEV) {
		t.Errorf("a failing table: %v", err)
	}
	if mount.IsMountPoint(filepath.Join(root, "y")) {
		t.Error("the table went on after a failure")
	}
	err = bad.Mount(root, true)
	if err == nil || !strings.Contains(err.Error(), "no-such-fs-either") {
		t.Errorf("keepGoing: %v", err)
	}
	if !mount.IsMountPoint(filepath.Join(root, "y")) {
		t.Error("keepGoing did not go on")
	}
}
