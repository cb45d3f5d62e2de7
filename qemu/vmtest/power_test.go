//go:build !race

package vmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/qvm"
	"github.com/ants/ants/internal/qvm/qvmtest"
)

// powerTimeout bounds every power path: the root's grace (10 s, 30 s for systemd),
// SIGKILL, the abort of a hung root's mounts, 3 s for the rest, a bounded sync and
// unmount, on a slow TCG guest.
const powerTimeout = 90 * time.Second

// e2fsckClean checks the disk's file system after the machine went down.
func e2fsckClean(t *testing.T, disk qvmtest.Disk, what string) {
	t.Helper()
	fs := disk.FS(t)
	if out, err := exec.Command("e2fsck", "-fn", fs).CombinedOutput(); err != nil {
		t.Errorf("e2fsck -fn after %s: %v\n%s", what, err, out)
	}
}

// debugfsCat reads a file of the disk's file system.
func debugfsCat(t *testing.T, disk qvmtest.Disk, path string) string {
	t.Helper()
	out, _ := exec.Command("debugfs", "-R", "cat "+path, disk.FS(t)).Output()
	return string(out)
}

// stubbornRoot is the demo root with an init that ignores every stop signal and
// keeps writing to its disk.
func stubbornRoot(t *testing.T, label string) (*qvmtest.VM, qvmtest.Disk) {
	t.Helper()
	dir := qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	script := "#!/bin/sh\ntrap '' TERM INT HUP USR1 USR2\n" +
		"echo kept-$((6*7)) > /kept; sync\necho \"stubborn root: up\"\n" +
		"while :; do date >> /stubborn.log; sleep 1; done\n"
	if err := os.WriteFile(filepath.Join(dir, "stubborn"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	disk := qvmtest.MakeDisk(t, dir, label, true)
	vm := boot(t, qvm.Options{Append: "root=LABEL=" + label + " rootwait init=/stubborn", Devices: []qvm.Device{disk}})
	vm.Expect(`stubborn root: up`, bootTimeout)
	return vm, disk
}

// TestPowerOffStubbornRoot: the admin's poweroff with a root whose init ignores its
// stop signal and writes all the time: SIGKILL after the grace, power-off in
// bounded time, the disk clean and what was synced kept.
func TestPowerOffStubbornRoot(t *testing.T) {
	t.Parallel()
	vm, disk := stubbornRoot(t, "stubborn")
	toAdmin(t, vm, `ants% `)
	start := time.Now()
	vm.Line("poweroff")
	vm.Expect(`SIGKILL to its PID namespace`, powerTimeout)
	vm.Expect(`powering off: synced`, powerTimeout)
	vm.Wait(powerTimeout)
	t.Logf("power-off with a stubborn root: %v", time.Since(start).Round(time.Second))
	e2fsckClean(t, disk, "power-off with a stubborn root")
	if got := debugfsCat(t, disk, "/kept"); !strings.Contains(got, "kept-42") {
		t.Errorf("/kept after power-off: %q", got)
	}
}

// TestPowerOffHungNinePRoot: power-off with a 9P root whose server froze while the
// root was writing (dirty pages that can never be written): it ends, in bounded
// time, instead of waiting in sync(2) for ever.
func TestPowerOffHungNinePRoot(t *testing.T) {
	t.Parallel()
	dir := qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	d := qvmtest.StartDiod(t, dir)
	vm := boot(t, qvm.Options{Append: "venti=tcp!10.0.2.100!564 rootflags=cache=loose ants.aname=" + dir, Devices: []qvm.Device{d.NIC("10.0.2.100")}})
	vm.Expect(`demo root: up`, bootTimeout)
	vm.Line("")
	p := `demo# `
	vm.Expect(p, cmdTimeout)
	vm.Run("dd if=/dev/zero of=/big bs=1k count=4096; echo wrote", p, 2*time.Minute) // slow when another VM shares the cores
	vm.Line("while :; do echo x >> /log; done &")
	vm.Expect(p, cmdTimeout)
	d.Stop(t)
	toAdmin(t, vm, `ants% `)
	start := time.Now()
	vm.Line("poweroff")
	vm.Expect(`powering off: stopping all processes`, powerTimeout)
	vm.Expect(`powering off: .*unmounted.*goodbye`, powerTimeout)
	vm.Wait(powerTimeout)
	t.Logf("power-off with a hung 9P root: %v", time.Since(start).Round(time.Second))
}

// qmp sends one QMP command to QEMU's monitor socket, in a session of its own.
func qmp(t *testing.T, sock string, cmd map[string]any) {
	t.Helper()
	q := dialQMP(t, sock)
	q.do(cmd)
	q.c.Close()
}

// TestCtrlAltDel: Ctrl-Alt-Del on the PC keyboard reboots in order (QEMU's
// -no-reboot makes the reboot its exit): the stubborn root is killed, the disk is
// clean.
func TestCtrlAltDel(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "qmp")
	dir := qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	disk := qvmtest.MakeDisk(t, dir, "cad", true)
	vm := boot(t, qvm.Options{Append: "root=LABEL=cad rootwait", Devices: []qvm.Device{disk, qvm.Args{"-qmp", "unix:" + sock + ",server=on,wait=off"}}})
	vm.Expect(`demo root: up`, bootTimeout)
	vm.Line("")
	p := `demo# `
	vm.Expect(p, cmdTimeout)
	vm.Run("echo cad-$((6*7)) > /root/cad; sync", p, cmdTimeout)
	qmp(t, sock, map[string]any{"execute": "send-key", "arguments": map[string]any{
		"keys": []map[string]string{{"type": "qcode", "data": "ctrl"}, {"type": "qcode", "data": "alt"}, {"type": "qcode", "data": "delete"}},
	}})
	vm.Expect(`init: got SIGINT|rebooting: stopping all processes`, cmdTimeout)
	vm.Expect(`rebooting: synced`, powerTimeout)
	vm.Wait(powerTimeout)
	e2fsckClean(t, disk, "Ctrl-Alt-Del")
	if got := debugfsCat(t, disk, "/root/cad"); !strings.Contains(got, "cad-42") {
		t.Errorf("/root/cad after Ctrl-Alt-Del: %q", got)
	}
}
