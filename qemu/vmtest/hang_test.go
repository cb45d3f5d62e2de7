//go:build !race

package vmtest

import (
	"strings"
	"testing"
)

// TestPowerWhileAScriptHangs: PID 1 serves the admin shell and power signals while
// a boot script hangs: exit in the admin shell brings a new one, and poweroff (a
// signal to PID 1, as Ctrl-Alt-Del is) powers off with the script still hanging.
func TestPowerWhileAScriptHangs(t *testing.T) {
	t.Parallel()
	vm := adminDuringScript(t, "hanging-for-ever", "sleep 600\n")
	vm.Line("")
	vm.Expect(`ants% `, cmdTimeout)
	vm.Line("exit")
	vm.Expect(`starting a new admin shell`, cmdTimeout)
	vm.Expect(`ants% `, cmdTimeout)
	contains(t, "new shell", vm.Run("echo $((7*8)); pidof sleep", `ants% `, cmdTimeout), "56")
	vm.Line("poweroff")
	vm.Expect(`powering off: synced`, cmdTimeout)
	vm.Wait(cmdTimeout)
	if strings.Contains(vm.Output(), "boot scripts done") {
		t.Errorf("the boot script did not hang")
	}
}
