package rootsys

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ants/ants/internal/blockid"
	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/guard"
	"github.com/ants/ants/internal/kmod"
	"github.com/ants/ants/internal/mount"
	"golang.org/x/sys/unix"
)

// Exit codes of the root child, for PID 1 to tell a bad source from the rest.
const (
	ExitSource = 3 // the root could not be found or mounted
	ExitSetup  = 4 // mounted, but the namespace, pivot or init failed
)

// Where the child mounts the root, inside its own mount namespace (the admin
// namespace sees an empty directory).
const (
	MountPoint = "/run/ants/root"
	ErrFile    = "/run/ants/root.err"
)

// Encode and Decode carry a Source to the child on its command line.
func (s Source) Encode() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Decode reads a Source written by Encode.
func Decode(arg string) (Source, error) {
	var s Source
	err := json.Unmarshal([]byte(arg), &s)
	return s, err
}

// ChildError is a failure of the root child, with the exit code it means.
type ChildError struct {
	Code int
	Err  error
}

func (e *ChildError) Error() string { return e.Err.Error() }

func (e *ChildError) Unwrap() error { return e.Err }

func sourceErr(format string, args ...any) error {
	return &ChildError{ExitSource, fmt.Errorf(format, args...)}
}

func setupErr(format string, args ...any) error {
	return &ChildError{ExitSetup, fmt.Errorf(format, args...)}
}

// Child is the root child: PID 1 of the root's new PID namespace, in a new mount
// namespace. It mounts the root, gives it /proc, /sys, /dev, /dev/pts, /run and the
// console (its own stdin, a pty of PID 1's console mux), pivots into it and execs
// the root's init. It returns only on failure.
//
// modprobe loads kernel modules (the file system's driver) before a mount; nil skips.
func Child(s Source, log func(string), modprobe func(names ...string) error) error {
	if modprobe == nil {
		modprobe = func(...string) error { return nil }
	}
	if s.Transport > 0 {
		// PID 1's socket must not reach the root's init.
		unix.CloseOnExec(s.Transport)
	}
	// pivot_root fails if the parent mount is shared, and nothing done here may
	// reach the admin namespace.
	if err := mount.Propagate("/", unix.MS_REC|unix.MS_PRIVATE); err != nil {
		return setupErr("%w", err)
	}
	if s.Delay > 0 {
		log(fmt.Sprintf("rootdelay: waiting %v", s.Delay))
		time.Sleep(s.Delay)
	}
	if err := os.MkdirAll(MountPoint, 0o755); err != nil {
		return setupErr("%v", err)
	}
	target := MountPoint
	if s.Overlay != "" {
		// The tree is the overlay's lower layer: read-only, shared with others.
		target = lowerPoint
		s.Flags |= unix.MS_RDONLY
		if err := os.MkdirAll(target, 0o755); err != nil {
			return setupErr("%v", err)
		}
	}
	if err := mountSource(s, target, log, modprobe); err != nil {
		return err
	}
	if s.Overlay != "" {
		if err := mountOverlay(s, log, modprobe); err != nil {
			return err
		}
	}
	console, err := os.Readlink("/proc/self/fd/0")
	if err != nil || !strings.HasPrefix(console, "/dev/pts/") {
		console = ""
	}
	if err := prepare(MountPoint, console, s); err != nil {
		return err
	}
	if err := pivot(MountPoint); err != nil {
		return err
	}
	if err := confine(s); err != nil {
		return err
	}
	return execInit(s)
}

func mountSource(s Source, target string, log func(string), modprobe func(...string) error) error {
	switch s.Kind {
	case Disk:
		dev, err := findDevice(s, log)
		if err != nil {
			return err
		}
		types := []string{s.FSType}
		if s.FSType == "" {
			types = []string{dev.FSType}
			if dev.FSType == "" {
				types = []string{"ext4", "ext3", "ext2", "xfs", "btrfs", "vfat", "squashfs", "iso9660"}
			}
		}
		var errs []string
		for _, t := range types {
			// ext2 and ext3 are served by the ext4 driver.
			mod := t
			if t == "ext2" || t == "ext3" {
				mod = "ext4"
			}
			if err := modprobe(mod); err != nil {
				log(fmt.Sprintf("module for %s: %v", t, err))
			}
			err := mount.Mount(dev.Path, target, t, s.Flags, s.Data)
			if err == nil {
				log(fmt.Sprintf("mounted %s (%s) from %s", s.Spec, t, dev.Path))
				return nil
			}
			if errors.Is(err, unix.EROFS) && s.Flags&unix.MS_RDONLY == 0 {
				if mount.Mount(dev.Path, target, t, s.Flags|unix.MS_RDONLY, s.Data) == nil {
					log(fmt.Sprintf("mounted %s (%s) from %s read-only: the device is read-only", s.Spec, t, dev.Path))
					return nil
				}
			}
			errs = append(errs, fmt.Sprintf("as %s: %v", t, mount.Errno(err)))
		}
		return sourceErr("root=%s: cannot mount %s %s (is rootfstype= right, and its module in the image?)", s.Spec, dev.Path, strings.Join(errs, "; "))
	case NineP:
		t0, had := time.Now(), kmod.AllLive("", s.NetModules()...)
		if err := modprobe(s.NetModules()...); err != nil {
			return sourceErr("venti=%s: the 9P modules: %v", s.Venti, err)
		}
		t1 := time.Now()
		// Reach the server first: a refused connection is a clear message, while
		// the kernel's mount only says "connection refused" or hangs in SYN retries.
		list := s.Servers
		if len(list) == 0 {
			list = []string{s.Venti.String()}
		}
		d, ip, err := firstAnswering("the 9P server", list, func(x string) (string, int, error) {
			d, err := bootvar.ParseDial(x)
			return d.Host, d.Port, err
		}, answers9P, log)
		if err != nil {
			return sourceErr("venti=%s: %v (is the network up? see ip=)", strings.Join(list, ","), err)
		}
		dial, _ := bootvar.ParseDial(d)
		data := withOption(s.Data, "port", fmt.Sprint(dial.Port))
		t2 := time.Now()
		if err := mountNineP(s, ip, dial.Port, target, data, log); err != nil {
			return sourceErr("venti=%s: 9P mount failed: %v (aname=%q must be the exported path; options %s)", d, mount.Errno(err), s.Aname, data)
		}
		writeServer(d)
		log(fmt.Sprintf("mounted 9p from %s (%s)", d, phases(had, t0, t1, t2, time.Now())))
		return nil
	case VirtFS:
		if err := modprobe("9p", "9pnet_virtio"); err != nil {
			return sourceErr("root=virtfs:%s: the 9P modules: %v", s.Spec, err)
		}
		if err := mount.Mount(s.Spec, target, "9p", s.Flags, s.Data); err != nil {
			hint := ""
			if errors.Is(err, unix.ENOENT) {
				hint = " (no shared folder with that tag: QEMU needs -virtfs ...,mount_tag=" + s.Spec + ")"
			}
			return sourceErr("root=virtfs:%s: mount failed: %v%s", s.Spec, mount.Errno(err), hint)
		}
		log(fmt.Sprintf("mounted shared folder %s", s.Spec))
		return nil
	case NFS:
		t0, had := time.Now(), kmod.AllLive("", s.NetModules()...)
		if err := modprobe(s.NetModules()...); err != nil {
			log(fmt.Sprintf("modules for nfs: %v", err))
		}
		t1 := time.Now()
		list := s.Servers
		if len(list) == 0 {
			list = []string{s.NFSServer}
		}
		vers := uint32(4)
		if s.FSType == "nfs" {
			vers = 3
		}
		server, ip, err := firstAnswering("the NFS server", list, func(x string) (string, int, error) { return x, s.NFSPort, nil },
			func(c net.Conn, d time.Duration) error { return answersNFS(c, vers, d) }, log)
		if err != nil {
			return sourceErr("root=%s: %v (is the network up? see ip=)", s.Spec, err)
		}
		spec := server + ":" + s.NFSPath
		data := s.Data + ",addr=" + ip
		t2 := time.Now()
		if err := mount.Mount(spec, target, s.FSType, s.Flags, data); err != nil {
			hint := ""
			if errors.Is(err, unix.ENOENT) {
				hint = " (no such export: for NFSv4 the path is the server's pseudo path)"
			}
			return sourceErr("root=%s: NFS mount failed: %v%s (options %s)", spec, mount.Errno(err), hint, data)
		}
		writeServer(server)
		log(fmt.Sprintf("mounted %s from %s (%s)", s.FSType, spec, phases(had, t0, t1, t2, time.Now())))
		return nil
	}
	return sourceErr("no root configured (set root= or venti=)")
}

// mountNineP mounts a 9P root from ip. With a Transport to PID 1 and trans=tcp,
// the child dials the server itself and mounts over that connection
// (trans=fd,rfdno=N,wfdno=N: the kernel's 9P client is the same, only the socket
// is ours), then hands a copy of it to PID 1. Should that fail anywhere, the
// kernel dials (trans=tcp), as without a Transport. A root with a data cache
// (rootflags=cache=loose, fscache) is mounted as before, by the kernel: when
// its connection is cut under dirty pages, Debian's 6.1 kernel BUGs in fscache as
// the superblock goes (fs/fscache/cookie.c:989, seen in TestPowerOffHungNinePRoot)
// and the oops leaves locks held that hang sync; and its writeback is safest on
// the kernel's own socket, which allocates with GFP_NOIO. Such a root is
// abandoned when it hangs, as before.
func mountNineP(s Source, ip string, port int, target, data string, log func(string)) error {
	cache := optionValue(data, "cache")
	if s.Transport > 0 && optionValue(data, "trans") == "tcp" && (cache == "" || cache == "none" || cache == "mmap") {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, fmt.Sprint(port)), 10*time.Second)
		if err == nil {
			f, ferr := c.(*net.TCPConn).File()
			c.Close()
			if ferr == nil {
				fd := fmt.Sprint(f.Fd())
				fdData := withoutOption(withOption(withOption(withOption(data, "trans", "fd"), "rfdno", fd), "wfdno", fd), "port")
				err = mount.Mount(ip, target, "9p", s.Flags, fdData)
				if err == nil {
					handBack(s.Transport, f, log)
					f.Close()
					return nil
				}
				f.Close()
				log(fmt.Sprintf("9P over our own connection: %v; letting the kernel dial", mount.Errno(err)))
			}
		}
	}
	return mount.Mount(ip, target, "9p", s.Flags, data)
}

// handBack sends f to PID 1 on the Transport socket.
func handBack(transport int, f *os.File, log func(string)) {
	err := unix.Sendmsg(transport, []byte("9p"), unix.UnixRights(int(f.Fd())), nil, 0)
	if err != nil {
		log(fmt.Sprintf("handing the 9P connection to init: %v (a hang of this root can then only be waited out)", err))
	}
}

// ServerFile names the server of the list the running root came from, for PID 1
// (rootctl status, failover). The child writes it before the pivot, while it still
// sees the admin's /run/ants.
const ServerFile = "/run/ants/root.server"

func writeServer(s string) {
	if recordServer {
		os.WriteFile(ServerFile, []byte(s+"\n"), 0o644)
	}
}

// recordServer is false in a process that mounts a root's tree for another
// purpose (FetchCfg): the file is the running root's.
var recordServer = true

// firstAnswering returns the first server of list that answers (takes a TCP
// connection and replies to answer's request), with its address: a short timeout
// per server when there are several, so a dead one costs seconds; each that does
// not answer is said.
func firstAnswering(what string, list []string, hostPort func(string) (string, int, error), answer func(net.Conn, time.Duration) error, log func(string)) (string, string, error) {
	timeout := 10 * time.Second
	if len(list) > 1 {
		timeout = 3 * time.Second
	}
	var errs, bare []string
	for _, x := range list {
		host, port, err := hostPort(x)
		if err != nil {
			errs, bare = append(errs, fmt.Sprintf("%s: %v", x, err)), append(bare, err.Error())
			continue
		}
		ips, err := net.LookupHost(host)
		if err != nil || len(ips) == 0 {
			errs = append(errs, fmt.Sprintf("%s: cannot resolve %s: %v", x, host, err))
			bare = append(bare, fmt.Sprintf("cannot resolve %s: %v", host, err))
			log(fmt.Sprintf("server %s: cannot resolve %s", x, host))
			continue
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ips[0], fmt.Sprint(port)), timeout)
		if err == nil && answer != nil {
			err = answer(c, timeout)
			if err != nil {
				c.Close()
			}
		}
		if err != nil {
			errs, bare = append(errs, fmt.Sprintf("%s: %v", x, err)), append(bare, err.Error())
			if len(list) > 1 {
				log(fmt.Sprintf("server %s does not answer (%v); trying the next", x, err))
			}
			continue
		}
		c.Close()
		return x, ips[0], nil
	}
	if len(list) == 1 {
		return "", "", fmt.Errorf("cannot reach %s: %s", what, bare[0])
	}
	return "", "", fmt.Errorf("no %s of the %d answers: %s", what, len(list), strings.Join(errs, "; "))
}

// optionValue returns key's value in a comma-separated option list.
func optionValue(data, key string) string {
	for _, o := range strings.Split(data, ",") {
		if v, ok := strings.CutPrefix(o, key+"="); ok {
			return v
		}
	}
	return ""
}

// withoutOption removes key=value from a comma-separated option list.
func withoutOption(data, key string) string {
	var keep []string
	for _, o := range strings.Split(data, ",") {
		if !strings.HasPrefix(o, key+"=") && o != "" {
			keep = append(keep, o)
		}
	}
	return strings.Join(keep, ",")
}

// withOption sets key=value in a comma-separated option list.
func withOption(data, key, value string) string {
	opts := strings.Split(data, ",")
	for i, o := range opts {
		if strings.HasPrefix(o, key+"=") {
			opts[i] = key + "=" + value
			return strings.Join(opts, ",")
		}
	}
	return strings.Join(append(opts, key+"="+value), ",")
}

// Where the overlay's layers are, in the root child's mount namespace only.
const (
	lowerPoint = "/run/ants/root.lower"
	upperPoint = "/run/ants/root.upper"
)

// mountOverlay puts an overlayfs on MountPoint: the root's tree (on lowerPoint,
// read-only) under a writable layer, a tmpfs or a local disk, on upperPoint. The
// layers' mounts go with the admin tree at the pivot; the overlay keeps them.
func mountOverlay(s Source, log func(string), modprobe func(...string) error) error {
	if err := modprobe("overlay"); err != nil {
		log(fmt.Sprintf("module for overlay: %v", err))
	}
	if err := os.MkdirAll(upperPoint, 0o755); err != nil {
		return setupErr("%v", err)
	}
	what := "a tmpfs"
	if s.Overlay == "tmpfs" {
		size := s.OverlaySize
		if size == "" {
			size = "50%"
		}
		if err := mount.Mount("tmpfs", upperPoint, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size="+size); err != nil {
			return setupErr("ants.overlay=tmpfs: %w", err)
		}
		what += " (size " + size + ")"
	} else {
		dev, err := findDevice(Source{Spec: s.Overlay, Wait: s.Wait}, log)
		if err != nil {
			return setupErr("ants.overlay=%s: %v", s.Overlay, err)
		}
		t := dev.FSType
		if t == "" || t == "ext2" || t == "ext3" {
			t = "ext4"
		}
		modprobe(t)
		if err := mount.Mount(dev.Path, upperPoint, t, unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
			return setupErr("ants.overlay=%s: %w", s.Overlay, err)
		}
		what = dev.Path + " (" + t + ")"
	}
	upper, work := filepath.Join(upperPoint, "upper"), filepath.Join(upperPoint, "work")
	for _, d := range []string{upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return setupErr("ants.overlay=%s: %v", s.Overlay, err)
		}
	}
	opts := "lowerdir=" + lowerPoint + ",upperdir=" + upper + ",workdir=" + work
	if err := mount.Mount("overlay", MountPoint, "overlay", 0, opts); err != nil {
		return setupErr("ants.overlay=%s over %s: %w", s.Overlay, s, err)
	}
	log(fmt.Sprintf("overlay: %s read-only under %s, where the writes go", s, what))
	return nil
}

// findDevice looks for the root device; with rootwait for ever (saying so every
// 10 s), else for a few seconds while devices settle.
func findDevice(s Source, log func(string)) (blockid.Dev, error) {
	deadline := time.Now().Add(5 * time.Second)
	next := time.Now().Add(10 * time.Second)
	for {
		devs, err := blockid.List("/sys/class/block", "/dev")
		if err == nil {
			if d, ferr := blockid.Find(devs, s.Spec); ferr == nil {
				return d, nil
			} else {
				err = ferr
			}
		}
		if !s.Wait && time.Now().After(deadline) {
			return blockid.Dev{}, sourceErr("root=%s: %v (add rootwait to wait for it)", s.Spec, err)
		}
		if s.Wait && time.Now().After(next) {
			log(fmt.Sprintf("rootwait: still waiting for root=%s; %s a, then rootctl stop, to give up", s.Spec, escapeKey(EscapeFile)))
			next = time.Now().Add(10 * time.Second)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Read-only and masked parts of the root's /proc when it is contained, as
// systemd-nspawn has them: the kernel's knobs (/proc/sys: core_pattern, modprobe,
// hotplug helpers), sysrq, and the hardware's.
var (
	procReadOnly = []string{"sys", "sysrq-trigger", "bus", "fs", "irq", "acpi", "scsi"}
	procMasked   = []string{"kcore", "timer_list", "sched_debug", "kallsyms"}
)

// prepare gives the new root what a distribution expects before its init runs.
func prepare(root, console string, s Source) error {
	contained := !s.Full
	sysFlags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if contained {
		// The container interface: a read-only /sys tells systemd that udev and
		// the machine's sysfs knobs are not its own.
		sysFlags |= unix.MS_RDONLY
	}
	mounts := mount.Table{
		{Source: "proc", Target: "/proc", FSType: "proc", Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		{Source: "sysfs", Target: "/sys", FSType: "sysfs", Flags: sysFlags},
	}
	if !contained || s.DevDir == "" {
		mounts = append(mounts, mount.Entry{Source: "devtmpfs", Target: "/dev", FSType: "devtmpfs", Flags: unix.MS_NOSUID, Data: "mode=0755"})
	} else {
		// The root's own /dev, which PID 1 made and keeps in step with hotplug. A
		// bind takes no flags of its own: nosuid and noexec come by a remount.
		mounts = append(mounts, mount.Entry{Source: s.DevDir, Target: "/dev", Flags: unix.MS_BIND | unix.MS_NOSUID | unix.MS_NOEXEC})
	}
	mounts = append(mounts,
		mount.Entry{Source: "devpts", Target: "/dev/pts", FSType: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,gid=5,mode=0620,ptmxmode=0666"},
		mount.Entry{Source: "tmpfs", Target: "/run", FSType: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_NODEV, Data: "mode=0755,size=20%"},
	)
	// A root without a target directory (a minimal tree) gets it made if it can be.
	if err := mounts.Mount(root, false); err != nil {
		return setupErr("in the root: %w", err)
	}
	if !contained || s.DevDir == "" {
		// The root's own devpts instance: its ptmx must be the one of that
		// instance. devtmpfs is one instance for the whole kernel, so /dev/ptmx is
		// the admin namespace's file too: bind over it (a mount of this namespace
		// only), never replace it. (The root's own /dev has ptmx as a link.)
		ptmx := filepath.Join(root, "/dev/ptmx")
		if err := mount.Bind(filepath.Join(root, "/dev/pts/ptmx"), ptmx, 0); err != nil {
			return setupErr("/dev/ptmx in the root: %w", err)
		}
	}
	if contained {
		for _, p := range procReadOnly {
			dst := filepath.Join(root, "/proc", p)
			if _, err := os.Stat(dst); err != nil {
				continue
			}
			if err := readOnlyBind(dst); err != nil {
				return setupErr("making /proc/%s read-only in the root: %w", p, err)
			}
		}
		null := filepath.Join(root, "/dev/null")
		for _, p := range procMasked {
			dst := filepath.Join(root, "/proc", p)
			if _, err := os.Stat(dst); err != nil {
				continue
			}
			if err := mount.Bind(null, dst, 0); err != nil {
				return setupErr("masking /proc/%s in the root: %w", p, err)
			}
		}
	}
	if console != "" {
		c := filepath.Join(root, "/dev/console")
		if _, err := os.Stat(c); err != nil {
			f, _ := os.Create(c)
			if f != nil {
				f.Close()
			}
		}
		// The console mux's pty stands in for the console: the root's init never
		// gets the real console, which PID 1 alone reads.
		if err := mount.Bind(console, c, 0); err != nil {
			return setupErr("the console pty over /dev/console: %w", err)
		}
	}
	return nil
}

// readOnlyBind makes path a read-only bind of itself.
func readOnlyBind(path string) error {
	if err := mount.Bind(path, path, unix.MS_REC); err != nil {
		return err
	}
	return mount.Remount(path, unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}

// confine is the last step before the root's init: its OOM score back to the
// kernel's default (PID 1's -1000 is inherited), and for a contained root the
// capability bounding set without what the admin side must keep for itself.
func confine(s Source) error {
	os.WriteFile("/proc/self/oom_score_adj", []byte("0"), 0)
	if s.Full {
		return nil
	}
	if err := guard.DropBounding(guard.DroppedCaps); err != nil {
		return setupErr("%v", err)
	}
	return nil
}

// pivot makes root the "/" of this mount namespace and detaches the admin tree.
func pivot(root string) error {
	if err := unix.Chdir(root); err != nil {
		return setupErr("chdir %s: %v", root, err)
	}
	if err := mount.PivotRoot(".", "."); err != nil {
		return setupErr("%s: %w", root, err)
	}
	// The old root (the admin tree) is stacked under "."; make it a slave so the
	// detach cannot propagate, then let it go.
	if err := mount.Propagate(".", unix.MS_SLAVE|unix.MS_REC); err != nil {
		return setupErr("old root: %w", err)
	}
	if err := mount.Unmount(".", unix.MNT_DETACH); err != nil {
		return setupErr("detaching the admin tree: %w", err)
	}
	return unix.Chdir("/")
}

func execInit(s Source) error {
	if _, err := os.Stat(s.Init); err != nil {
		return setupErr("init=%s: %v in the root; set init= to the root's init", s.Init, unwrap(err))
	}
	term := os.Getenv("TERM")
	if term == "" {
		term = "vt100"
	}
	env := []string{
		"container=ants",
		"TERM=" + term,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/",
	}
	argv := append([]string{s.Init}, s.Args...)
	if s.Transport > 0 {
		// PID 1 says when the root's own init starts; the socket closes with the
		// exec (close-on-exec).
		unix.Sendmsg(s.Transport, []byte("exec "+s.Init), nil, nil, 0)
	}
	err := syscall.Exec(s.Init, argv, env)
	return setupErr("exec init=%s: %v", s.Init, err)
}

func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// NetModules are the kernel modules a network root's mount needs (mountSource
// loads them first), none for other roots. ants net loads them while DHCP waits
// for its answers, so that the first mount finds them there.
func (s Source) NetModules() []string {
	switch s.Kind {
	case NineP:
		return []string{"9p", "9pnet_fd"}
	case NFS:
		return []string{"nfs", "nfsv4"}
	}
	return nil
}

// phases says where a network mount's time went, for the boot log: the modules
// (t0 to t1; had: the kernel had them all before, as ants net loads them), finding
// a server that answers (to t2) and the kernel's mount (to t3).
func phases(had bool, t0, t1, t2, t3 time.Time) string {
	ms := func(a, b time.Time) int64 { return b.Sub(a).Milliseconds() }
	mods := fmt.Sprintf("modules %d ms", ms(t0, t1))
	if had {
		mods = "its modules were loaded"
	}
	return fmt.Sprintf("%d ms: %s, the server answered in %d, the mount took %d", ms(t0, t3), mods, ms(t1, t2), ms(t2, t3))
}
