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

const systemdTimeout = 240 * time.Second // systemd to multi-user under TCG

// TestDebianDiskRoot: Debian bookworm with systemd boots as the root system from a
// disk to multi-user, logs root in on the console (the mux's pty), knows it is in a
// container (contained: no udev, no console devices), and the admin's poweroff
// runs systemd's own shutdown (SIGRTMIN+3) and leaves a clean disk.
func TestDebianDiskRoot(t *testing.T) {
	t.Parallel()
	disk := qvmtest.MakeDisk(t, qvmtest.DebianRoot(t), "debroot", true)
	vm := boot(t, qvm.Options{Append: "root=PARTUUID=" + disk.PartUUID + " rootwait", MemMiB: 1024, Devices: []qvm.Device{disk}})
	vm.Expect(`root system: starting from disk PARTUUID=`+disk.PartUUID, bootTimeout)
	vm.Expect(`ants-debian: multi-user reached`, systemdTimeout)
	p := `root@debian:~# `
	vm.Expect(p, systemdTimeout)
	contains(t, "systemd", vm.Run("systemd-detect-virt --container; echo $((6*7))", p, cmdTimeout), "container-other", "42")
	state := vm.Run("systemctl is-system-running --wait", p, systemdTimeout)
	if !strings.Contains(state, "running") && !strings.Contains(state, "degraded") {
		t.Errorf("system state: %q", state)
	}
	if strings.Contains(state, "degraded") {
		t.Logf("failed units:\n%s", vm.Run("systemctl --failed --no-legend", p, cmdTimeout))
	}
	// Contained (the default): udev does not run (read-only /sys), the kernel's
	// knobs are read-only, and the console devices are not there.
	contains(t, "contained", vm.Run("systemctl is-active systemd-udevd; ls /dev/ttyS0; echo $((6*7))", p, cmdTimeout),
		"inactive", "No such file", "42")
	vm.Run("echo kept > /root/kept", p, cmdTimeout)
	// The admin's poweroff asks systemd for its own shutdown (SIGRTMIN+3), which
	// ends before the grace does: no SIGKILL.
	toAdmin(t, vm, `ants% `)
	vm.Line("poweroff")
	vm.Expect(`root system: stopping \(SIGRTMIN\+3 to pid`, cmdTimeout)
	vm.Expect(`root system: stopped`, systemdTimeout)
	vm.Expect(`powering off: synced`, cmdTimeout)
	vm.Wait(cmdTimeout)
	if strings.Contains(vm.Output(), "SIGKILL to its PID namespace") {
		t.Errorf("systemd's shutdown did not end within the grace")
	}
	fs := disk.FS(t)
	if out, err := exec.Command("e2fsck", "-fn", fs).CombinedOutput(); err != nil {
		t.Errorf("e2fsck -fn after the admin's poweroff: %v\n%s", err, out)
	}
	if out, err := exec.Command("debugfs", "-R", "cat /root/kept", fs).Output(); err != nil || !strings.Contains(string(out), "kept") {
		t.Errorf("file written before poweroff: %q, %v", out, err)
	}
}

// TestDebianNinePRoot: the same Debian root over 9P from diod (cache=loose, as
// measured fastest), to multi-user and a clean poweroff from inside (systemctl
// poweroff: reboot(2) in its PID namespace).
func TestDebianNinePRoot(t *testing.T) {
	t.Parallel()
	dir := qvmtest.CopyTree(t, qvmtest.DebianRoot(t))
	d := qvmtest.StartDiod(t, dir)
	vm := boot(t, qvm.Options{Append: "venti=tcp!10.0.2.100!564 rootflags=cache=loose ants.aname=" + dir, MemMiB: 1024, Devices: []qvm.Device{d.NIC("10.0.2.100")}})
	vm.Expect(`root system: starting from 9p`, bootTimeout)
	vm.Expect(`ants-debian: multi-user reached`, systemdTimeout)
	p := `root@debian:~# `
	vm.Expect(p, systemdTimeout)
	contains(t, "9p root", vm.Run("grep -c ' / 9p ' /proc/mounts; echo $((6*7))", p, cmdTimeout), "1", "42")
	vm.Line("systemctl poweroff")
	vm.Expect(`root system: init killed by SIGINT`, systemdTimeout)
	vm.Wait(cmdTimeout)
}
