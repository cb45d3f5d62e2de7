package pid1

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/payload"
	"golang.org/x/sys/unix"
)

// newRoot is where the admin tmpfs is built before it is moved onto "/".
const newRoot = "/.ants-admin"

// keepMounts are moved, not copied, into the new root.
var keepMounts = []string{"/proc", "/sys", "/dev", "/run"}

// ImageDirs hold the image's read-only payload: the busybox binary with its links,
// and the kernel modules (most of the image's bytes). They stay where the kernel
// unpacked them and are bind-mounted read-only into the admin tmpfs: copying them
// cost half a second under TCG, and PID 1 keeps running the very binary it was
// started from, so memory still holds one copy and nothing needs to start again.
// /bbin/bb and /lib/modules are themselves binds from the image's squashfs
// (internal/payload), which the recursive bind carries along.
var ImageDirs = []string{"/bbin", "/lib/modules"}

// Switched says what SwitchRoot did.
type Switched struct {
	Moved int      // files moved from the initramfs into the tmpfs
	Bound []string // ImageDirs bind-mounted read-only
}

// SwitchRoot makes the admin namespace: a tmpfs of the given size filled with the
// initramfs' files, moved onto "/" (the switch_root trick: the initramfs is a
// rootfs, which pivot_root cannot leave, so later a root system could not pivot).
// ImageDirs are bind-mounted read-only; every other file is moved (copied, then
// removed), so memory holds one copy of everything. On return the process is
// chrooted into the tmpfs and goes on from there.
func SwitchRoot(size uint64) (sw Switched, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil {
		return sw, fmt.Errorf("statfs /: %v", err)
	}
	if st.Type != unix.RAMFS_MAGIC && st.Type != unix.TMPFS_MAGIC {
		return sw, fmt.Errorf("/ is not the initramfs (fs magic 0x%x); not switching", st.Type)
	}
	m := mount.Entry{Source: "ants", Target: newRoot, FSType: "tmpfs", Data: fmt.Sprintf("mode=0755,size=%d", size), Once: true}
	if err := m.Do(); err != nil {
		return sw, err
	}
	rootDev, err := devOf("/")
	if err != nil {
		return sw, err
	}
	// The payload squashfs is the loop device's backing file: it stays where it is.
	skip := map[string]bool{newRoot: true, "/" + payload.File: true}
	for _, p := range keepMounts {
		skip[p] = true
	}
	for _, dir := range ImageDirs {
		if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
			continue
		}
		if err := bindReadOnly(dir, newRoot+dir); err != nil {
			return sw, err
		}
		skip[dir] = true
		sw.Bound = append(sw.Bound, dir)
	}
	ents, err := os.ReadDir("/")
	if err != nil {
		return sw, err
	}
	for _, e := range ents {
		p := "/" + e.Name()
		if skip[p] {
			continue
		}
		n, err := moveTree(p, newRoot+p, rootDev, skip)
		sw.Moved += n
		if err != nil {
			return sw, err
		}
	}
	for _, p := range keepMounts {
		if err := os.MkdirAll(newRoot+p, 0o755); err != nil {
			return sw, err
		}
		if err := mount.Move(p, newRoot+p); err != nil {
			return sw, err
		}
	}
	if err := os.Chdir(newRoot); err != nil {
		return sw, err
	}
	if err := mount.Move(".", "/"); err != nil {
		return sw, fmt.Errorf("%s onto /: %w", newRoot, err)
	}
	if err := unix.Chroot("."); err != nil {
		return sw, fmt.Errorf("chroot into the admin tmpfs: %v", err)
	}
	if err := os.Chdir("/"); err != nil {
		return sw, err
	}
	return sw, nil
}

// bindReadOnly bind-mounts dir on target (created with dir's mode), read-only.
func bindReadOnly(dir, target string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	return mount.Entry{Source: dir, Target: target, Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, Mode: fi.Mode().Perm()}.Do()
}

func devOf(p string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return 0, fmt.Errorf("stat %s: %v", p, err)
	}
	return st.Dev, nil
}

// moveTree moves src to dst (copy, then remove), staying on the device dev and
// leaving the paths in skip where they are.
func moveTree(src, dst string, dev uint64, skip map[string]bool) (int, error) {
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return 0, fmt.Errorf("stat %s: %v", src, err)
	}
	if st.Dev != dev {
		return 0, nil // a mount point: not ours to move
	}
	mode := os.FileMode(st.Mode & 0o7777)
	n := 0
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := os.Mkdir(dst, mode); err != nil && !os.IsExist(err) {
			return 0, err
		}
		ents, err := os.ReadDir(src)
		if err != nil {
			return 0, err
		}
		for _, e := range ents {
			p := filepath.Join(src, e.Name())
			if skip[p] {
				continue
			}
			k, err := moveTree(p, filepath.Join(dst, e.Name()), dev, skip)
			n += k
			if err != nil {
				return n, err
			}
		}
		os.Chmod(dst, mode)
		unix.Rmdir(src)
	case unix.S_IFREG:
		if err := copyFile(src, dst, mode); err != nil {
			return 0, err
		}
		os.Remove(src)
		n++
	case unix.S_IFLNK:
		target, err := os.Readlink(src)
		if err != nil {
			return 0, err
		}
		if err := os.Symlink(target, dst); err != nil && !os.IsExist(err) {
			return 0, err
		}
		os.Remove(src)
		n++
	default: // device nodes, fifos, sockets
		if err := unix.Mknod(dst, st.Mode, int(st.Rdev)); err != nil && err != unix.EEXIST {
			return 0, fmt.Errorf("mknod %s: %v", dst, err)
		}
		os.Remove(src)
		n++
	}
	os.Lchown(dst, int(st.Uid), int(st.Gid))
	return n, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %v", src, err)
	}
	return out.Close()
}
