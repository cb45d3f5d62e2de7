package qvm

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/u-root/u-root/pkg/cpio"
)

// Root finds the repository root (where go.mod is) from the working directory.
func Root() string {
	dir, _ := os.Getwd()
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}

// DefaultImage is the kernel and initramfs to boot: $ANTS_KERNEL and $ANTS_INITRD,
// or build/vmlinuz and build/initramfs.cpio.
func DefaultImage() (kernel, initrd string) {
	kernel, initrd = os.Getenv("ANTS_KERNEL"), os.Getenv("ANTS_INITRD")
	if kernel == "" {
		kernel = filepath.Join(Root(), "build/vmlinuz")
	}
	if initrd == "" {
		initrd = filepath.Join(Root(), "build/initramfs.cpio")
	}
	return kernel, initrd
}

// File is a file to add to an image: path inside the image, content, permissions.
type File struct {
	Path    string
	Content string
	Mode    uint64
}

// Overlay writes to out an initrd made of base followed by a cpio archive of files,
// the way a user adds host configuration to the shipped image without rebuilding it
// (the kernel unpacks concatenated archives in order, later files replacing earlier
// ones). The shipped image is the unchanged first part.
func Overlay(base, out string, files ...File) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := writeOverlay(f, base, files); err != nil {
		f.Close()
		return fmt.Errorf("overlay %s: %w", out, err)
	}
	return f.Close()
}

func writeOverlay(f *os.File, base string, files []File) error {
	in, err := os.Open(base)
	if err != nil {
		return err
	}
	defer in.Close()
	n, err := io.Copy(f, in)
	if err != nil {
		return err
	}
	// Each archive starts on a 4-byte boundary.
	if pad := (4 - n%4) % 4; pad > 0 {
		if _, err := f.Write(make([]byte, pad)); err != nil {
			return err
		}
	}
	var recs []cpio.Record
	for _, fl := range files {
		mode := fl.Mode
		if mode == 0 {
			mode = 0o644
		}
		recs = append(recs, cpio.StaticFile(fl.Path, fl.Content, mode))
	}
	w := cpio.Newc.Writer(f)
	if err := cpio.WriteRecordsAndDirs(w, recs); err != nil {
		return err
	}
	return cpio.WriteTrailer(w)
}

var treeMu sync.Mutex

// tree runs qemu/SCRIPT into build/NAME (the scripts cache what they built) and
// returns that directory; one script at a time.
func tree(script, name string) (string, error) {
	treeMu.Lock()
	defer treeMu.Unlock()
	dir := filepath.Join(Root(), "build", name)
	out, err := exec.Command(filepath.Join(Root(), "qemu", script), dir).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("qemu/%s: %w\n%s", script, err, out)
	}
	return dir, nil
}

// DemoRoot returns the demo root tree (qemu/mkdemoroot.sh into build/demoroot).
func DemoRoot() (string, error) { return tree("mkdemoroot.sh", "demoroot") }

// DebianRoot returns a Debian bookworm root with systemd (qemu/mkdebroot.sh into
// build/debroot).
func DebianRoot() (string, error) { return tree("mkdebroot.sh", "debroot") }

// CopyTree copies a root tree to dir/root (cp -a keeps owners and links) and
// returns that path. dir and its parent become 0755: a 9P server attaches first as
// "nobody", who must be able to reach the tree (temporary directories are 0700).
func CopyTree(src, dir string) (string, error) {
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755)
	dst := filepath.Join(dir, "root")
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		return "", fmt.Errorf("cp -a %s: %w\n%s", src, err, out)
	}
	return dst, nil
}

// MakeDisk makes an ext4 image of src at path (with an MBR partition when
// partitioned), labelled label.
func MakeDisk(src, label string, partitioned bool, path string) (Disk, error) {
	d := Disk{Path: path, Partitioned: partitioned}
	args := []string{"-L", label}
	if partitioned {
		args = append(args, "-p")
	}
	args = append(args, src, d.Path)
	cmd := exec.Command(filepath.Join(Root(), "qemu/mkdisk.sh"), args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return d, fmt.Errorf("qemu/mkdisk.sh: %w", err)
	}
	parseDiskIDs(&d, string(out))
	return d, nil
}

// parseDiskIDs reads mkdisk.sh's UUID=, LABEL= and PARTUUID= words.
func parseDiskIDs(d *Disk, out string) {
	for _, w := range strings.Fields(out) {
		k, v, _ := strings.Cut(w, "=")
		switch k {
		case "UUID":
			d.UUID = v
		case "LABEL":
			d.Label = v
		case "PARTUUID":
			d.PartUUID = v
		}
	}
}

// FS is the disk's file system as a file for e2fsck and debugfs on the host: the
// image itself, or partition 1 extracted into dir when partitioned.
func (d Disk) FS(dir string) (string, error) {
	if !d.Partitioned {
		return d.Path, nil
	}
	out := filepath.Join(dir, "part1.img")
	if b, err := exec.Command("dd", "if="+d.Path, "of="+out, "bs=1M", "skip=1", "status=none").CombinedOutput(); err != nil {
		return "", fmt.Errorf("dd: %w\n%s", err, b)
	}
	return out, nil
}
