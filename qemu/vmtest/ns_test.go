//go:build !race

package vmtest

import (
	"strings"
	"testing"

	"github.com/ants/ants/internal/qvm"
	"github.com/ants/ants/internal/qvm/qvmtest"
)

// TestNamespaceFile: from the admin shell, ns -w and /n/ns/PID/ns change the running
// root system's namespace (its init's), and the root sees the result; ns prints a
// namespace as replayable lines.
func TestNamespaceFile(t *testing.T) {
	t.Parallel()
	disk := qvmtest.MakeDisk(t, qvmtest.DemoRoot(t), "nsroot", false)
	vm := boot(t, qvm.Options{Append: "root=LABEL=nsroot rootwait", Devices: []qvm.Device{disk}})
	vm.Expect(`nsfs: serving /n/ns`, bootTimeout)
	vm.Expect(`demo root: up`, bootTimeout)
	toAdmin(t, vm, `ants% `)
	a := `ants% `
	contains(t, "ns self", vm.Run("ns", a, cmdTimeout), "mount -t tmpfs", "ants /", "mount -t proc", "proc /proc")
	root := strings.TrimSpace(vm.Run("cat /run/ants/root.pid", a, cmdTimeout))
	vm.Run("ns -w "+root+" 'mount -t tmpfs -o size=1m from-ns-w /mnt'", a, cmdTimeout)
	vm.Run("echo 'mount -t tmpfs -o size=1m from-nsfs /root' > /n/ns/"+root+"/ns", a, cmdTimeout)
	contains(t, "nsfs read", vm.Run("cat /n/ns/"+root+"/ns", a, cmdTimeout), "from-ns-w /mnt", "from-nsfs /root")
	// A line that fails: the writer gets the errno, nsfs's log the line.
	contains(t, "nsfs error", vm.Run("echo 'bind /no/such /mnt' > /n/ns/"+root+"/ns || echo write-failed; cat /run/ants/nsfs.log", a, cmdTimeout),
		"line 1: bind /no/such /mnt: no such file or directory")
	errOut := vm.Run("ns -w "+root+" 'bind /no/such/dir /mnt'", a, cmdTimeout)
	contains(t, "ns -w error", errOut, "line 1", "no such file or directory")
	if strings.Contains(vm.Run("cat /proc/mounts", a, cmdTimeout), "from-ns") {
		t.Errorf("the admin namespace got the root's new mounts")
	}
	toRoot(t, vm, `demo# `)
	contains(t, "inside the root", vm.Run("grep from- /proc/mounts", `demo# `, cmdTimeout), "from-ns-w /mnt tmpfs", "from-nsfs /root tmpfs")
}
