package pid1

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// newRoot is where the admin tmpfs is built before it is moved onto "/".
const newRoot = "/.ants-admin"

// keepMounts are moved, not copied, into the new root.
var keepMounts = []string{"/proc", "/sys", "/dev", "/run"}

// SwitchRoot makes the admin namespace: a tmpfs of the given size filled with the
// initramfs' files, moved onto "/" (the switch_root trick: the initramfs is a
// rootfs, which pivot_root cannot leave, so later a root system could not pivot).
// Each file is moved, copied then removed, so the initramfs is freed as it goes and
// memory holds one copy. On return the caller is chrooted into the tmpfs and should
// exec /init again so that no page of the old initramfs stays in use.
func SwitchRoot(size uint64) (files int, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil {
		return 0, fmt.Errorf("statfs /: %v", err)
	}
	if st.Type != unix.RAMFS_MAGIC && st.Type != unix.TMPFS_MAGIC {
		return 0, fmt.Errorf("/ is not the initramfs (fs magic 0x%x); not switching", st.Type)
	}
	m := Mount{Source: "ants", Target: newRoot, FSType: "tmpfs", Data: fmt.Sprintf("mode=0755,size=%d", size)}
	if err := m.Do(); err != nil {
		return 0, err
	}
	rootDev, err := devOf("/")
	if err != nil {
		return 0, err
	}
	ents, err := os.ReadDir("/")
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		p := "/" + e.Name()
		if p == newRoot || isKept(p) {
			continue
		}
		n, err := moveTree(p, newRoot+p, rootDev)
		files += n
		if err != nil {
			return files, err
		}
	}
	for _, p := range keepMounts {
		if err := os.MkdirAll(newRoot+p, 0o755); err != nil {
			return files, err
		}
		if err := unix.Mount(p, newRoot+p, "", unix.MS_MOVE, ""); err != nil {
			return files, &MountError{p, newRoot + p, "", unix.MS_MOVE, "", err}
		}
	}
	if err := os.Chdir(newRoot); err != nil {
		return files, err
	}
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return files, &MountError{newRoot, "/", "", unix.MS_MOVE, "", err}
	}
	if err := unix.Chroot("."); err != nil {
		return files, fmt.Errorf("chroot into the admin tmpfs: %v", err)
	}
	if err := os.Chdir("/"); err != nil {
		return files, err
	}
	return files, nil
}

func isKept(p string) bool {
	for _, k := range keepMounts {
		if p == k {
			return true
		}
	}
	return false
}

func devOf(p string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return 0, fmt.Errorf("stat %s: %v", p, err)
	}
	return st.Dev, nil
}

// moveTree moves src to dst (copy, then remove), staying on the device dev.
func moveTree(src, dst string, dev uint64) (int, error) {
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
			k, err := moveTree(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()), dev)
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

// Reexec replaces PID 1 with the /init of the admin tmpfs.
func Reexec(env []string) error {
	return syscall.Exec("/init", []string{"/init"}, env)
}
