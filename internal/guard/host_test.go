package guard

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ants/ants/internal/testns"
	"golang.org/x/sys/unix"
)

// cgroup2 finds a cgroup2 mount on the host, or skips.
func cgroup2(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("host test: needs root for a cgroup and bpf(2)")
	}
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(b), "\n") {
		_, rest, ok := strings.Cut(l, " - ")
		f := strings.Fields(l)
		if ok && strings.HasPrefix(rest, "cgroup2 ") && len(f) > 4 {
			return f[4]
		}
	}
	t.Skip("host test: no cgroup2 mounted on this host")
	return ""
}

// TestDeviceFilterInKernel attaches the filter to a fresh cgroup and opens devices
// from a process in it: the kernel's verdict must be the interpreter's.
func TestDeviceFilterInKernel(t *testing.T) {
	dir := filepath.Join(cgroup2(t), fmt.Sprintf("ants-guard-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("host test: cannot make a cgroup: %v", err)
	}
	defer os.Remove(dir)
	if err := AttachDeviceFilter(dir, RootDevices); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	tmp := t.TempDir()
	for _, tc := range []struct {
		name         string
		major, minor uint32
		allowed      bool
	}{
		{"null", 1, 3, true}, {"zero", 1, 5, true}, {"mem", 1, 1, false}, {"kmsg", 1, 11, false},
		{"ttyS0", 4, 64, false}, {"tty1", 4, 1, false}, {"console", 5, 1, false},
	} {
		p := filepath.Join(tmp, tc.name)
		if err := unix.Mknod(p, unix.S_IFCHR|0o600, int(unix.Mkdev(tc.major, tc.minor))); err != nil {
			t.Fatal(err)
		}
		// head reads one byte; the open is what the filter judges.
		cmd := exec.Command("head", "-c", "0", p)
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
		out, err := cmd.CombinedOutput()
		refused := strings.Contains(string(out), "Operation not permitted")
		if tc.allowed && refused || !tc.allowed && !refused {
			t.Errorf("open of %s (%d:%d) in the filtered cgroup: %v %s; want allowed=%v", tc.name, tc.major, tc.minor, err, out, tc.allowed)
		}
	}
	// mknod of a refused device is refused too.
	cmd := exec.Command("mknod", filepath.Join(tmp, "s1"), "c", "4", "65")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("mknod of ttyS1 in the filtered cgroup worked: %s", out)
	}
}

// TestDropBounding drops the caps in a child and reads its bounding set back.
func TestDropBounding(t *testing.T) {
	if os.Getenv("GUARD_DROP_CHILD") == "1" {
		if err := DropBounding(DroppedCaps); err != nil {
			fmt.Println("drop:", err)
			os.Exit(1)
		}
		for _, c := range DroppedCaps {
			if InBounding(c.N) {
				fmt.Println("still in the bounding set:", c.Name)
			}
		}
		if !InBounding(unix.CAP_SYS_ADMIN) || !InBounding(unix.CAP_NET_ADMIN) {
			fmt.Println("CAP_SYS_ADMIN or CAP_NET_ADMIN went too")
		}
		os.Exit(0)
	}
	if os.Geteuid() != 0 {
		t.Skip("host test: needs root")
	}
	if !InBounding(unix.CAP_SYS_MODULE) {
		t.Skip("host test: this host's bounding set lacks CAP_SYS_MODULE already")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDropBounding$")
	cmd.Env = append(os.Environ(), "GUARD_DROP_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("child: %v: %s", err, out)
	}
	if !InBounding(unix.CAP_SYS_MODULE) {
		t.Errorf("the parent lost CAP_SYS_MODULE")
	}
}

// TestDevDir fills a tmpfs as PID 1 does and follows hotplug events into it,
// also where the root replaced names with links.
func TestDevDir(t *testing.T) {
	if !testns.Checked(t, "GUARD_HOST_TEST", nil) {
		return
	}
	dir := testns.Scratch(t)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "mode=0755,size=4m"); err != nil {
		t.Fatal(err)
	}
	d := DevDir{Path: dir, Host: "/dev", Sys: "/sys"}
	if err := d.Fill(); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(dir, "null"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 || st.Mode&0o777 != 0o666 {
		t.Errorf("null: %v mode %o rdev %d:%d", err, st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	if l, err := os.Readlink(filepath.Join(dir, "ptmx")); err != nil || l != "pts/ptmx" {
		t.Errorf("ptmx: %q %v", l, err)
	}
	for _, name := range []string{"console", "pts", "shm"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		for _, bad := range []string{"ttyS", "tty0", "tty1", "mem", "kmem", "port", "kmsg", "vcs"} {
			if strings.HasPrefix(e.Name(), bad) {
				t.Errorf("the root's /dev has %s", e.Name())
			}
		}
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	add := Uevent{Action: "add", Subsystem: "block", DevName: "antsvdz", Major: 254, Minor: 99, HasDev: true}
	if err := d.Apply(fd, add); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(filepath.Join(dir, "antsvdz"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK || unix.Minor(st.Rdev) != 99 {
		t.Errorf("hotplugged node: %v %o", err, st.Mode)
	}
	if err := d.Apply(fd, Uevent{Action: "remove", Subsystem: "block", DevName: "antsvdz", HasDev: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "antsvdz")); !os.IsNotExist(err) {
		t.Errorf("removed node still there: %v", err)
	}
	// A hidden block device (the admin side's) gets no node from a uevent, nor
	// from sysfs on a fill or a resync.
	hid := d
	if blocks := d.BlockDevices(); len(blocks) > 0 {
		b := blocks[0]
		hid.Hidden = []DevRule{{int(b.Major), int(b.Minor), b.Name}}
		for _, n := range hid.BlockDevices() {
			if n.Name == b.Name {
				t.Errorf("BlockDevices lists hidden %s", b.Name)
			}
		}
	}
	hid.Hidden = append(hid.Hidden, DevRule{254, 98, "antsvdy"})
	if err := hid.Apply(fd, Uevent{Action: "add", Subsystem: "block", DevName: "antsvdy", Major: 254, Minor: 98, HasDev: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "antsvdy")); !os.IsNotExist(err) {
		t.Errorf("a hidden block device got a node: %v", err)
	}
	// A resync brings back what sysfs lists and removes a stale block node.
	unix.Mknodat(fd, "antsstale", unix.S_IFBLK|0o600, int(unix.Mkdev(254, 77)))
	blocks := d.BlockDevices()
	if err := d.Apply(fd, Uevent{Action: Resync}); err != nil {
		t.Errorf("resync: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "antsstale")); !os.IsNotExist(err) {
		t.Errorf("a stale block node survived a resync: %v", err)
	}
	for _, b := range blocks {
		if _, err := os.Lstat(filepath.Join(dir, b.Name)); err != nil {
			t.Errorf("resync: %s: %v", b.Name, err)
		}
	}
	// The root made names into links to the admin's files: nothing is made there.
	outside := t.TempDir()
	os.Symlink(filepath.Join(outside, "victim"), filepath.Join(dir, "antsvdy"))
	os.Symlink(outside, filepath.Join(dir, "sub"))
	d.Apply(fd, Uevent{Action: "add", Subsystem: "block", DevName: "antsvdy", Major: 254, Minor: 1, HasDev: true})
	d.Apply(fd, Uevent{Action: "add", Subsystem: "block", DevName: "sub/antsvdx", Major: 254, Minor: 2, HasDev: true})
	d.Apply(fd, Uevent{Action: "add", Subsystem: "block", DevName: "..", Major: 254, Minor: 3, HasDev: true})
	d.Apply(fd, Uevent{Action: "add", Subsystem: "tty", DevName: "ttyS9", Major: 4, Minor: 73, HasDev: true})
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("a hotplug event made %s outside the root's /dev", ents[0].Name())
	}
	if _, err := os.Lstat(filepath.Join(dir, "ttyS9")); err == nil {
		t.Errorf("a tty event made a node")
	}
}
