package pid1

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/payload"
	"github.com/ants/ants/internal/testns"

	"golang.org/x/sys/unix"
)

// inNamespace re-runs the test in a throwaway mount namespace as root; it returns
// true in the child, where the test body runs.
func inNamespace(t *testing.T) bool {
	return testns.Rerun(t, "ANTS_IN_NS", []string{"--mount", "--propagation", "private"})
}

// TestMountPointsDecodesSpaces: a mount point with a space in its name comes back
// from /proc/self/mountinfo decoded.
func TestMountPointsDecodesSpaces(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	dir := filepath.Join(t.TempDir(), "with space")
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := (mount.Entry{Source: "tmpfs", Target: dir, FSType: "tmpfs"}).Do(); err != nil {
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

// TestSwitchRoot builds a small initramfs-like tmpfs, chroots into it (in a
// throwaway mount namespace) and switches: the image directories are bind-mounted
// read-only and stay on the old root, everything else moves into the new tmpfs and
// is gone from the old one, the kernel file systems come along, and the process
// ends up chrooted in a tmpfs of the size asked for.
func TestSwitchRoot(t *testing.T) {
	// The child ends chrooted and cannot clean up: the parent's TempDir is used.
	fake := os.Getenv("ANTS_FAKE_ROOT")
	if fake == "" {
		fake = t.TempDir()
	}
	if !testns.Rerun(t, "ANTS_IN_NS", []string{"--mount", "--propagation", "private"}, "ANTS_FAKE_ROOT="+fake) {
		return
	}
	if err := unix.Mount("tmpfs", fake, "tmpfs", 0, "mode=0755"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"bbin/bb", "lib/modules/6.1/kernel/x.ko.zst", "lib/boot/10-a.sh", "etc/passwd", "init", payload.File} {
		p := filepath.Join(fake, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("bb", filepath.Join(fake, "bbin/ls"))
	for _, d := range keepMounts {
		os.Mkdir(filepath.Join(fake, d), 0o755)
		if err := unix.Mount("tmpfs", filepath.Join(fake, d), "tmpfs", 0, ""); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(fake, "run/marker"), []byte("run"), 0o644)
	old, err := os.Open(fake)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := unix.Chroot(fake); err != nil {
		t.Fatal(err)
	}
	os.Chdir("/")
	sw, err := SwitchRoot(8 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Moved != 3 || strings.Join(sw.Bound, " ") != "/bbin /lib/modules" {
		t.Errorf("SwitchRoot = %+v, want 3 files moved (init, etc/passwd, lib/boot/10-a.sh), /bbin /lib/modules bound", sw)
	}
	for _, f := range []string{"/bbin/bb", "/bbin/ls", "/lib/modules/6.1/kernel/x.ko.zst", "/lib/boot/10-a.sh", "/etc/passwd", "/init", "/run/marker"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("after the switch: %v", err)
		}
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil || st.Type != unix.TMPFS_MAGIC || st.Blocks*uint64(st.Bsize) != 8<<20 {
		t.Errorf("/ after the switch: type 0x%x, %d bytes, %v; want a tmpfs of 8 MiB", st.Type, st.Blocks*uint64(st.Bsize), err)
	}
	if err := os.WriteFile("/bbin/new", nil, 0o755); !errors.Is(err, unix.EROFS) {
		t.Errorf("writing into /bbin: %v, want EROFS", err)
	}
	if err := os.WriteFile("/lib/boot/new.sh", nil, 0o755); err != nil {
		t.Errorf("writing into /lib/boot: %v", err)
	}
	// The old root keeps the image directories and nothing else.
	// The payload squashfs (a loop device's backing file) stays too, unmoved.
	if _, err := os.Stat("/" + payload.File); !os.IsNotExist(err) {
		t.Errorf("/%s was moved into the tmpfs: %v", payload.File, err)
	}
	for f, want := range map[string]bool{"bbin/bb": true, "lib/modules/6.1/kernel/x.ko.zst": true, payload.File: true, "etc/passwd": false, "init": false, "lib/boot": false} {
		var st unix.Stat_t
		err := unix.Fstatat(int(old.Fd()), f, &st, unix.AT_SYMLINK_NOFOLLOW)
		if (err == nil) != want {
			t.Errorf("old root's %s: %v, want it there: %v", f, err, want)
		}
	}
}
