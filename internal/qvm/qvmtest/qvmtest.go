// Package qvmtest is package qvm for tests: the same calls, taking a testing.TB and
// failing the test on an error; what they start ends with the test. A VM's whole
// console output goes to build/vmlogs/TEST[-NAME].log, which stays when the test
// fails (or with $ANTS_KEEP_LOGS set).
package qvmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/qvm"
)

// Image returns the kernel and initramfs to boot (qvm.DefaultImage). Without them
// the test is skipped, unless ANTS_VM=1 (make test), where a missing image is a
// failure.
func Image(t testing.TB) (kernel, initrd string) {
	t.Helper()
	kernel, initrd = qvm.DefaultImage()
	for _, f := range []string{kernel, initrd} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("ANTS_VM") == "1" {
				t.Fatalf("VM test needs %s: %v (run make)", f, err)
			}
			t.Skipf("VM test skipped: %s missing (run make, or make test)", f)
		}
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		if os.Getenv("ANTS_VM") == "1" {
			t.Fatalf("VM test needs qemu-system-x86_64 (qemu/install-deps.sh)")
		}
		t.Skip("VM test skipped: no qemu-system-x86_64")
	}
	return kernel, initrd
}

// VM is a qvm.VM whose calls fail the test.
type VM struct {
	*qvm.VM
	t testing.TB
}

// Start boots a VM; it is killed when the test ends.
func Start(t testing.TB, o qvm.Options) *VM {
	t.Helper()
	if o.LogFile == "" {
		name := strings.ReplaceAll(t.Name(), "/", "_")
		if o.Name != "" {
			name += "-" + o.Name
		}
		o.LogFile = filepath.Join(qvm.Root(), "build/vmlogs", name+".log")
	}
	v, err := qvm.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		v.Close()
		if t.Failed() || os.Getenv("ANTS_KEEP_LOGS") != "" {
			t.Logf("whole console output: %s", o.LogFile)
		} else {
			os.Remove(o.LogFile)
		}
	})
	return &VM{VM: v, t: t}
}

// Expect is qvm.VM.Expect, failing the test on an error.
func (vm *VM) Expect(re string, timeout time.Duration) []string {
	vm.t.Helper()
	m, err := vm.VM.Expect(re, timeout)
	if err != nil {
		vm.t.Fatal(err)
	}
	return m
}

// ExpectErr is qvm.VM.Expect: an error rather than a failure.
func (vm *VM) ExpectErr(re string, timeout time.Duration) ([]string, error) {
	return vm.VM.Expect(re, timeout)
}

// Type is qvm.VM.Type, failing the test on an error.
func (vm *VM) Type(s string) {
	vm.t.Helper()
	if err := vm.VM.Type(s); err != nil {
		vm.t.Fatal(err)
	}
}

// Line is qvm.VM.Line, failing the test on an error.
func (vm *VM) Line(s string) { vm.t.Helper(); vm.Type(s + "\r") }

// Run is qvm.VM.Run, failing the test on an error.
func (vm *VM) Run(cmd, prompt string, timeout time.Duration) string {
	vm.t.Helper()
	out, err := vm.VM.Run(cmd, prompt, timeout)
	if err != nil {
		vm.t.Fatal(err)
	}
	return out
}

// Wait is qvm.VM.Wait, failing the test on an error.
func (vm *VM) Wait(timeout time.Duration) {
	vm.t.Helper()
	if err := vm.VM.Wait(timeout); err != nil {
		vm.t.Fatal(err)
	}
}

// Overlay returns base with files appended as a cpio archive (qvm.Overlay).
func Overlay(t testing.TB, base string, files ...qvm.File) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "initrd")
	if err := qvm.Overlay(base, out, files...); err != nil {
		t.Fatal(err)
	}
	return out
}

// DemoRoot returns the demo root tree (qvm.DemoRoot).
func DemoRoot(t testing.TB) string {
	t.Helper()
	return must(t, qvm.DemoRoot)
}

// DebianRoot returns the Debian root with systemd (qvm.DebianRoot).
func DebianRoot(t testing.TB) string {
	t.Helper()
	return must(t, qvm.DebianRoot)
}

func must(t testing.TB, f func() (string, error)) string {
	t.Helper()
	s, err := f()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// CopyTree copies a root tree into a fresh temporary directory (qvm.CopyTree).
func CopyTree(t testing.TB, src string) string {
	t.Helper()
	dir, err := qvm.CopyTree(src, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Disk is a qvm.Disk (a device) whose FS takes the test.
type Disk struct{ qvm.Disk }

// MakeDisk makes an ext4 image of src in a temporary directory (qvm.MakeDisk).
func MakeDisk(t testing.TB, src, label string, partitioned bool) Disk {
	t.Helper()
	d, err := qvm.MakeDisk(src, label, partitioned, filepath.Join(t.TempDir(), "disk.img"))
	if err != nil {
		t.Fatal(err)
	}
	return Disk{d}
}

// FS is the disk's file system as a file (qvm.Disk.FS).
func (d Disk) FS(t testing.TB) string {
	t.Helper()
	fs, err := d.Disk.FS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// Diod is a qvm.Diod that ends with the test.
type Diod struct{ *qvm.Diod }

// StartDiod serves dir over 9P until the test ends (qvm.StartDiod).
func StartDiod(t testing.TB, dir string) *Diod {
	t.Helper()
	d, err := qvm.StartDiod(dir, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cleanup(t, &d.Server)
	return &Diod{d}
}

// Stop freezes the server, failing the test on an error.
func (d *Diod) Stop(t testing.TB) {
	t.Helper()
	if err := d.Diod.Stop(); err != nil {
		t.Fatal(err)
	}
}

// Kill ends the server, failing the test on an error.
func (d *Diod) Kill(t testing.TB) {
	t.Helper()
	if err := d.Diod.Kill(); err != nil {
		t.Fatal(err)
	}
}

// Ganesha is a qvm.Ganesha that ends with the test.
type Ganesha struct{ *qvm.Ganesha }

// StartGanesha serves dir over NFSv4 until the test ends (qvm.StartGanesha).
func StartGanesha(t testing.TB, dir string) *Ganesha {
	t.Helper()
	g, err := qvm.StartGanesha(dir, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cleanup(t, &g.Server)
	return &Ganesha{g}
}

// Stop freezes the server, failing the test on an error.
func (g *Ganesha) Stop(t testing.TB) {
	t.Helper()
	if err := g.Ganesha.Stop(); err != nil {
		t.Fatal(err)
	}
}

// cleanup ends the server with the test, showing its log if the test failed.
func cleanup(t testing.TB, s *qvm.Server) {
	t.Cleanup(func() {
		s.Close()
		if t.Failed() {
			if b, err := os.ReadFile(s.Log); err == nil {
				t.Logf("%s log:\n%s", s.Name, b)
			}
		}
	})
}
