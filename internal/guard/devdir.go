package guard

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Node is one device node of the root's /dev.
type Node struct {
	Name         string // under /dev, no slash but for fixed ones such as net/tun
	Type         int    // Block or Char
	Major, Minor uint32
	Mode         uint32 // permission bits
	Uid, Gid     int
}

// BaseNodes are the char devices every root gets, as systemd-nspawn gives a
// container; OptionalNodes are made when the machine has them.
var (
	BaseNodes = []Node{
		{Name: "null", Type: Char, Major: 1, Minor: 3, Mode: 0o666},
		{Name: "zero", Type: Char, Major: 1, Minor: 5, Mode: 0o666},
		{Name: "full", Type: Char, Major: 1, Minor: 7, Mode: 0o666},
		{Name: "random", Type: Char, Major: 1, Minor: 8, Mode: 0o666},
		{Name: "urandom", Type: Char, Major: 1, Minor: 9, Mode: 0o666},
		{Name: "tty", Type: Char, Major: 5, Minor: 0, Mode: 0o666},
	}
	OptionalNodes = []string{"fuse", "net/tun", "loop-control", "kvm"}
)

// DevDir is the root's /dev: a tmpfs that PID 1 mounts in the admin namespace
// (under /run/ants), fills, and keeps in step with hotplug; the root child binds it
// onto the root's /dev and mounts the root's own devpts instance on its pts. What
// the root removes, replaces or remounts there is its own: the admin's /dev is the
// kernel's devtmpfs, which the root never sees.
type DevDir struct {
	Path string
	// Host is the admin's /dev, where the owners and modes of the machine's
	// devices are read ("/dev").
	Host string
	// Sys is sysfs ("/sys"), where block devices are listed.
	Sys string
	// Hidden are block devices of the admin side (by Major and Minor) that get
	// no node, however sysfs or a uevent names them.
	Hidden []DevRule
}

func (d DevDir) hidden(major, minor uint32) bool {
	for _, h := range d.Hidden {
		if uint32(h.Major) == major && uint32(h.Minor) == minor {
			return true
		}
	}
	return false
}

// Fill makes the nodes, directories and links of a fresh /dev.
func (d DevDir) Fill() error {
	var errs []error
	for _, n := range BaseNodes {
		errs = append(errs, d.mknod(n))
	}
	for _, name := range OptionalNodes {
		if n, ok := d.hostNode(name); ok {
			errs = append(errs, os.MkdirAll(filepath.Dir(filepath.Join(d.Path, name)), 0o755))
			errs = append(errs, d.mknod(n))
		}
	}
	for _, n := range d.BlockDevices() {
		errs = append(errs, d.mknod(n))
	}
	for _, dir := range []struct {
		name string
		mode os.FileMode
	}{{"pts", 0o755}, {"shm", 0o1777}, {"mqueue", 0o755}, {"hugepages", 0o755}} {
		if err := os.Mkdir(filepath.Join(d.Path, dir.name), dir.mode); err != nil && !os.IsExist(err) {
			errs = append(errs, err)
		}
		os.Chmod(filepath.Join(d.Path, dir.name), dir.mode)
	}
	for _, l := range [][2]string{
		{"ptmx", "pts/ptmx"}, {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"},
		{"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}, {"core", "/proc/kcore"},
	} {
		if err := os.Symlink(l[1], filepath.Join(d.Path, l[0])); err != nil && !os.IsExist(err) {
			errs = append(errs, err)
		}
	}
	// A plain file the console pty is bound over in the root's mount namespace.
	if f, err := os.OpenFile(filepath.Join(d.Path, "console"), os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		f.Close()
	} else {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (d DevDir) mknod(n Node) error {
	kind := uint32(unix.S_IFCHR)
	if n.Type == Block {
		kind = unix.S_IFBLK
	}
	p := filepath.Join(d.Path, n.Name)
	err := unix.Mknod(p, kind|n.Mode, int(unix.Mkdev(n.Major, n.Minor)))
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("root's /dev: mknod %s (%s): %w", n.Name, DevName(n.Type, int(n.Major), int(n.Minor)), err)
	}
	// mknod's mode is cut by the umask; the owner comes from the machine's node.
	unix.Chmod(p, n.Mode)
	unix.Lchown(p, n.Uid, n.Gid)
	return nil
}

// hostNode reads a node of the admin's /dev, with its owner and mode.
func (d DevDir) hostNode(name string) (Node, bool) {
	var st unix.Stat_t
	if unix.Lstat(filepath.Join(d.Host, name), &st) != nil {
		return Node{}, false
	}
	n := Node{Name: name, Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev), Mode: st.Mode & 0o7777, Uid: int(st.Uid), Gid: int(st.Gid)}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFBLK:
		n.Type = Block
	case unix.S_IFCHR:
		n.Type = Char
	default:
		return Node{}, false
	}
	return n, true
}

// BlockDevices lists the machine's block devices (sysfs class/block), with the
// owner and mode of their node in the admin's /dev when it is there.
func (d DevDir) BlockDevices() []Node {
	ents, err := os.ReadDir(filepath.Join(d.Sys, "class/block"))
	if err != nil {
		return nil
	}
	var nodes []Node
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(d.Sys, "class/block", e.Name(), "dev"))
		if err != nil {
			continue
		}
		maj, min, ok := ParseDev(strings.TrimSpace(string(b)))
		if !ok || d.hidden(maj, min) {
			continue
		}
		n := Node{Name: e.Name(), Type: Block, Major: maj, Minor: min, Mode: 0o660}
		if h, ok := d.hostNode(e.Name()); ok && h.Type == Block && h.Major == maj && h.Minor == min {
			n.Mode, n.Uid, n.Gid = h.Mode, h.Uid, h.Gid
		}
		nodes = append(nodes, n)
	}
	return nodes
}

// ParseDev reads "MAJOR:MINOR".
func ParseDev(s string) (uint32, uint32, bool) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, false
	}
	maj, err1 := strconv.ParseUint(a, 10, 32)
	min, err2 := strconv.ParseUint(b, 10, 32)
	return uint32(maj), uint32(min), err1 == nil && err2 == nil
}

// Uevent is a kernel device event, as the kernel's uevent netlink socket sends it.
type Uevent struct {
	Action, Subsystem, DevName string
	Major, Minor               uint32
	HasDev                     bool
}

// ParseUevent reads one message: "ACTION@DEVPATH\0KEY=VALUE\0...".
func ParseUevent(b []byte) (Uevent, bool) {
	var ev Uevent
	parts := strings.Split(string(b), "\x00")
	if len(parts) < 2 || !strings.Contains(parts[0], "@") {
		// libudev's messages start "libudev\0"; only the kernel's are read.
		return ev, false
	}
	var maj, min string
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		switch k {
		case "ACTION":
			ev.Action = v
		case "SUBSYSTEM":
			ev.Subsystem = v
		case "DEVNAME":
			ev.DevName = v
		case "MAJOR":
			maj = v
		case "MINOR":
			min = v
		}
	}
	if maj != "" && min != "" {
		ev.Major, ev.Minor, ev.HasDev = ParseDev(maj + ":" + min)
	}
	return ev, ev.Action != ""
}

// Apply brings the directory in step with a block device event: a node made on
// "add", removed on "remove". Only block devices with a plain name (no slash) are
// followed; anything else is left alone. The node is made relative to an open
// directory and never through a path the root could have replaced with a link:
// mknodat and unlinkat act on the last name only, and a name has no slash.
func (d DevDir) Apply(dirfd int, ev Uevent) error {
	if ev.Action == Resync {
		return d.resync(dirfd)
	}
	if ev.Subsystem != "block" || !ev.HasDev || ev.DevName == "" || strings.ContainsAny(ev.DevName, "/\x00") || ev.DevName == "." || ev.DevName == ".." {
		return nil
	}
	switch ev.Action {
	case "add":
		if d.hidden(ev.Major, ev.Minor) {
			return nil
		}
		n := Node{Name: ev.DevName, Type: Block, Major: ev.Major, Minor: ev.Minor, Mode: 0o660}
		if h, ok := d.hostNode(ev.DevName); ok && h.Type == Block {
			n.Mode, n.Uid, n.Gid = h.Mode, h.Uid, h.Gid
		}
		err := unix.Mknodat(dirfd, n.Name, unix.S_IFBLK|n.Mode, int(unix.Mkdev(n.Major, n.Minor)))
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("root's /dev: mknod %s: %w", n.Name, err)
		}
		unix.Fchmodat(dirfd, n.Name, n.Mode, 0)
		unix.Fchownat(dirfd, n.Name, n.Uid, n.Gid, unix.AT_SYMLINK_NOFOLLOW)
	case "remove":
		err := unix.Unlinkat(dirfd, ev.DevName, 0)
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("root's /dev: remove %s: %w", ev.DevName, err)
		}
	}
	return nil
}

// Resync is the Action of the event Uevents makes up when the kernel dropped
// events (the socket's buffer overflowed): the directory is brought in step with
// sysfs as a whole.
const Resync = "resync"

// resync makes the nodes of every block device sysfs lists and removes block
// nodes of devices that are gone, all relative to dirfd.
func (d DevDir) resync(dirfd int) error {
	have := map[string]bool{}
	var errs []error
	for _, n := range d.BlockDevices() {
		have[n.Name] = true
		errs = append(errs, d.Apply(dirfd, Uevent{Action: "add", Subsystem: "block", DevName: n.Name, Major: n.Major, Minor: n.Minor, HasDev: true}))
	}
	f, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", dirfd))
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	for _, name := range names {
		var st unix.Stat_t
		if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK && !have[name] {
			unix.Unlinkat(dirfd, name, 0)
		}
	}
	return errors.Join(errs...)
}

// Uevents reads the kernel's device events for ever and hands each to f; when
// the kernel dropped some, f gets an event with Action Resync. It returns only
// when the socket cannot be opened or read.
func Uevents(f func(Uevent)) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return fmt.Errorf("uevent socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}); err != nil {
		return fmt.Errorf("uevent socket: bind: %w", err)
	}
	// A burst of devices (a USB hub) must not overflow the default buffer.
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 1<<20)
	buf := make([]byte, 16<<10)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.ENOBUFS) {
			f(Uevent{Action: Resync})
			continue
		}
		if err != nil {
			return fmt.Errorf("uevent socket: %w", err)
		}
		if ev, ok := ParseUevent(buf[:n]); ok {
			f(ev)
		}
	}
}
