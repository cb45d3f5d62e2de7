package payload

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/testns"
	"golang.org/x/sys/unix"
)

// TestMount mounts a real squashfs through a real loop device, as PID 1 does, in
// a throwaway mount namespace: the busybox and the modules come from it, read-only;
// the loop device is read-only with autoclear; the boot modules the kernel has
// live are not loaded again; no mount is left at MountDir; and once the two binds
// go, the loop device is free again (nothing leaks).
func TestMount(t *testing.T) {
	if _, err := exec.LookPath("mksquashfs"); err != nil {
		t.Skip("needs mksquashfs (apt-get install squashfs-tools)")
	}
	if !testns.Checked(t, "PAYLOAD_HOST_TEST", nil) {
		return
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skipf("no loop devices here: %v", err)
	}
	dir := testns.Scratch(t)
	src := filepath.Join(dir, "src")
	testns.Write(t, filepath.Join(src, Bin), "#!/bin/sh\necho bb\n")
	testns.Write(t, filepath.Join(src, Modules, "6.1/modules.dep"), "kernel/x.ko:\n")
	img := filepath.Join(dir, File)
	args := append([]string{filepath.Join(src, Bin), filepath.Join(src, Modules), img}, "-comp", "zstd", "-quiet", "-noappend", "-all-root")
	if out, err := exec.Command("mksquashfs", args...).CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v: %s", err, out)
	}
	root := filepath.Join(dir, "root")
	testns.Write(t, filepath.Join(root, BinTarget), "")
	os.MkdirAll(filepath.Join(root, ModulesTarget), 0o755)
	testns.Write(t, filepath.Join(root, BootDir, Order), "loop.ko\nsquashfs.ko\n")
	// loop is live in this fake /sys/module; squashfs is not (the loader is fake).
	sysmod := filepath.Join(dir, "sysmodule")
	testns.Write(t, filepath.Join(sysmod, "loop/initstate"), "live\n")
	var loaded []string
	load := func(path, params string) error {
		loaded = append(loaded, filepath.Base(path))
		return unix.EEXIST // the host's kernel has it, as a module or built in
	}
	f, err := Open(dir)
	if err != nil || f == nil {
		t.Fatalf("Open(%s) = %v, %v", dir, f, err)
	}
	defer f.Close()
	if none, err := Open(root); none != nil || err != nil {
		t.Errorf("Open of a directory without %s = %v, %v; want nil, nil", File, none, err)
	}
	m, err := System{Image: f, Root: root, SysModule: sysmod, LoadFile: load}.Mount()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(loaded, " ") != "squashfs.ko" || strings.Join(m.Loaded, " ") != "squashfs" {
		t.Errorf("loaded %v (Mounted.Loaded %v); want squashfs only: loop is live", loaded, m.Loaded)
	}
	if b, err := os.ReadFile(filepath.Join(root, BinTarget)); err != nil || string(b) != "#!/bin/sh\necho bb\n" {
		t.Errorf("%s after Mount: %q, %v", BinTarget, b, err)
	}
	if _, err := os.Stat(filepath.Join(root, ModulesTarget, "6.1/modules.dep")); err != nil {
		t.Errorf("modules after Mount: %v", err)
	}
	if err := os.WriteFile(filepath.Join(root, ModulesTarget, "new"), nil, 0o644); !errors.Is(err, unix.EROFS) {
		t.Errorf("writing into the modules: %v, want EROFS", err)
	}
	if _, err := os.Stat(filepath.Join(root, MountDir)); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", MountDir, err)
	}
	info, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Count(string(info), " squashfs ") != 2 || strings.Contains(string(info), MountDir) {
		t.Errorf("want two squashfs mounts (the binds) and none at %s:\n%s", MountDir, info)
	}
	name := filepath.Base(m.Loop)
	sysfs := "/sys/block/" + name + "/loop/"
	for file, want := range map[string]string{"autoclear": "1", "backing_file": img} {
		if b, err := os.ReadFile(sysfs + file); err != nil || strings.TrimSpace(string(b)) != want {
			t.Errorf("%s%s: %q, %v; want %q", sysfs, file, b, err, want)
		}
	}
	if b, err := os.ReadFile("/sys/block/" + name + "/ro"); err != nil || strings.TrimSpace(string(b)) != "1" {
		t.Errorf("%s is not read-only: %q, %v", m.Loop, b, err)
	}
	if lf, err := os.OpenFile(m.Loop, os.O_WRONLY, 0); err == nil {
		if _, err := lf.Write(make([]byte, 4096)); !errors.Is(err, unix.EPERM) {
			t.Errorf("writing %s: %v, want EPERM", m.Loop, err)
		}
		lf.Close()
	}
	if m.Size <= 0 {
		t.Errorf("Mounted.Size = %d", m.Size)
	}
	for _, p := range []string{BinTarget, ModulesTarget} {
		if err := mount.Unmount(filepath.Join(root, p), 0); err != nil {
			t.Fatal(err)
		}
	}
	// Autoclear: the device lets go of the file once the last mount is gone.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := os.Stat(sysfs + "backing_file")
		if os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%s still holds %s after its mounts went: %v", m.Loop, img, err)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMountErrors: no image, a boot module that fails to load (named in the
// error), and nothing mounted after a failure.
func TestMountErrors(t *testing.T) {
	if _, err := (System{}).Mount(); err == nil {
		t.Error("Mount without an image: no error")
	}
	dir := t.TempDir()
	testns.Write(t, filepath.Join(dir, BootDir, Order), "squashfs.ko\n")
	testns.Write(t, filepath.Join(dir, File), "not a squashfs")
	f, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := System{Image: f, Root: dir, SysModule: t.TempDir(), LoadFile: func(string, string) error { return unix.ENOEXEC }}
	if _, err := s.Mount(); err == nil || !strings.Contains(err.Error(), "loading squashfs for "+File) || !errors.Is(err, unix.ENOEXEC) {
		t.Errorf("a boot module that fails: %v; want an error naming it and wrapping ENOEXEC", err)
	}
	s.Dev = t.TempDir() // no loop-control there
	s.LoadFile = func(string, string) error { return nil }
	if _, err := s.Mount(); err == nil || !strings.Contains(err.Error(), "loop module") {
		t.Errorf("no loop-control: %v; want a hint about the loop module", err)
	}
}
