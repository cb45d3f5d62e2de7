//go:build !race

package vmtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ants/ants/internal/qvm"
	"github.com/ants/ants/internal/qvm/qvmtest"
)

// servers are two diods with demo roots (hostnames demo and second), reached by
// the guest at 10.0.2.100 and 10.0.2.101.
type servers struct {
	d1, d2     *qvmtest.Diod
	dir1, dir2 string
}

// twoServers starts two servers and boots from the first with the extra kernel
// command line words; it returns the VM at the root's prompt.
func twoServers(t *testing.T, extra string) (*qvmtest.VM, servers) {
	var s servers
	s.dir1 = qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	s.dir2 = qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	os.WriteFile(filepath.Join(s.dir2, "etc/hostname"), []byte("second\n"), 0o644)
	s.d1, s.d2 = qvmtest.StartDiod(t, s.dir1), qvmtest.StartDiod(t, s.dir2)
	nic := s.d1.NIC("10.0.2.100")
	nic.GuestFwds = append(nic.GuestFwds, s.d2.GuestFwd("10.0.2.101"))
	vm := boot(t, qvm.Options{Append: "venti=tcp!10.0.2.100!564 ants.aname=" + s.dir1 + " " + extra, Devices: []qvm.Device{nic}})
	vm.Expect(`root system: starting from 9p tcp!10\.0\.2\.100!564 aname=`, bootTimeout)
	vm.Expect(`demo root: up`, bootTimeout)
	vm.Line("")
	vm.Expect(`demo# `, cmdTimeout)
	return vm, s
}

// escapeAndRecover checks the admin side while the root is broken, then brings a
// root from the second server with rootctl restart, without a reboot.
func escapeAndRecover(t *testing.T, vm *qvmtest.VM, dir2 string) {
	vm.Expect(`root not responding`, cmdTimeout)
	toAdmin(t, vm, `ants% `)
	a := `ants% `
	contains(t, "ps", vm.Run("ps -e", a, cmdTimeout), "init", "antsh")
	contains(t, "ls", vm.Run("ls /", a, cmdTimeout), "bbin", "env")
	contains(t, "status", vm.Run("rootctl status", a, cmdTimeout), "state: running", "responding: no")
	vm.Run("dmesg", a, cmdTimeout)
	vm.Line("rootctl restart venti=tcp!10.0.2.101!564 ants.aname=" + dir2)
	vm.Expect(`root system: stopped|abandoned pid`, 60e9)
	vm.Expect(`demo root: up as init \(PID 1 of its namespace\), hostname second`, cmdTimeout)
	vm.Line("")
	vm.Expect(`demo# `, cmdTimeout)
	contains(t, "new root", vm.Run("cat /etc/hostname", `demo# `, cmdTimeout), "second")
	if n := strings.Count(vm.Output(), "init started"); n != 1 {
		t.Errorf("the machine booted %d times", n)
	}
}

// TestHungRoot: the 9P server stops (SIGSTOP) under a running root; a command in the
// root hangs, the watchdog says "root not responding", the escape key reaches the
// admin shell, which answers at once, and rootctl restart brings a root from a
// second server with no reboot.
func TestHungRoot(t *testing.T) {
	t.Parallel()
	vm, s := twoServers(t, "ants.watchdog=2")
	s.d1.Stop(t)
	vm.Line("ls /etc")
	escapeAndRecover(t, vm, s.dir2)
}

// TestDeadRoot: the same with the 9P server killed: calls fail, and recovery works.
func TestDeadRoot(t *testing.T) {
	t.Parallel()
	vm, s := twoServers(t, "ants.watchdog=2")
	s.d1.Kill(t)
	vm.Line("ls /etc")
	escapeAndRecover(t, vm, s.dir2)
}

// TestReroot: reroot runs a command, or a shell, inside the running root's
// namespaces on the admin shell's terminal; exit comes back.
func TestReroot(t *testing.T) {
	t.Parallel()
	disk := qvmtest.MakeDisk(t, qvmtest.DemoRoot(t), "rrroot", false)
	vm := boot(t, qvm.Options{Append: "root=LABEL=rrroot rootwait", Devices: []qvm.Device{disk}})
	vm.Expect(`demo root: up`, bootTimeout)
	toAdmin(t, vm, `ants% `)
	a := `ants% `
	contains(t, "reroot cmd", vm.Run("reroot cat /etc/hostname", a, cmdTimeout), "demo")
	vm.Line("reroot")
	p := `demo# `
	vm.Expect(p, cmdTimeout)
	ps := vm.Run("ps", p, cmdTimeout)
	contains(t, "ps in the root", ps, "init", "-/bin/sh")
	if strings.Contains(ps, "antsh") {
		t.Errorf("reroot's shell sees admin processes:\n%s", ps)
	}
	contains(t, "files", vm.Run("ls /etc/inittab; hostname", p, cmdTimeout), "/etc/inittab", "demo")
	vm.Line("exit")
	vm.Expect(a, cmdTimeout)
	contains(t, "back", vm.Run("echo $((4*4)); hostname", a, cmdTimeout), "16", "ants")
}
