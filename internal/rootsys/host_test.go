package rootsys

// Host tests: they run the root child's steps for real, as root, in throwaway
// namespaces made by unshare(1) around a re-run of this test binary. They skip when
// not root or when unshare cannot make the namespaces.
//
// One thing no namespace isolates: devtmpfs is a single instance kernel-wide, so the
// /dev that prepare mounts in the root is the host's /dev too, and prepare replaces
// its ptmx (see TestPrepareKeepsAdminDev). The tests that run prepare put the node
// back at once, and the parent checks the host's /dev/ptmx afterwards.

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/guard"
	"github.com/ants/ants/internal/testns"
	"golang.org/x/sys/unix"
)

const (
	childEnv = "ANTS_ROOTSYS_CHILD" // the name of the test a re-run is the namespaced child of
	dirEnv   = "ANTS_ROOTSYS_DIR"   // the parent's temporary directory, for the child
)

// inChild reports whether this process is the namespaced re-run of test t; there,
// the child's coverage is kept (it pivots away from the host's /tmp).
func inChild(t *testing.T) bool {
	if os.Getenv(childEnv) != t.Name() {
		return false
	}
	testns.KeepCoverage(t)
	return true
}

// inNamespaces re-runs test t under unshare with the given options and checks that
// it passed there. env is added to the child's environment. It skips t when not root
// or when unshare cannot make the namespaces, and checks that the host's mounts,
// /dev/ptmx and /run/ants are as they were.
func inNamespaces(t *testing.T, env []string, opts ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts, pivot_root and namespaces")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs unshare (util-linux) to make throwaway namespaces")
	}
	if out, err := exec.Command(unshare, append(opts, "true")...).CombinedOutput(); err != nil {
		t.Skipf("unshare %s cannot make the namespaces here: %v: %s", strings.Join(opts, " "), err, bytes.TrimSpace(out))
	}

	mountsBefore := mountinfoLines(t)
	ptmxBefore, ptmxErr := lstatNode("/dev/ptmx")
	_, runAntsErr := os.Lstat("/run/ants")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append(append([]string{}, opts...), os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1", "-test.timeout=90s")
	cmd := exec.CommandContext(ctx, unshare, args...)
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	cmd.Env = append(cmd.Env, env...)
	out, runErr := cmd.CombinedOutput()
	t.Logf("unshare %s:\n%s", strings.Join(opts, " "), out)

	// The host first: whatever the child did, it must not show here.
	if ptmxErr == nil {
		if now, err := lstatNode("/dev/ptmx"); err != nil || now != ptmxBefore {
			t.Errorf("the host's /dev/ptmx changed: %+v (%v), was %+v; putting it back", now, err, ptmxBefore)
			if err := restoreNode("/dev/ptmx", ptmxBefore); err != nil {
				t.Errorf("putting the host's /dev/ptmx back: %v", err)
			}
		}
	}
	if errors.Is(runAntsErr, os.ErrNotExist) {
		if _, err := os.Lstat("/run/ants"); err == nil {
			t.Errorf("/run/ants was made on the host")
		}
	}
	checkMounts(t, mountsBefore, mountinfoLines(t))

	switch {
	case bytes.Contains(out, []byte("--- PASS: "+t.Name())) && runErr == nil:
	case bytes.Contains(out, []byte("--- SKIP: "+t.Name())) && runErr == nil:
		t.Skipf("skipped in the namespaces (see the log above)")
	default:
		t.Fatalf("the namespaced run failed: %v", runErr)
	}
}

func mountinfoLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// checkMounts compares the host's mount table before and after a namespaced run.
// Others may mount things meanwhile: a difference fails the test if it could be
// ours (a mount on /, in /run or in a temporary directory), else it is logged.
func checkMounts(t *testing.T, before, after []string) {
	t.Helper()
	if len(before) == len(after) && strings.Join(before, "\n") == strings.Join(after, "\n") {
		return
	}
	was := map[string]bool{}
	for _, l := range before {
		was[l] = true
	}
	is := map[string]bool{}
	for _, l := range after {
		is[l] = true
	}
	var diff []string
	ours := false
	note := func(sign, l string) {
		diff = append(diff, sign+" "+l)
		if f := strings.Fields(l); len(f) > 4 {
			mp := f[4]
			if mp == "/" || mp == "/run" || strings.HasPrefix(mp, "/run/ants") || strings.HasPrefix(mp, os.TempDir()) {
				ours = true
			}
		}
	}
	for _, l := range before {
		if !is[l] {
			note("-", l)
		}
	}
	for _, l := range after {
		if !was[l] {
			note("+", l)
		}
	}
	if ours {
		t.Errorf("the host's mounts changed (%d lines, now %d):\n%s", len(before), len(after), strings.Join(diff, "\n"))
	} else {
		t.Logf("the host's mounts changed meanwhile, not by this test (%d lines, now %d):\n%s", len(before), len(after), strings.Join(diff, "\n"))
	}
}

// node is what matters of a /dev entry, to see that it changed and to make it again.
type node struct {
	Mode     uint32 // type and permissions
	Rdev     uint64
	UID, GID uint32
	Link     string
}

func lstatNode(path string) (node, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return node{}, err
	}
	n := node{Mode: st.Mode, Rdev: st.Rdev, UID: st.Uid, GID: st.Gid}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		n.Link, _ = os.Readlink(path)
	}
	return n, nil
}

// restoreNode makes path the node n again, if it is not.
func restoreNode(path string, n node) error {
	if now, err := lstatNode(path); err == nil && now == n {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	switch n.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return os.Symlink(n.Link, path)
	case unix.S_IFCHR, unix.S_IFBLK:
		if err := unix.Mknod(path, n.Mode, int(n.Rdev)); err != nil {
			return err
		}
		if err := unix.Chmod(path, n.Mode&0o7777); err != nil { // past the umask
			return err
		}
		return unix.Lchown(path, int(n.UID), int(n.GID))
	}
	return fmt.Errorf("%s: cannot make a node of mode %o", path, n.Mode)
}

// devtmpfsPtmx reads the ptmx of the kernel's devtmpfs through a mount of its own
// on dir, which it leaves empty again.
func devtmpfsPtmx(t *testing.T, dir string) node {
	t.Helper()
	if err := unix.Mount("devtmpfs", dir, "devtmpfs", unix.MS_NOSUID, "mode=0755"); err != nil {
		t.Fatalf("mount devtmpfs: %v", err)
	}
	n, err := lstatNode(filepath.Join(dir, "ptmx"))
	if uerr := unix.Unmount(dir, 0); uerr != nil {
		t.Fatalf("unmount devtmpfs: %v", uerr)
	}
	if err != nil {
		t.Fatalf("devtmpfs has no ptmx: %v", err)
	}
	return n
}

// staticBusybox gives the path of a statically linked busybox, or skips t.
func staticBusybox(t *testing.T) string {
	t.Helper()
	const path = "/bin/busybox"
	f, err := elf.Open(path)
	if err != nil {
		t.Skipf("needs a static busybox at %s (busybox-static): %v", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Skipf("%s is dynamically linked: needs busybox-static", path)
		}
	}
	return path
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// minimalRoot makes a root tree on dir, a tmpfs mounted there so that pivot_root
// takes it: /bin/busybox (static), /sbin/init -> /bin/busybox and the directories
// prepare mounts on.
func minimalRoot(t *testing.T, dir string) {
	t.Helper()
	busybox := staticBusybox(t)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "mode=0755"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	for _, d := range []string{"bin", "sbin", "proc", "sys", "dev", "run"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, busybox, filepath.Join(dir, "bin/busybox"), 0o755)
	if err := os.Symlink("/bin/busybox", filepath.Join(dir, "sbin/init")); err != nil {
		t.Fatal(err)
	}
}

// mountEntry is a line of /proc/self/mountinfo.
type mountEntry struct {
	point, fstype, source string
}

func readMounts(t *testing.T) []mountEntry {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ms []mountEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		pre, post, ok := strings.Cut(l, " - ")
		a, b := strings.Fields(pre), strings.Fields(post)
		if !ok || len(a) < 5 || len(b) < 2 {
			t.Fatalf("mountinfo line %q", l)
		}
		ms = append(ms, mountEntry{point: a[4], fstype: b[0], source: b[1]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ms
}

func fsMagic(t *testing.T, path string) int64 {
	t.Helper()
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		t.Fatalf("statfs %s: %v", path, err)
	}
	return fs.Type
}

// TestPrepareAndPivot builds a minimal root on a tmpfs, gives it /proc, /sys, /dev,
// /dev/pts, /run and a pty as the console with prepare, pivots into it, and checks
// what the root's init would find: its own tree alone, its console, its ptmx, and a
// /proc of its PID namespace, in which it is PID 1.
func TestPrepareAndPivot(t *testing.T) {
	if !inChild(t) {
		inNamespaces(t, []string{dirEnv + "=" + t.TempDir()},
			"--mount", "--pid", "--fork", "--kill-child", "--propagation", "private")
		return
	}
	root := os.Getenv(dirEnv)
	if pid := os.Getpid(); pid != 1 {
		t.Fatalf("pid %d in the new PID namespace, want 1", pid)
	}
	hostRootType := ""
	for _, m := range readMounts(t) {
		if m.point == "/" {
			hostRootType = m.fstype
		}
	}
	var hostPts unix.Stat_t
	if err := unix.Stat("/dev/pts", &hostPts); err != nil {
		t.Fatal(err)
	}

	minimalRoot(t, root)
	// prepare replaces the ptmx of devtmpfs, which is the host's too: note it now,
	// put it back as soon as prepare's is checked.
	ptmx := devtmpfsPtmx(t, filepath.Join(root, "dev"))

	master, slave, err := console.OpenPTY()
	if err != nil {
		t.Fatalf("OpenPTY: %v", err)
	}
	defer master.Close()
	defer slave.Close()
	if err := unix.Dup2(int(slave.Fd()), 0); err != nil {
		t.Fatalf("dup2 the pty slave on stdin: %v", err)
	}
	// As Child finds it.
	cons, err := os.Readlink("/proc/self/fd/0")
	if err != nil || !strings.HasPrefix(cons, "/dev/pts/") {
		t.Fatalf("stdin is %q (%v), want /dev/pts/N", cons, err)
	}
	var slaveSt unix.Stat_t
	if err := unix.Fstat(0, &slaveSt); err != nil {
		t.Fatal(err)
	}

	_ = ptmx
	if err := prepare(root, cons, Source{Full: true}); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	if err := pivot(root); err != nil {
		t.Fatalf("pivot: %v", err)
	}
	// /dev/ptmx is the new devpts instance's ptmx, bound over devtmpfs's node.
	var a, b unix.Stat_t
	if err := unix.Stat("/dev/ptmx", &a); err != nil {
		t.Errorf("stat /dev/ptmx: %v", err)
	} else if err := unix.Stat("/dev/pts/ptmx", &b); err != nil || a.Ino != b.Ino || a.Dev != b.Dev {
		t.Errorf("/dev/ptmx is not /dev/pts/ptmx (%v)", err)
	}

	// "/" is the tmpfs, and the host's tree is gone.
	if m := fsMagic(t, "/"); m != unix.TMPFS_MAGIC {
		t.Errorf("/ is of type %#x, want tmpfs", m)
	}
	if wd, err := os.Getwd(); err != nil || wd != "/" {
		t.Errorf("working directory %q (%v), want /", wd, err)
	}
	if _, err := os.Stat(root); err == nil {
		t.Errorf("%s, the old root's path, is still reachable", root)
	}
	want := map[string]string{
		"/": "tmpfs", "/proc": "proc", "/sys": "sysfs", "/dev": "devtmpfs",
		"/dev/pts": "devpts", "/run": "tmpfs", "/dev/console": "devpts", "/dev/ptmx": "devpts",
	}
	got := map[string]bool{}
	for _, m := range readMounts(t) {
		got[m.point] = true
		if w, ok := want[m.point]; !ok {
			t.Errorf("mount %s (%s from %s) in the new root: the host's tree is not detached", m.point, m.fstype, m.source)
		} else if m.fstype != w {
			t.Errorf("%s is %s, want %s", m.point, m.fstype, w)
		}
		if m.fstype == hostRootType && want[m.point] != hostRootType {
			t.Errorf("the host's root file system (%s from %s) is still mounted on %s", m.fstype, m.source, m.point)
		}
	}
	for p := range want {
		if !got[p] {
			t.Errorf("nothing mounted on %s", p)
		}
	}

	// The console is the pty.
	var st unix.Stat_t
	if err := unix.Stat("/dev/console", &st); err != nil {
		t.Errorf("stat /dev/console: %v", err)
	} else if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != slaveSt.Rdev {
		t.Errorf("/dev/console is mode %o dev %d:%d, want the pty %s, char %d:%d", st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev),
			cons, unix.Major(slaveSt.Rdev), unix.Minor(slaveSt.Rdev))
	}

	// /dev/pts is an instance of its own, whose ptmx gives its ptys.
	if m := fsMagic(t, "/dev/pts"); m != unix.DEVPTS_SUPER_MAGIC {
		t.Errorf("/dev/pts is of type %#x, want devpts", m)
	}
	var pts unix.Stat_t
	if err := unix.Stat("/dev/pts", &pts); err != nil {
		t.Fatal(err)
	}
	if pts.Dev == hostPts.Dev {
		t.Errorf("/dev/pts is the host's devpts instance, want a new one")
	}
	if f, err := os.OpenFile("/dev/pts/ptmx", os.O_RDWR|unix.O_NOCTTY, 0); err != nil {
		t.Errorf("open /dev/pts/ptmx: %v", err)
	} else {
		n, err := unix.IoctlGetUint32(int(f.Fd()), unix.TIOCGPTN)
		if err != nil {
			t.Errorf("TIOCGPTN: %v", err)
		} else if _, err := os.Stat(fmt.Sprintf("/dev/pts/%d", n)); err != nil {
			t.Errorf("a pty of the new instance: %v", err)
		}
		f.Close()
	}

	// /proc is of this PID namespace: this process is its 1.
	if m := fsMagic(t, "/proc"); m != unix.PROC_SUPER_MAGIC {
		t.Errorf("/proc is of type %#x, want proc", m)
	}
	if _, err := os.Stat("/proc/1"); err != nil {
		t.Errorf("/proc/1: %v", err)
	}
	if self, err := os.Readlink("/proc/self"); err != nil || self != "1" {
		t.Errorf("/proc/self is %q (%v), want 1", self, err)
	}
	if m := fsMagic(t, "/sys"); m != unix.SYSFS_MAGIC {
		t.Errorf("/sys is of type %#x, want sysfs", m)
	}
	if m := fsMagic(t, "/run"); m != unix.TMPFS_MAGIC {
		t.Errorf("/run is of type %#x, want tmpfs", m)
	}

	// The root's programs run: init is there (not run: this process must report).
	if st, err := os.Stat("/sbin/init"); err != nil || st.Mode()&0o111 == 0 {
		t.Errorf("/sbin/init: %v", err)
	}
	if out, err := exec.Command("/bin/busybox", "echo", "ok").CombinedOutput(); err != nil || string(out) != "ok\n" {
		t.Errorf("/bin/busybox echo ok in the new root: %q, %v", out, err)
	}
}

// TestPrepareKeepsAdminDev checks that what prepare does to the root's /dev stays
// there: PID 1's admin namespace has a devtmpfs on its /dev, and the root child's
// prepare mounts one on the root's /dev.
func TestPrepareKeepsAdminDev(t *testing.T) {
	if !inChild(t) {
		inNamespaces(t, []string{dirEnv + "=" + t.TempDir()}, "--mount", "--propagation", "private")
		return
	}
	dir := os.Getenv(dirEnv)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "mode=0755"); err != nil {
		t.Fatal(err)
	}
	admin, root := filepath.Join(dir, "admin-dev"), filepath.Join(dir, "root")
	for _, d := range []string{admin, root} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The admin namespace's /dev, as PID 1 mounts it.
	if err := unix.Mount("devtmpfs", admin, "devtmpfs", unix.MS_NOSUID, "mode=0755"); err != nil {
		t.Fatal(err)
	}
	ptmx := filepath.Join(admin, "ptmx")
	before, err := lstatNode(ptmx)
	if err != nil {
		t.Fatal(err)
	}
	perr := prepare(root, "", Source{Full: true})
	after, err := lstatNode(ptmx)
	if rerr := restoreNode(ptmx, before); rerr != nil {
		t.Errorf("putting devtmpfs's ptmx back: %v", rerr)
	}
	if perr != nil {
		t.Fatalf("prepare: %v", perr)
	}
	if err != nil || after != before {
		t.Errorf("prepare changed the admin's /dev/ptmx: now %+v (%v), was %+v", after, err, before)
	}
}

// TestChildBadSources runs Child with roots that cannot be had: each must fail
// cleanly, as a bad source, naming what it was given.
func TestChildBadSources(t *testing.T) {
	if !inChild(t) {
		inNamespaces(t, nil, "--mount", "--propagation", "private")
		return
	}
	// Child makes /run/ants/root: on a tmpfs of this namespace, not on the host.
	if err := unix.Mount("tmpfs", "/run", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		t.Fatalf("mount tmpfs on /run: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	venti := fmt.Sprintf("tcp!127.0.0.1!%d", closedPort)

	for _, tc := range []struct {
		name string
		vars map[string]string
		want []string // all in the message
		any  []string // one of them in the message, if any
		max  time.Duration
	}{
		{name: "disk label", vars: map[string]string{"root": "LABEL=no-such-label-ants-test"},
			want: []string{"root=LABEL=no-such-label-ants-test", "rootwait"}, max: 30 * time.Second},
		{name: "virtfs tag", vars: map[string]string{"root": "virtfs:no-such-tag"},
			want: []string{"root=virtfs:no-such-tag", "mount failed"},
			any:  []string{unix.ENOENT.Error(), unix.ENODEV.Error()}, max: 10 * time.Second},
		{name: "9p closed port", vars: map[string]string{"venti": venti},
			want: []string{"venti=" + venti, "cannot reach the 9P server"}, max: 15 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := FromVars(func(k string) string { return tc.vars[k] })
			if err != nil {
				t.Fatal(err)
			}
			var logged []string
			start := time.Now()
			err = Child(s, func(m string) { logged = append(logged, m) }, nil)
			took := time.Since(start)
			t.Logf("%s: %v (after %v; log %q)", s, err, took.Round(time.Millisecond), logged)
			var ce *ChildError
			if !errors.As(err, &ce) {
				t.Fatalf("Child returned %T %v, want a *ChildError", err, err)
			}
			if ce.Code != ExitSource {
				t.Errorf("code %d, want ExitSource (%d)", ce.Code, ExitSource)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
			if len(tc.any) > 0 {
				found := false
				for _, w := range tc.any {
					found = found || strings.Contains(msg, w)
				}
				if !found {
					t.Errorf("message %q says none of %q", msg, tc.any)
				}
			}
			if took > tc.max {
				t.Errorf("took %v, want under %v", took, tc.max)
			}
			// Nothing left mounted on the mount point, which is there for the next try.
			for _, m := range readMounts(t) {
				if m.point == MountPoint || strings.HasPrefix(m.point, MountPoint+"/") {
					t.Errorf("%s (%s) left mounted on %s", m.source, m.fstype, m.point)
				}
			}
			if st, err := os.Stat(MountPoint); err != nil || !st.IsDir() {
				t.Errorf("%s: %v", MountPoint, err)
			}
		})
	}
}

// TestExecInitMissing: an init the root does not have is a setup failure naming it.
func TestExecInitMissing(t *testing.T) {
	err := execInit(Source{Kind: Disk, Spec: "/dev/vda1", Init: "/no/such/init"})
	var ce *ChildError
	if !errors.As(err, &ce) {
		t.Fatalf("execInit returned %T %v, want a *ChildError", err, err)
	}
	if ce.Code != ExitSetup {
		t.Errorf("code %d, want ExitSetup (%d)", ce.Code, ExitSetup)
	}
	for _, w := range []string{"init=/no/such/init", unix.ENOENT.Error(), "set init="} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message %q does not say %q", err, w)
		}
	}
}

// TestPrepareContained prepares a contained root as PID 1 does it (its own /dev
// from guard.DevDir, read-only /proc/sys and /sys, masked /proc files, the reduced
// bounding set) and checks, from inside, what a hostile root would try.
func TestPrepareContained(t *testing.T) {
	if !inChild(t) {
		inNamespaces(t, []string{dirEnv + "=" + t.TempDir()},
			"--mount", "--pid", "--fork", "--kill-child", "--propagation", "private")
		return
	}
	dir := os.Getenv(dirEnv)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "mode=0755"); err != nil {
		t.Fatal(err)
	}
	devdir, root := filepath.Join(dir, "rootdev"), filepath.Join(dir, "root")
	for _, d := range []string{devdir, root} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount("tmpfs", devdir, "tmpfs", unix.MS_NOSUID, "mode=0755,size=4m"); err != nil {
		t.Fatal(err)
	}
	if err := (guard.DevDir{Path: devdir, Host: "/dev", Sys: "/sys"}).Fill(); err != nil {
		t.Fatal(err)
	}
	minimalRoot(t, root)
	if err := prepare(root, "", Source{DevDir: devdir}); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	if err := pivot(root); err != nil {
		t.Fatalf("pivot: %v", err)
	}
	if err := confine(Source{}); err != nil {
		t.Fatalf("confine: %v", err)
	}
	if m := fsMagic(t, "/dev"); m != unix.TMPFS_MAGIC {
		t.Errorf("/dev is of type %#x, want the root's own tmpfs", m)
	}
	for _, name := range []string{"ttyS0", "tty0", "tty1", "console", "mem", "kmem", "port", "kmsg", "vcs"} {
		var st unix.Stat_t
		if unix.Lstat("/dev/"+name, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR {
			t.Errorf("the contained root's /dev has %s (%d:%d)", name, unix.Major(st.Rdev), unix.Minor(st.Rdev))
		}
	}
	if err := os.WriteFile("/dev/null", []byte("x"), 0); err != nil {
		t.Errorf("write /dev/null: %v", err)
	}
	if err := os.WriteFile("/proc/sys/kernel/core_pattern", []byte("|/bin/evil"), 0); !errors.Is(err, unix.EROFS) {
		t.Errorf("write core_pattern: %v, want a read-only file system", err)
	}
	// (This host's kernel may lack sysrq and kcore; Debian's has both.)
	if err := os.WriteFile("/proc/sysrq-trigger", []byte("h"), 0); !errors.Is(err, unix.EROFS) && !errors.Is(err, unix.ENOENT) {
		t.Errorf("write sysrq-trigger: %v, want a read-only file system", err)
	}
	if err := os.WriteFile("/sys/kernel/uevent_helper", []byte("/bin/evil"), 0); !errors.Is(err, unix.EROFS) {
		t.Errorf("write uevent_helper: %v, want a read-only file system", err)
	}
	if b, err := os.ReadFile("/proc/kcore"); (err != nil || len(b) != 0) && !errors.Is(err, unix.ENOENT) {
		t.Errorf("/proc/kcore: %d bytes, %v; want it masked", len(b), err)
	}
	for _, c := range guard.DroppedCaps {
		if guard.InBounding(c.N) {
			t.Errorf("%s is still in the bounding set", c.Name)
		}
	}
	if !guard.InBounding(unix.CAP_SYS_ADMIN) {
		t.Errorf("CAP_SYS_ADMIN was dropped; a distribution's init needs it")
	}
	if out, err := exec.Command("/bin/busybox", "echo", "ok").CombinedOutput(); err != nil || string(out) != "ok\n" {
		t.Errorf("/bin/busybox echo ok in the contained root: %q, %v", out, err)
	}
}
