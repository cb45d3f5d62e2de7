//go:build !race

package vmtest

import (
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/qvm"
	"github.com/ants/ants/internal/qvm/qvmtest"
)

// TestNoEntropyDHCP9PRoot boots as a plain `qemu-system-x86_64 -kernel -initrd`
// line would: no virtio-rng device, and TCG's CPU has no RDRAND, so the kernel's
// CRNG is not ready for minutes. ip=dhcp (the default with venti=) and a 9P root
// must come up in normal time all the same: a DHCP client that draws its
// transaction id from getrandom(2) waited 120 s here and failed.
func TestNoEntropyDHCP9PRoot(t *testing.T) {
	t.Parallel()
	dir := qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	d := qvmtest.StartDiod(t, dir)
	start := time.Now()
	vm := boot(t, qvm.Options{Append: "venti=tcp!10.0.2.100!564 ants.aname=" + dir, Devices: []qvm.Device{d.NIC("10.0.2.100")}})
	vm.Expect(`net: eth0 10\.0\.2\.15/24 .*\(dhcp`, bootTimeout)
	t.Logf("DHCP lease %v after QEMU started", time.Since(start).Round(time.Second))
	vm.Expect(`demo root: up`, bootTimeout)
	t.Logf("demo root up %v after QEMU started", time.Since(start).Round(time.Second))
	vm.Line("")
	vm.Expect(`demo# `, cmdTimeout)
	toAdmin(t, vm, `ants% `)
	a := `ants% `
	// The premise: no entropy source but the kernel's own.
	if cpu := vm.Run("cat /proc/cpuinfo", a, cmdTimeout); strings.Contains(cpu, " rdrand") {
		t.Errorf("the guest CPU has RDRAND: this test needs one without")
	}
	if rng := vm.Run("cat /sys/class/misc/hw_random/rng_available", a, cmdTimeout); strings.Contains(rng, "virtio") {
		t.Errorf("the guest has a virtio-rng device: %s", rng)
	}
	contains(t, "status", vm.Run("rootctl status", a, cmdTimeout), "state: running", "source: 9p tcp!10.0.2.100!564")
}
