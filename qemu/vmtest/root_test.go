//go:build !race

package vmtest

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/qvm"
	"github.com/ants/ants/internal/qvm/qvmtest"
)

const escape = "\x1d" // Ctrl-]

// toAdmin switches the console to the admin shell and waits for its prompt. The
// console replays the prompt the shell printed earlier, so a prompt alone says
// nothing about the shell being ready: keys typed while it still handles the
// Enter would be echoed by the terminal and throw the next Run off by a line. A
// marker whose output differs from its echo syncs with the shell first.
func toAdmin(t *testing.T, vm *qvmtest.VM, prompt string) {
	t.Helper()
	vm.Type(escape + "a")
	vm.Expect(`\[ants: admin shell;`, cmdTimeout)
	vm.Line("echo sync$((40+2))")
	vm.Expect(`sync42\r?\n`, cmdTimeout)
	vm.Expect(prompt, cmdTimeout)
}

// toRoot switches the console to the root console and waits for its prompt.
func toRoot(t *testing.T, vm *qvmtest.VM, prompt string) {
	t.Helper()
	vm.Type(escape + "r")
	vm.Expect(`\[ants: root console;`, cmdTimeout)
	vm.Line("")
	vm.Expect(prompt, cmdTimeout)
}

// TestDiskRoot boots the demo root from a partitioned ext4 disk found by LABEL, in
// its own namespaces; the console switches between it and the admin shell; a file
// written in the root survives a poweroff from the admin shell, and the file system
// is clean.
func TestDiskRoot(t *testing.T) {
	t.Parallel()
	disk := qvmtest.MakeDisk(t, qvmtest.DemoRoot(t), "testroot", true)
	vm := boot(t, qvm.Options{Append: "root=LABEL=testroot rootwait", Devices: []qvm.Device{disk}})
	vm.Expect(`root system: starting from disk LABEL=testroot`, bootTimeout)
	vm.Expect(`demo root: up`, bootTimeout)
	vm.Line("")
	vm.Expect(`demo# `, cmdTimeout)
	p := `demo# `
	contains(t, "root shell", vm.Run("echo $((6*7))", p, cmdTimeout), "42")
	ps := vm.Run("ps", p, cmdTimeout)
	if strings.Contains(ps, "antsh") || strings.Contains(ps, "bbin") {
		t.Errorf("the root sees admin processes:\n%s", ps)
	}
	contains(t, "root ps", ps, "init")
	vm.Run("echo persisted-$((40+2)) > /root/file; sync", p, cmdTimeout)
	// The escape key's help and list, from the mux in PID 1.
	vm.Type(escape + "?")
	vm.Expect(`\^\] then: a admin shell, b boot scripts, r root console, l list, \? help, \^\] sends \^\]`, cmdTimeout)
	vm.Type(escape + "l")
	vm.Expect(`\* r root console +running`, cmdTimeout)

	toAdmin(t, vm, `ants% `)
	a := `ants% `
	mi := vm.Run("cat /proc/1/mountinfo", a, cmdTimeout)
	if strings.Contains(mi, "ext4") || strings.Contains(mi, "vda") {
		t.Errorf("the admin namespace holds the root's mount:\n%s", mi)
	}
	contains(t, "rootctl status", vm.Run("rootctl status", a, cmdTimeout), "state: running", "source: disk LABEL=testroot", "pid: ")
	if out := vm.Run("ls /run/ants/root", a, cmdTimeout); strings.TrimSpace(out) != "" {
		t.Errorf("the admin sees the root's files: %q", out)
	}
	toRoot(t, vm, p)
	contains(t, "root again", vm.Run("cat /root/file", p, cmdTimeout), "persisted-42")

	toAdmin(t, vm, a)
	vm.Line("poweroff")
	vm.Expect(`root system: stopping`, cmdTimeout)
	vm.Expect(`root system: stopped`, cmdTimeout)
	vm.Expect(`powering off: synced`, cmdTimeout)
	vm.Wait(cmdTimeout)

	fs := disk.FS(t)
	if out, err := exec.Command("e2fsck", "-fn", fs).CombinedOutput(); err != nil {
		t.Errorf("e2fsck -fn after poweroff: %v\n%s", err, out)
	}
	out, err := exec.Command("debugfs", "-R", "cat /root/file", fs).Output()
	if err != nil || !strings.Contains(string(out), "persisted-42") {
		t.Errorf("the file written in the root: %q, %v", out, err)
	}
}

// TestVirtfsRootPoweroffInside boots the demo root from a virtio 9P shared folder;
// poweroff run inside the root powers the machine off.
func TestVirtfsRootPoweroffInside(t *testing.T) {
	t.Parallel()
	dir := qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	vm := boot(t, qvm.Options{Append: "root=virtfs:rootfs",
		Devices: []qvm.Device{qvm.VirtFS{Path: dir, Tag: "rootfs"}}})
	vm.Expect(`demo root: up`, bootTimeout)
	vm.Line("")
	vm.Expect(`demo# `, cmdTimeout)
	contains(t, "virtfs root", vm.Run("cat /etc/hostname; echo $((3*4))", `demo# `, cmdTimeout), "demo", "12")
	vm.Line("poweroff")
	vm.Expect(`root system: init killed by SIGINT`, cmdTimeout)
	vm.Expect(`powering off: synced`, cmdTimeout)
	vm.Wait(cmdTimeout)
}

// TestRootExitAndRootctl: a root whose init exits leaves the admin shell with the
// console (ants.onrootexit=shell); rootctl starts, restarts with new variables and
// stops it; reboot inside the root reboots the machine.
func TestRootExitAndRootctl(t *testing.T) {
	t.Parallel()
	disk := qvmtest.MakeDisk(t, qvmtest.DemoRoot(t), "ctlroot", false)
	vm := boot(t, qvm.Options{Append: "root=/dev/vda rootwait rootdelay=1 init=/bin/sh", Devices: []qvm.Device{disk}})
	vm.Expect(`root system: starting from disk /dev/vda`, bootTimeout)
	vm.Expect(`rootdelay: waiting 1s`, cmdTimeout)
	vm.Line("")
	vm.Expect(`# `, cmdTimeout)
	vm.Line("exit")
	vm.Expect(`root system: init exited after`, cmdTimeout)
	vm.Expect(`root system: down; admin shell`, cmdTimeout)
	vm.Expect(`\[ants: admin shell;`, cmdTimeout)
	vm.Line("")
	a := `ants% `
	vm.Expect(a, cmdTimeout)
	contains(t, "status after exit", vm.Run("rootctl status", a, cmdTimeout), "state: stopped", "last exit: exited", "starts: 1")

	vm.Line("rootctl start init=/sbin/init")
	// The root's console takes the focus; rootctl's answer waits in the admin
	// shell's buffer and shows when it has the focus again.
	vm.Expect(`root system: starting from disk /dev/vda`, cmdTimeout)
	vm.Expect(`demo root: up`, cmdTimeout)
	vm.Line("")
	vm.Expect(`demo# `, cmdTimeout)
	contains(t, "job control", vm.Output(), "demo root: up")
	// init=/bin/sh has no terminal (as on any Linux); busybox init's shell must.
	if n := strings.Count(vm.Output(), "can't access tty"); n != 1 {
		t.Errorf("%d shells without a terminal, want 1 (init=/bin/sh)", n)
	}
	vm.Type(escape + "a")
	vm.Expect(`\[ants: admin shell;`, cmdTimeout)
	vm.Expect(`started from disk /dev/vda, pid \d+`, cmdTimeout)
	vm.Line("")
	vm.Expect(a, cmdTimeout)
	contains(t, "status running", vm.Run("rootctl status", a, cmdTimeout), "state: running", "init: /sbin/init", "starts: 2")
	vm.Line("rootctl stop")
	vm.Expect(`root system: stopped`, cmdTimeout)
	vm.Expect(a, cmdTimeout)
	contains(t, "status stopped", vm.Run("rootctl status", a, cmdTimeout), "state: stopped")
	vm.Line("rootctl start root=LABEL=nosuch rootwait=0")
	vm.Expect(`no block device with LABEL=nosuch`, cmdTimeout)
	vm.Expect(`root system: down; admin shell`, cmdTimeout)
	vm.Line("")
	vm.Expect(a, cmdTimeout)
	vm.Line("rootctl start root=/dev/vda rootfstype=vfat")
	vm.Expect(`root=/dev/vda: cannot mount /dev/vda as vfat`, cmdTimeout)
	vm.Expect(`root system: down; admin shell`, cmdTimeout)
	vm.Line("")
	vm.Expect(a, cmdTimeout)
	vm.Line("rootctl restart root=UUID=" + strings.ToUpper(disk.UUID) + " rootfstype=")
	vm.Expect(`demo root: up`, cmdTimeout)
	vm.Line("")
	vm.Expect(`demo# `, cmdTimeout)
	vm.Line("reboot")
	vm.Expect(`root system: init killed by SIGHUP`, cmdTimeout)
	vm.Expect(`rebooting: synced`, cmdTimeout)
	vm.Wait(cmdTimeout)
}

// shRoot boots the demo root from a disk labelled label with init=/bin/sh and the
// given ants.onrootexit policy, and waits for that shell's prompt.
func shRoot(t *testing.T, label, policy string) *qvmtest.VM {
	t.Helper()
	disk := qvmtest.MakeDisk(t, qvmtest.DemoRoot(t), label, false)
	vm := boot(t, qvm.Options{Append: "root=LABEL=" + label + " rootwait init=/bin/sh ants.onrootexit=" + policy, Devices: []qvm.Device{disk}})
	vm.Expect(`root system: starting from disk LABEL=`+label, bootTimeout)
	vm.Line("")
	vm.Expect(`# `, cmdTimeout)
	return vm
}

// TestOnRootExitRestart: ants.onrootexit=restart starts the root again when its
// init exits, unless it lived less than 5 s (a crash loop), then the admin shell.
func TestOnRootExitRestart(t *testing.T) {
	t.Parallel()
	vm := shRoot(t, "rroot", "restart")
	time.Sleep(6 * time.Second)
	vm.Line("exit")
	vm.Expect(`root system: restarting \(ants.onrootexit=restart\)`, cmdTimeout)
	vm.Expect(`root system: starting from disk LABEL=rroot`, cmdTimeout)
	vm.Line("")
	vm.Expect(`# `, cmdTimeout)
	vm.Line("exit")
	vm.Expect(`it lived less than 5 s; not restarting`, cmdTimeout)
	vm.Expect(`\[ants: admin shell;`, cmdTimeout)
	vm.Line("")
	contains(t, "status", vm.Run("rootctl status", `ants% `, cmdTimeout), "state: stopped", "starts: 2")
}

// TestOnRootExitPoweroff: ants.onrootexit=poweroff powers the machine off when the
// root's init exits.
func TestOnRootExitPoweroff(t *testing.T) {
	t.Parallel()
	vm := shRoot(t, "proot", "poweroff")
	vm.Line("exit")
	vm.Expect(`root system: init exited after`, cmdTimeout)
	vm.Expect(`powering off: synced`, cmdTimeout)
	vm.Wait(cmdTimeout)
}

// TestOnRootExitReboot: ants.onrootexit=reboot reboots the machine when the root's
// init exits (QEMU runs with -no-reboot, so it ends).
func TestOnRootExitReboot(t *testing.T) {
	t.Parallel()
	vm := shRoot(t, "broot", "reboot")
	vm.Line("exit")
	vm.Expect(`rebooting: synced`, cmdTimeout)
	vm.Wait(cmdTimeout)
}

// TestAdminKeepsConsoleWhenRootStarts: an admin who takes the console during the
// boot scripts (Ctrl-] a at the banner) keeps it when the root system starts; the
// root's console is one Ctrl-] r away.
func TestAdminKeepsConsoleWhenRootStarts(t *testing.T) {
	t.Parallel()
	disk := qvmtest.MakeDisk(t, qvmtest.DemoRoot(t), "keeproot", false)
	vm := boot(t, qvm.Options{Append: "root=LABEL=keeproot rootwait", Devices: []qvm.Device{disk}})
	vm.Expect(`\[ants: boot scripts; `, bootTimeout)
	vm.Type(escape + "a")
	vm.Expect(`\[ants: admin shell;`, cmdTimeout)
	vm.Expect(`root system: starting from disk LABEL=keeproot \(pid \d+\); \^\] r for its console`, bootTimeout)
	vm.Line("")
	contains(t, "admin after the root started", vm.Run("echo admin-$((6*7)); hostname", `ants% `, cmdTimeout), "admin-42", "ants")
	toRoot(t, vm, `demo# `)
	contains(t, "root console", vm.Run("hostname", `demo# `, cmdTimeout), "demo")
}
