//go:build !race

package vmtest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/qvm"
	"github.com/ants/ants/internal/qvm/qvmtest"
)

// hostileRoot boots the demo root from disk, contained as by default, and returns
// the VM at the root's prompt.
func hostileRoot(t *testing.T, label, extra string) (*qvmtest.VM, qvmtest.Disk) {
	t.Helper()
	disk := qvmtest.MakeDisk(t, qvmtest.DemoRoot(t), label, true)
	vm := boot(t, qvm.Options{Append: "root=LABEL=" + label + " rootwait " + extra, Devices: []qvm.Device{disk}})
	vm.Expect(`demo root: up`, bootTimeout)
	vm.Line("")
	vm.Expect(`demo# `, cmdTimeout)
	return vm, disk
}

// TestHostileRootDevices drives a contained root as a hostile or clumsy root would:
// it looks for the console devices and /dev/mem, makes them with mknod and finds
// them in a devtmpfs of its own mounting, sets the kernel's helper hooks, sets the
// clock, and breaks its /dev. None of it reaches the admin side, whose console,
// /dev and shell go on.
func TestHostileRootDevices(t *testing.T) {
	t.Parallel()
	vm, _ := hostileRoot(t, "hostile", "")
	p := `demo# `
	// Its /dev is its own: no console devices, no memory devices.
	if out := vm.Run("ls /dev", p, cmdTimeout); regexp.MustCompile(`\b(ttyS0|tty0|tty1|mem|kmem|port|kmsg|vcs|vcsa)\b`).MatchString(out) {
		t.Errorf("the root's /dev has console or memory devices:\n%s", out)
	}
	contains(t, "root's /dev", vm.Run("grep ' /dev ' /proc/mounts", p, cmdTimeout), "tmpfs")
	// Made by hand, or found in a devtmpfs it mounts itself: refused on open.
	// (Lines stay under 80 columns: busybox's line editor wraps longer ones.)
	out := vm.Run("mknod /tmp/s0 c 4 64; mkdir -p /tmp/d", p, cmdTimeout)
	out += vm.Run("mount -t devtmpfs d /tmp/d && head -c1 /tmp/d/ttyS0", p, cmdTimeout)
	out += vm.Run("head -c1 /tmp/d/tty1; head -c1 /tmp/d/mem", p, cmdTimeout)
	out += vm.Run("head -c1 /tmp/d/console; umount /tmp/d", p, cmdTimeout)
	if n := strings.Count(out, "Operation not permitted"); n != 5 {
		t.Errorf("want mknod and four opens refused (Operation not permitted), got %d:\n%s", n, out)
	}
	// The admin side's loop device (7:0, the image's squashfs): no node in the
	// root's /dev; mknod refused, and refused on open in a devtmpfs of its own.
	if out := vm.Run("ls /dev", p, cmdTimeout); regexp.MustCompile(`\bloop0\b`).MatchString(out) {
		t.Errorf("the root's /dev has the admin's loop0:\n%s", out)
	}
	out = vm.Run("mknod /tmp/l0 b 7 0; mount -t devtmpfs d /tmp/d", p, cmdTimeout)
	out += vm.Run("head -c1 /tmp/d/loop0; umount /tmp/d", p, cmdTimeout)
	if n := strings.Count(out, "Operation not permitted"); n != 2 {
		t.Errorf("want mknod and an open of the admin's loop0 refused, got %d:\n%s", n, out)
	}
	// The kernel's hooks are read-only: no program of the root's is run by the kernel.
	out = vm.Run("echo '|/bin/sh -c reboot' > /proc/sys/kernel/core_pattern", p, cmdTimeout)
	out += vm.Run("echo x > /proc/sys/kernel/modprobe", p, cmdTimeout)
	out += vm.Run("echo /bin/sh > /sys/kernel/uevent_helper", p, cmdTimeout)
	out += vm.Run("echo c > /proc/sysrq-trigger", p, cmdTimeout)
	if n := strings.Count(out, "Read-only file system"); n != 4 {
		t.Errorf("want four writes refused (Read-only file system), got %d:\n%s", n, out)
	}
	if out := vm.Run("cat /proc/sys/kernel/core_pattern", p, cmdTimeout); strings.Contains(out, "|/bin/sh") {
		t.Errorf("core_pattern was set by the root:\n%s", out)
	}
	// Capabilities the root does not get: the clock, modules, raw I/O.
	contains(t, "date -s", vm.Run("date -s 2001-01-01 >/dev/null; date +%Y", p, cmdTimeout), "Operation not permitted")
	if out := vm.Run("grep CapBnd /proc/1/status", p, cmdTimeout); strings.Contains(out, "000001ffffffffff") || !strings.Contains(out, "CapBnd:") {
		t.Errorf("the root's init has the whole bounding set:\n%s", out)
	}
	// The root breaks its /dev: /dev/null a file, then all of it read-only.
	vm.Run("rm -f /dev/null; echo junk > /dev/null", p, cmdTimeout)
	vm.Run("mount -o remount,ro /dev; echo y > /dev/newfile", p, cmdTimeout)
	// A vhangup and TIOCSTI-style keys on its own console reach only its own pty.
	vm.Run("printf '\\035a'; echo typed-$((6*7))", p, cmdTimeout)

	toAdmin(t, vm, `ants% `)
	a := `ants% `
	contains(t, "admin /dev", vm.Run("grep ' /dev ' /proc/mounts; ls -l /dev/null", a, cmdTimeout)+vm.Run("echo x > /dev/null && echo null-ok; ls /dev/ttyS0", a, cmdTimeout),
		"devtmpfs /dev devtmpfs rw", "crw", "null-ok", "ttyS0")
	contains(t, "admin shell", vm.Run("echo $((6*7))", a, cmdTimeout), "42")
	contains(t, "oom_score_adj", vm.Run("cat /proc/1/oom_score_adj /proc/$$/oom_score_adj", a, cmdTimeout), "-1000\r\n-1000")
	st := vm.Run("rootctl status", a, cmdTimeout)
	contains(t, "rootctl status", st, "state: running", "responding: yes")
	// The boot log tells the root's confinement.
	contains(t, "boot log", vm.Run("grep 'root system: cgroup' /run/ants/boot.log", a, cmdTimeout), "memory.max", "pids.max", "device filter on")
	vm.Line("poweroff")
	vm.Expect(`powering off: synced`, 60*time.Second)
	vm.Wait(cmdTimeout)
}

// TestHostileRootResources: a fork bomb and a tmpfs that fills the machine's memory,
// in the root. The escape key, the admin shell, a new admin shell and rootctl
// answer; the OOM killer takes the root's processes, never the admin's.
func TestHostileRootResources(t *testing.T) {
	t.Parallel()
	vm, _ := hostileRoot(t, "bomb", "")
	p := `demo# `
	a := `ants% `
	// A tmpfs as big as the machine's memory, filled.
	vm.Line("mkdir -p /tmp/t; mount -t tmpfs -o size=100% t /tmp/t")
	vm.Expect(p, cmdTimeout)
	vm.Line("dd if=/dev/zero of=/tmp/t/f bs=1M; echo dd-ended")
	// The kernel's line of the kill, not "dd-ended" (the echo of the command line
	// has it at once): it comes on the console when it comes, and must not fall
	// into a command's echo below. Then a line the shell computes, past dd.
	vm.Expect(`Killed process \d+ \(dd\)`, 120*time.Second)
	vm.Line("echo fill-$((2*3))")
	vm.Expect(`fill-6`, cmdTimeout)
	vm.Expect(p, cmdTimeout)
	toAdmin(t, vm, a)
	contains(t, "after the fill", vm.Run("echo $((6*7)); grep oom_kill /sys/fs/cgroup/root-1/memory.events", a, cmdTimeout), "42", "oom_kill ")
	// A line of its own: the kernel's OOM lines may fall into the output
	// ("oom_score_adj:0").
	if out := vm.Run("grep -c . /proc/1/status", a, cmdTimeout); regexp.MustCompile(`(?m)^0\r?$`).MatchString(out) {
		t.Errorf("PID 1's status unreadable: %s", out)
	}
	// The root again, for a fork bomb.
	toRoot(t, vm, p)
	vm.Line("umount /tmp/t; b() { b | b & }; b")
	time.Sleep(10 * time.Second)
	start := time.Now()
	toAdmin(t, vm, a)
	contains(t, "during the bomb", vm.Run("echo $((6*7))", a, cmdTimeout), "42")
	contains(t, "rootctl during the bomb", vm.Run("rootctl status", a, cmdTimeout), "state: running")
	contains(t, "pids", vm.Run("cat /sys/fs/cgroup/root-1/pids.max; grep max /sys/fs/cgroup/root-1/pids.events", a, cmdTimeout), "max ")
	vm.Line("exit")
	vm.Expect(`starting a new admin shell`, cmdTimeout)
	vm.Line("")
	vm.Expect(a, cmdTimeout)
	contains(t, "new shell during the bomb", vm.Run("echo $((7*8))", a, cmdTimeout), "56")
	vm.Line("rootctl stop")
	vm.Expect(`root system: stopped|abandoned`, 60*time.Second)
	vm.Expect(a, cmdTimeout)
	t.Logf("admin shell, a new one and rootctl stop answered %v after the escape key, with the bomb running", time.Since(start).Round(time.Second))
	contains(t, "after stop", vm.Run("rootctl status", a, cmdTimeout), "state: stopped")
	vm.Line("poweroff")
	vm.Expect(`powering off: synced`, 60*time.Second)
	vm.Wait(cmdTimeout)
}

// TestRootDevHotplug: a disk plugged in while the root runs appears in the root's
// own /dev, and goes when it is unplugged.
func TestRootDevHotplug(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "qmp")
	img := filepath.Join(t.TempDir(), "extra.img")
	if err := os.WriteFile(img, make([]byte, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	disk := qvmtest.MakeDisk(t, qvmtest.DemoRoot(t), "hotplug", true)
	vm := boot(t, qvm.Options{Append: "root=LABEL=hotplug rootwait", Devices: []qvm.Device{disk, qvm.Args{"-qmp", "unix:" + sock + ",server=on,wait=off"}}})
	vm.Expect(`demo root: up`, bootTimeout)
	vm.Line("")
	p := `demo# `
	vm.Expect(p, cmdTimeout)
	qmp(t, sock, map[string]any{"execute": "blockdev-add", "arguments": map[string]any{
		"driver": "raw", "node-name": "extra", "file": map[string]any{"driver": "file", "filename": img}}})
	qmp(t, sock, map[string]any{"execute": "device_add", "arguments": map[string]any{"driver": "virtio-blk-pci", "drive": "extra", "id": "extra0"}})
	var out string
	for i := 0; i < 20; i++ {
		if out = vm.Run("ls /dev", p, cmdTimeout); strings.Contains(out, "vdb") {
			break
		}
		time.Sleep(time.Second)
	}
	if !strings.Contains(out, "vdb") {
		t.Fatalf("the plugged disk did not reach the root's /dev:\n%s", out)
	}
	contains(t, "read the new disk", vm.Run("head -c 512 /dev/vdb | wc -c", p, cmdTimeout), "512")
	qmp(t, sock, map[string]any{"execute": "device_del", "arguments": map[string]any{"id": "extra0"}})
	for i := 0; i < 20; i++ {
		if out = vm.Run("ls /dev", p, cmdTimeout); !strings.Contains(out, "vdb") {
			break
		}
		time.Sleep(time.Second)
	}
	if strings.Contains(out, "vdb") {
		t.Errorf("the unplugged disk is still in the root's /dev:\n%s", out)
	}
}

// TestRootPrivFull: ants.rootpriv=full gives a trusted root the machine back: the
// kernel's devtmpfs, writable /proc/sys, the whole bounding set. Then poweroff -f.
func TestRootPrivFull(t *testing.T) {
	t.Parallel()
	vm, _ := hostileRoot(t, "fullpriv", "ants.rootpriv=full")
	p := `demo# `
	contains(t, "full /dev", vm.Run("grep ' /dev ' /proc/mounts; ls /dev/ttyS0", p, cmdTimeout), "devtmpfs", "/dev/ttyS0")
	contains(t, "writable /proc/sys", vm.Run("echo core > /proc/sys/kernel/core_pattern && echo written-$((6*7))", p, cmdTimeout), "written-42")
	contains(t, "bounding set", vm.Run("grep CapBnd /proc/1/status", p, cmdTimeout), "000001ffffffffff")
	toAdmin(t, vm, `ants% `)
	if out := vm.Run("grep 'root system: cgroup' /run/ants/boot.log", `ants% `, cmdTimeout); strings.Contains(out, "device filter on") {
		t.Errorf("a full root got the device filter:\n%s", out)
	}
	// poweroff -f: at once, without init (the root is not stopped first).
	vm.Line("poweroff -f")
	vm.Wait(cmdTimeout)
	if strings.Contains(vm.Output(), "root system: stopping") {
		t.Errorf("poweroff -f went through init")
	}
}

// TestHostileRootDoesNotReadItsKeys: the root's shell stops reading its terminal
// with the terminal raw (as a hung root's line editor leaves it), and a paste of
// 160 KiB goes to the root's console, more than its pty holds. The console's input
// must go on all the same: the escape key reaches the admin shell, which answers.
// (Before the mux queued each client's keys, its input stopped at the full pty,
// and with it the escape key.)
func TestHostileRootDoesNotReadItsKeys(t *testing.T) {
	t.Parallel()
	vm, _ := hostileRoot(t, "noread", "")
	vm.Line("stty raw -echo; sleep 3600")
	time.Sleep(2 * time.Second) // stty and sleep started
	pasted := make(chan error, 1)
	go func() { pasted <- vm.VM.Paste(strings.Repeat("paste-me ", 160<<10/9)) }()
	select {
	case err := <-pasted:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("the console stopped taking keys: the paste into a root that does not read them never ended")
	}
	toAdmin(t, vm, `ants% `)
	contains(t, "admin shell", vm.Run("echo $((6*7))", `ants% `, cmdTimeout), "42")
}
