package qemu

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var treeMu sync.Mutex

// tree runs qemu/SCRIPT into build/NAME (the scripts cache what they built) and
// returns that directory; one script at a time.
func tree(t testing.TB, script, name string) string {
	t.Helper()
	treeMu.Lock()
	defer treeMu.Unlock()
	dir := filepath.Join(Root(), "build", name)
	out, err := exec.Command(filepath.Join(Root(), "qemu", script), dir).CombinedOutput()
	if err != nil {
		t.Fatalf("qemu/%s: %v\n%s", script, err, out)
	}
	return dir
}

// DemoRoot returns the demo root tree (qemu/mkdemoroot.sh into build/demoroot).
func DemoRoot(t testing.TB) string { return tree(t, "mkdemoroot.sh", "demoroot") }

// DebianRoot returns a Debian bookworm root with systemd (qemu/mkdebroot.sh into
// build/debroot).
func DebianRoot(t testing.TB) string { return tree(t, "mkdebroot.sh", "debroot") }

// CopyTree copies a root tree into a fresh temp dir (cp -a keeps owners and links).
func CopyTree(t testing.TB, src string) string {
	t.Helper()
	tmp := t.TempDir()
	// A 9P server attaches first as "nobody", who must be able to reach the tree:
	// the test's temp dirs are 0700.
	os.Chmod(tmp, 0o755)
	os.Chmod(filepath.Dir(tmp), 0o755)
	dst := filepath.Join(tmp, "root")
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s: %v\n%s", src, err, out)
	}
	return dst
}

// Disk is a disk image made by qemu/mkdisk.sh, with the identifiers it printed.
type Disk struct {
	Path                  string
	UUID, Label, PartUUID string
	Partitioned           bool
}

// MakeDisk makes an ext4 image of src (with an MBR partition when partitioned).
func MakeDisk(t testing.TB, src, label string, partitioned bool) Disk {
	t.Helper()
	d := Disk{Path: filepath.Join(t.TempDir(), "disk.img"), Partitioned: partitioned}
	args := []string{"-L", label}
	if partitioned {
		args = append(args, "-p")
	}
	args = append(args, src, d.Path)
	cmd := exec.Command(filepath.Join(Root(), "qemu/mkdisk.sh"), args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("qemu/mkdisk.sh: %v", err)
	}
	for _, w := range strings.Fields(string(out)) {
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
	return d
}

// Args are the QEMU arguments that attach the disk as virtio.
func (d Disk) Args() []string {
	return []string{"-drive", "file=" + d.Path + ",if=virtio,format=raw"}
}

// FS extracts the file system (partition 1 when partitioned) to a file for
// e2fsck and debugfs on the host.
func (d Disk) FS(t testing.TB) string {
	t.Helper()
	if !d.Partitioned {
		return d.Path
	}
	out := filepath.Join(t.TempDir(), "part1.img")
	if b, err := exec.Command("dd", "if="+d.Path, "of="+out, "bs=1M", "skip=1", "status=none").CombinedOutput(); err != nil {
		t.Fatalf("dd: %v\n%s", err, b)
	}
	return out
}
