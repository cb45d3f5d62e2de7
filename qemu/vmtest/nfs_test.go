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

// TestNFSRoot: the demo root from nfs-ganesha over NFSv4 (root=nfs4:), with DHCP
// by default; a file written in the root reaches the server; the admin side has no
// NFS mount. Then the server freezes: the watchdog says so, the escape key and
// rootctl stop answer as for 9P. The NIC is virtio-net here (9P's tests have
// QEMU's default e1000): its carrier is on from probe, so DHCP starts as the
// link is set up, with no wait for carrier (the kernel's linkwatch, which turns
// the operational state "up", ran up to a second later and was waited for).
// NFS's modules are loaded by ants net beside DHCP, and both mounts (netcfg's,
// the root's) say they found them loaded.
func TestNFSRoot(t *testing.T) {
	t.Parallel()
	dir := qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	g := qvmtest.StartGanesha(t, dir)
	nic := g.NIC("10.0.2.100")
	nic.Model = "virtio-net-pci"
	vm := boot(t, qvm.Options{Append: "root=nfs4:10.0.2.100:" + g.Pseudo + " ants.watchdog=2", Devices: []qvm.Device{nic}})
	vm.Expect(`netconf: eth0: DHCP`, bootTimeout)
	if out := vm.Output(); strings.Contains(out, "waiting for carrier") {
		t.Errorf("virtio-net: netconf waited for the carrier, which was on when the link was set up:\n%s", out)
	}
	// NFS's modules load while DHCP waits; the first mount (netcfg's) finds them.
	vm.Expect(`net: the root's modules \(nfs nfsv4\) loaded beside it \(\d+ ms\)`, bootTimeout)
	vm.Expect(`netcfg: mounted nfs4 from 10\.0\.2\.100:/export \(\d+ ms: its modules were loaded,`, bootTimeout)
	vm.Expect(`root system: starting from nfs 10\.0\.2\.100:/export`, bootTimeout)
	vm.Expect(`root: mounted nfs4 from 10\.0\.2\.100:/export \(\d+ ms: its modules were loaded,`, bootTimeout)
	vm.Expect(`demo root: up`, bootTimeout)
	vm.Line("")
	p := `demo# `
	vm.Expect(p, cmdTimeout)
	contains(t, "nfs root", vm.Run("grep -c ' / nfs4 ' /proc/mounts; echo nfs-$((6*7)) > /root/nfs; sync", p, cmdTimeout), "1")
	if b, err := os.ReadFile(filepath.Join(dir, "root/nfs")); err != nil || !strings.Contains(string(b), "nfs-42") {
		t.Errorf("the file written in the root is not on the server: %q %v", b, err)
	}
	toAdmin(t, vm, `ants% `)
	a := `ants% `
	if out := vm.Run("cat /proc/1/mountinfo", a, cmdTimeout); strings.Contains(out, "nfs") {
		t.Errorf("the admin namespace has the NFS mount:\n%s", out)
	}
	g.Stop(t)
	toRoot(t, vm, p)
	vm.Line("ls /etc")
	vm.Expect(`root not responding`, cmdTimeout)
	toAdmin(t, vm, a)
	contains(t, "admin with a hung NFS root", vm.Run("echo $((6*7)); rootctl status", a, cmdTimeout), "42", "responding: no")
	vm.Line("rootctl stop")
	vm.Expect(`root system: stopped|abandoned pid`, 60e9)
	vm.Expect(a, cmdTimeout)
	contains(t, "after stop", vm.Run("rootctl status", a, cmdTimeout), "state: stopped")
}

// TestNFSOverlay: a shared read-only root (root=/dev/nfs nfsroot=) with a tmpfs
// upper layer: the root writes, the export stays as it was.
func TestNFSOverlay(t *testing.T) {
	t.Parallel()
	dir := qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	g := qvmtest.StartGanesha(t, dir)
	vm := boot(t, qvm.Options{Append: "root=/dev/nfs nfsroot=10.0.2.100:" + g.Pseudo + ",vers=4.2 ants.overlay=tmpfs:size=32m", Devices: []qvm.Device{g.NIC("10.0.2.100")}})
	vm.Expect(`overlay: nfs 10\.0\.2\.100:/export read-only under a tmpfs`, bootTimeout)
	vm.Expect(`demo root: up`, bootTimeout)
	vm.Line("")
	p := `demo# `
	vm.Expect(p, cmdTimeout)
	contains(t, "overlay", vm.Run("grep ' / overlay ' /proc/mounts", p, cmdTimeout)+vm.Run("echo mine-$((6*7)) > /root/mine; cat /root/mine", p, cmdTimeout),
		"overlay / overlay", "mine-42")
	if _, err := os.Stat(filepath.Join(dir, "root/mine")); err == nil {
		t.Errorf("a write in the overlay root reached the shared export")
	}
}
