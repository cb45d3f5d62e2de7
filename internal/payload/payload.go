// Package payload is the image's read-only payload, the busybox binary and the
// kernel modules, as one squashfs the kernel unpacks as a single file and PID 1
// mounts through a loop device (docs/design.md, item 26).
//
// Why: while the kernel unpacks an initramfs it holds the compressed image and the
// files it has written so far, both, until the end: the boot's peak of memory. A
// cpio of the busybox (13 MiB, 4.5 compressed) and of the modules (zstd each, 5.6
// MiB that no outer compression shrinks) cost that peak both sizes of each. A
// squashfs costs its compressed size twice and nothing more: it is unpacked as it
// is, and read (decompressed by the kernel, a block at a time) only where a program
// or a module is read, into page cache the kernel can drop and read again.
//
// The builder (initramfs/) lays the image out with these names. PID 1 opens File
// (Open) before it moves into the admin tmpfs, which binds /bbin and /lib/modules
// from the initramfs as before, and calls Mount once the admin prompt is there.
package payload

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ants/ants/internal/kmod"
	"github.com/ants/ants/internal/mount"
	"golang.org/x/sys/unix"
)

// The image's layout (paths relative to the initramfs' top directory).
const (
	// File is the squashfs. It stays in the initramfs (it is the loop device's
	// backing file) and is not moved into the admin tmpfs.
	File = "ants.sqfs"
	// BootDir holds the modules that mount it (loop, squashfs and what they
	// depend on), uncompressed, with Order listing their file names in load
	// order. A kernel with both built in has an empty list.
	BootDir = "lib/ants-boot"
	Order   = "order"
	// MountDir is where Mount mounts the squashfs for the moment it binds from it.
	MountDir = ".ants-image"
	// Bin is the busybox binary in the squashfs, bound onto BinTarget (an empty
	// file of the image, so that /bbin's links and /bbin/admin stay plain files of
	// the initramfs).
	Bin       = "bb"
	BinTarget = "bbin/bb"
	// Modules is lib/modules in the squashfs (RELEASE/... as depmod lays it out),
	// bound onto ModulesTarget (an empty directory of the image).
	Modules       = "modules"
	ModulesTarget = "lib/modules"
)

// params are the boot modules' parameters. loop makes eight devices when it loads
// unless told otherwise, 9 ms each under TCG before the admin prompt; one is
// enough: LOOP_CTL_GET_FREE (losetup -f, a root's systemd) adds more as asked.
var params = map[string]string{"loop": "max_loop=1"}

// Mounted says what Mount did.
type Mounted struct {
	Loop   string // the loop device, /dev/loopN
	Major  uint32 // its device number, for the root's device filter
	Minor  uint32
	Size   int64    // the squashfs' bytes
	Loaded []string // boot modules loaded (not live before)
	// The time loading them took; the rest of Mount is the attach and the mounts.
	Modules time.Duration
}

// System is what Mount does to the machine; the zero value is the real one but
// for Image.
type System struct {
	// Image is the squashfs, opened (Open) in the initramfs before PID 1 moves
	// into the admin tmpfs, where the initramfs' own files are out of reach.
	Image     *os.File
	Root      string                          // where BootDir and the targets are; "" is "/"
	Dev       string                          // devtmpfs; "" is "/dev"
	SysModule string                          // "" is "/sys/module"
	LoadFile  func(path, params string) error // nil is kmod.LoadFile
}

// Open opens the image's squashfs in root ("" is "/"); it returns nil, nil for an
// image without one (built with -payload cpio: /bbin and /lib/modules are plain
// files of the initramfs).
func Open(root string) (*os.File, error) {
	if root == "" {
		root = "/"
	}
	f, err := os.Open(filepath.Join(root, File))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return f, err
}

func (s System) path(p string) string {
	if s.Root == "" {
		return "/" + p
	}
	return filepath.Join(s.Root, p)
}

// Mount loads the boot modules the kernel does not have yet, attaches Image to a
// free loop device (read-only, cleared when the last mount of it goes), mounts it
// read-only on MountDir, binds Bin onto BinTarget and Modules onto ModulesTarget,
// and detaches MountDir again: the two binds are what is left.
func (s System) Mount() (m Mounted, err error) {
	load := s.LoadFile
	if load == nil {
		load = kmod.LoadFile
	}
	if s.Image == nil {
		return m, errors.New("payload: no image file")
	}
	fi, err := s.Image.Stat()
	if err != nil {
		return m, err
	}
	m.Size = fi.Size()
	order, err := os.ReadFile(s.path(filepath.Join(BootDir, Order)))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return m, err
	}
	start := time.Now()
	for _, f := range strings.Fields(string(order)) {
		name := kmod.Name(f)
		if kmod.Live(s.SysModule, name) {
			continue
		}
		if err := load(s.path(filepath.Join(BootDir, f)), params[name]); err != nil && !errors.Is(err, unix.EEXIST) {
			return m, fmt.Errorf("loading %s for %s: %w", name, File, err)
		}
		m.Loaded = append(m.Loaded, name)
	}
	m.Modules = time.Since(start)
	lf, err := s.attach(s.Image)
	if err != nil {
		return m, err
	}
	// Autoclear detaches the file at the device's last close: held open until the
	// mount holds the device.
	defer lf.Close()
	m.Loop = lf.Name()
	var st unix.Stat_t
	if err := unix.Fstat(int(lf.Fd()), &st); err != nil {
		return m, err
	}
	m.Major, m.Minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
	dir := s.path(MountDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return m, err
	}
	if err := mount.Mount(m.Loop, dir, "squashfs", unix.MS_RDONLY|unix.MS_NODEV|unix.MS_NOSUID, ""); err != nil {
		return m, err
	}
	defer func() {
		if e := mount.Unmount(dir, unix.MNT_DETACH); e != nil && err == nil {
			err = e
		}
		os.Remove(dir)
	}()
	for _, b := range [][2]string{{Bin, BinTarget}, {Modules, ModulesTarget}} {
		if err := mount.Bind(filepath.Join(dir, b[0]), s.path(b[1]), 0); err != nil {
			return m, err
		}
	}
	return m, nil
}

// attach gives f to a free loop device, read-only and with autoclear, and returns
// the device, open (its last close would detach it). u-root's pkg/mount/loop finds
// the free device (as here) but attaches with LOOP_SET_FD, writable when the file
// is and without autoclear: a writable device would let a write to it change the
// admin side's programs under the squashfs. The device's node is there when
// LOOP_CTL_GET_FREE returns (devtmpfs makes it before the device is added).
func (s System) attach(f *os.File) (*os.File, error) {
	dev := s.Dev
	if dev == "" {
		dev = "/dev"
	}
	ctl, err := os.OpenFile(filepath.Join(dev, "loop-control"), os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (is the loop module loaded?)", File, err)
	}
	defer ctl.Close()
	// Another process (a losetup in the admin shell) may take the free device
	// between the two calls: then another try.
	var last error
	for try := 0; try < 4; try++ {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return nil, fmt.Errorf("%s: no free loop device: %w", File, err)
		}
		path := filepath.Join(dev, fmt.Sprintf("loop%d", n))
		lf, err := os.OpenFile(path, os.O_RDONLY, 0)
		if err != nil {
			return nil, err
		}
		cfg := unix.LoopConfig{Fd: uint32(f.Fd())}
		cfg.Info.Flags = unix.LO_FLAGS_READ_ONLY | unix.LO_FLAGS_AUTOCLEAR
		copy(cfg.Info.File_name[:], File)
		err = unix.IoctlLoopConfigure(int(lf.Fd()), &cfg)
		if err == nil {
			return lf, nil
		}
		lf.Close()
		last = fmt.Errorf("%s on %s: LOOP_CONFIGURE: %w", File, path, err)
		if !errors.Is(err, unix.EBUSY) {
			break
		}
	}
	return nil, last
}

// StatusFile is where PID 1 says how mounting the payload went: "ok", or the error.
const StatusFile = "/run/ants/payload"

// WaitBin waits, at most d, while BinTarget is still the image's empty
// placeholder and StatusFile is not written: PID 1 mounts the payload just after
// the admin prompt appears (so that the prompt does not wait for it), and a
// command typed at once waits the few tens of milliseconds that takes instead of
// failing with "exec format error". It returns at once ever after.
func WaitBin(d time.Duration) {
	if binReady.Load() {
		return
	}
	for deadline := time.Now().Add(d); ; time.Sleep(5 * time.Millisecond) {
		fi, err := os.Stat(waitBin)
		_, serr := os.Stat(waitStatus)
		if err != nil || fi.Size() > 0 || serr == nil {
			binReady.Store(true) // mounted, not this image's layout, or PID 1 is done
			return
		}
		if time.Now().After(deadline) {
			return
		}
	}
}

var binReady atomic.Bool

// WaitBin's files; the tests point them elsewhere.
var waitBin, waitStatus = "/" + BinTarget, StatusFile
