//go:build !race

package vmtest

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/qemu"
)

const systemdTimeout = 240 * time.Second // systemd to multi-user under TCG

// TestDebianDiskRoot: Debian bookworm with systemd boots as the root system from a
// disk to multi-user, logs root in on the console (the mux's pty), knows it is in a
// container, and `systemctl poweroff` powers the machine off with a clean disk.
func TestDebianDiskRoot(t *testing.T) {
	t.Parallel()
	disk := qemu.MakeDisk(t, qemu.DebianRoot(t), "debroot", true)
	vm := boot(t, qemu.Options{Append: "root=PARTUUID=" + disk.PartUUID + " rootwait", MemMiB: 1024, Args: disk.Args()})
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
	vm.Run("echo kept > /root/kept; sync", p, cmdTimeout)
	vm.Line("systemctl poweroff")
	vm.Expect(`root system: init killed by SIGINT`, systemdTimeout)
	vm.Expect(`powering off: synced`, cmdTimeout)
	vm.Wait(cmdTimeout)
	fs := disk.FS(t)
	if out, err := exec.Command("e2fsck", "-fn", fs).CombinedOutput(); err != nil {
		t.Errorf("e2fsck -fn after systemctl poweroff: %v\n%s", err, out)
	}
	if out, err := exec.Command("debugfs", "-R", "cat /root/kept", fs).Output(); err != nil || !strings.Contains(string(out), "kept") {
		t.Errorf("file written before poweroff: %q, %v", out, err)
	}
}

// TestDebianNinePRoot: the same Debian root over 9P from diod (cache=loose, as
// measured fastest), to multi-user and a clean poweroff.
func TestDebianNinePRoot(t *testing.T) {
	t.Parallel()
	dir := qemu.CopyTree(t, qemu.DebianRoot(t))
	d := qemu.StartDiod(t, dir)
	vm := boot(t, qemu.Options{Append: "venti=tcp!10.0.2.100!564 rootflags=cache=loose ants.aname=" + dir, MemMiB: 1024, Args: d.GuestFwd("10.0.2.100")})
	vm.Expect(`root system: starting from 9p`, bootTimeout)
	vm.Expect(`ants-debian: multi-user reached`, systemdTimeout)
	p := `root@debian:~# `
	vm.Expect(p, systemdTimeout)
	contains(t, "9p root", vm.Run("grep -c ' / 9p ' /proc/mounts; echo $((6*7))", p, cmdTimeout), "1", "42")
	vm.Line("systemctl poweroff")
	vm.Expect(`root system: init killed by SIGINT`, systemdTimeout)
	vm.Wait(cmdTimeout)
}
