//go:build !race

package vmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/qvm"
	"github.com/ants/ants/internal/qvm/qvmtest"
)

// replicas starts two 9P servers exporting one tree (replicas, as a fleet has
// them: one path, so one ants.aname), reached by the guest at 10.0.2.100 and
// 10.0.2.101, and returns them with the kernel command line words for both.
func replicas(t *testing.T) (d1, d2 *qvmtest.Diod, words string, nic qvm.NIC) {
	dir := qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	d1, d2 = qvmtest.StartDiod(t, dir), qvmtest.StartDiod(t, dir)
	nic = d1.NIC("10.0.2.100")
	nic.GuestFwds = append(nic.GuestFwds, d2.GuestFwd("10.0.2.101"))
	return d1, d2, "venti=tcp!10.0.2.100!564,tcp!10.0.2.101!564 ants.aname=" + dir, nic
}

// TestVentiListFirstAnswering: with the first server of venti='s list dead at
// boot (its address still takes connections: QEMU's relay does), the root comes
// from the second; rootctl status shows the list and the server in use.
func TestVentiListFirstAnswering(t *testing.T) {
	t.Parallel()
	d1, _, words, nic := replicas(t)
	d1.Kill(t)
	vm := boot(t, qvm.Options{Append: words, Devices: []qvm.Device{nic}})
	vm.Expect(`server tcp!10\.0\.2\.100!564 does not answer`, bootTimeout)
	vm.Expect(`demo root: up`, bootTimeout)
	toAdmin(t, vm, `ants% `)
	contains(t, "status", vm.Run("rootctl status", `ants% `, cmdTimeout),
		"servers: tcp!10.0.2.100!564 tcp!10.0.2.101!564", "server: tcp!10.0.2.101!564")
}

// TestFailover: ants.onroothang=failover moves a root whose server froze to the
// next server of the list with no key pressed, and says so on the console.
func TestFailover(t *testing.T) {
	t.Parallel()
	d1, _, words, nic := replicas(t)
	vm := boot(t, qvm.Options{Append: words + " ants.watchdog=2 ants.hangafter=4 ants.onroothang=failover", Devices: []qvm.Device{nic}})
	vm.Expect(`demo root: up`, bootTimeout)
	vm.Line("")
	vm.Expect(`demo# `, cmdTimeout)
	start := time.Now()
	d1.Stop(t)
	vm.Line("ls /etc")
	vm.Expect(`root not responding`, cmdTimeout)
	vm.Expect(`root system: not responding for \d+s; failing over to tcp!10\.0\.2\.101!564 \(ants\.onroothang=failover\)`, 60*time.Second)
	vm.Expect(`demo root: up`, 60*time.Second)
	t.Logf("the new root was up %v after the server froze", time.Since(start).Round(time.Second))
	if n := strings.Count(vm.Output(), "init started"); n != 1 {
		t.Errorf("the machine booted %d times", n)
	}
	toAdmin(t, vm, `ants% `)
	contains(t, "status", vm.Run("rootctl status", `ants% `, cmdTimeout), "server: tcp!10.0.2.101!564", "responding: yes")
}

// TestFleet: three machines at once from one NFS export, each with a tmpfs overlay,
// each named by DHCP (QEMU's hostname=), each running its own /cfg/$sysname script
// from the server, each keeping its own writes and none reaching the export.
func TestFleet(t *testing.T) {
	t.Parallel()
	dir := qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	names := []string{"gnot1", "gnot2", "gnot3"}
	for i, n := range names {
		os.MkdirAll(filepath.Join(dir, "cfg", n), 0o755)
		os.WriteFile(filepath.Join(dir, "cfg", n, "hello.sh"), []byte(fmt.Sprintf("echo \"hello from $sysname on the server: $((40+%d))\"\n", i)), 0o644)
	}
	g := qvmtest.StartGanesha(t, dir)
	vms := make([]*qvmtest.VM, len(names))
	start := time.Now()
	for i, n := range names {
		nic := g.NIC("10.0.2.100")
		nic.Hostname = n
		vms[i] = boot(t, qvm.Options{Name: n, Append: "root=nfs4:10.0.2.100:" + g.Pseudo + " ants.overlay=tmpfs:size=32m", Devices: []qvm.Device{nic}})
	}
	for i, vm := range vms {
		n := names[i]
		vm.Expect(`net: sysname=`+n+`, the host name DHCP gave`, bootTimeout)
		vm.Expect(fmt.Sprintf(`hello from %s on the server: %d`, n, 40+i), bootTimeout)
		vm.Expect(`demo root: up`, bootTimeout)
	}
	t.Logf("three roots up %v after the first QEMU start", time.Since(start).Round(time.Second))
	for i, vm := range vms {
		n := names[i]
		vm.Line("")
		vm.Expect(`demo# `, cmdTimeout)
		contains(t, n, vm.Run("echo "+n+" > /root/me; cat /root/me", `demo# `, cmdTimeout), n)
	}
	for i, vm := range vms {
		if out := vm.Run("cat /root/me", `demo# `, cmdTimeout); !strings.Contains(out, names[i]) {
			t.Errorf("%s reads %q in its own /root/me", names[i], out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "root/me")); err == nil {
		t.Errorf("a machine's write reached the shared export")
	}
}
