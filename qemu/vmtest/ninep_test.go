//go:build !race

package vmtest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ants/ants/internal/qvm"
	"github.com/ants/ants/internal/qvm/qvmtest"
)

// Test9PRoot boots the demo root over the network from diod (a real 9P2000.L
// server on host loopback), with the network from DHCP; the admin namespace holds no
// 9P mount; rootctl restart with another venti= brings a root from a second server
// without a reboot.
func Test9PRoot(t *testing.T) {
	t.Parallel()
	vm, s := twoServers(t, "")
	dir, dir2 := s.dir1, s.dir2
	if !strings.Contains(vm.Output(), "(dhcp") {
		t.Errorf("no DHCP line in the boot log")
	}
	// QEMU's e1000 negotiates its link for 500 ms after the driver's probe, and
	// the driver misses the end of it if the link was set up meanwhile (the
	// carrier then came 2 s late): netconf sets it up once the PHY has the link.
	if out := vm.Output(); !strings.Contains(out, "netconf: eth0: its PHY has the link") {
		t.Errorf("e1000: netconf did not wait for its PHY's link before setting it up:\n%s", out)
	}
	// 9P's modules load while DHCP waits: the root's mount finds them there.
	if !regexp.MustCompile(`net: the root's modules \(9p 9pnet_fd\) loaded beside it`).MatchString(vm.Output()) ||
		!regexp.MustCompile(`root: mounted 9p from tcp!10\.0\.2\.100!564 \(\d+ ms: its modules were loaded,`).MatchString(vm.Output()) {
		t.Errorf("9P's modules were not loaded beside DHCP, before the root's mount:\n%s", vm.Output())
	}
	p := `demo# `
	vm.Run("echo written-over-9p > /root/note; sync", p, cmdTimeout)
	if b, err := os.ReadFile(filepath.Join(dir, "root/note")); err != nil || string(b) != "written-over-9p\n" {
		t.Errorf("the file on the server: %q, %v", b, err)
	}
	toAdmin(t, vm, `ants% `)
	a := `ants% `
	if mi := vm.Run("cat /proc/1/mountinfo", a, cmdTimeout); strings.Contains(mi, " 9p ") {
		t.Errorf("the admin namespace holds the 9P root:\n%s", mi)
	}
	contains(t, "uptime before", vm.Run("rootctl status", a, cmdTimeout), "state: running", "source: 9p tcp!10.0.2.100!564")
	vm.Line("rootctl restart venti=tcp!10.0.2.101!564 ants.aname=" + dir2)
	vm.Expect(`root system: stopped`, cmdTimeout)
	vm.Expect(`root system: starting from 9p tcp!10\.0\.2\.101!564`, cmdTimeout)
	vm.Expect(`demo root: up as init \(PID 1 of its namespace\), hostname second`, cmdTimeout)
	vm.Line("")
	vm.Expect(`demo# `, cmdTimeout)
	contains(t, "second root", vm.Run("cat /etc/hostname", p, cmdTimeout), "second")
	// Its options, as the root sees them: over the child's own connection
	// (trans=fd, which PID 1 can break) with the programs' pages cached.
	contains(t, "9P options", vm.Run("grep ' / 9p ' /proc/mounts", p, cmdTimeout), "trans=fd", ",mmap,") // the kernel shows cache=mmap as "mmap"
}

// TestVentiAskedAgain: venti=ask; an answer where no 9P server answers gets a
// one-line reason and the question again; a good answer brings the root up. The
// network is static here (ip= in the kernel's nfsroot form).
func TestVentiAskedAgain(t *testing.T) {
	t.Parallel()
	dir := qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	d := qvmtest.StartDiod(t, dir)
	vm := boot(t, qvm.Options{Append: "venti=ask ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off ants.aname=" + dir, Devices: []qvm.Device{d.NIC("10.0.2.100")}})
	vm.Expect(`venti \[\]: `, bootTimeout)
	vm.Line("tcp!10.0.2.100!5999")
	vm.Expect(`net: eth0 10\.0\.2\.15/24 via 10\.0\.2\.2 \(static`, bootTimeout)
	if out := vm.Output(); !strings.Contains(out, "netconf: eth0: its PHY has the link") {
		t.Errorf("e1000, static address: netconf did not wait for its PHY's link before setting it up:\n%s", out)
	}
	vm.Expect(`venti=tcp!10\.0\.2\.100!5999: cannot reach the 9P server`, bootTimeout)
	vm.Expect(`root system: asking again for venti`, cmdTimeout)
	vm.Expect(`venti \[tcp!10\.0\.2\.100!5999\]: `, cmdTimeout)
	vm.Line("10.0.2.100")
	vm.Expect(`demo root: up`, bootTimeout)
}
