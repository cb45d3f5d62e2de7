package vmtest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ants/ants/internal/qvm"
)

// TestStalledConsoleHoldsUpNothing: the VGA console's output is stopped (Scroll
// Lock on its keyboard: the VT's hold, which writes nothing more to it until
// pressed again), and the admin shell prints 30 KB. Every line reaches the serial
// console all the same and the shell answers after it; the VGA screen stays as it
// was until Scroll Lock is pressed again, then it shows the rest. The mux's writes
// to a console are non-blocking (console.File): one that waited for the stopped
// VT would hold every console's output behind it.
func TestStalledConsoleHoldsUpNothing(t *testing.T) {
	t.Parallel()
	// No cursor: QEMU draws a blinking one, and the screen must not change by itself.
	vm, q := vgaBoot(t, qvm.Options{Append: "vt.global_cursor_default=0"})
	bootDone(t, vm)
	p := `ants% `
	screen := func() []byte {
		t.Helper()
		time.Sleep(time.Second) // the VT draws what it was given
		ppm := filepath.Join(t.TempDir(), "vga.ppm")
		q.do(map[string]any{"execute": "screendump", "arguments": map[string]any{"filename": ppm}})
		b, err := os.ReadFile(ppm)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	scrollLock := func() {
		q.do(map[string]any{"execute": "send-key", "arguments": map[string]any{"keys": []map[string]string{{"type": "qcode", "data": "scroll_lock"}}}})
	}
	scrollLock()
	held := screen()
	vm.Line("seq 1 5000; echo seq-$((6*7))")
	vm.Expect(`\n5000\r?\nseq-42\r?\n`, 2*bootTimeout)
	vm.Expect(p, cmdTimeout)
	contains(t, "the admin shell while the VGA console is held", vm.Run("echo $((6*7))", p, cmdTimeout), "42")
	if !bytes.Equal(screen(), held) {
		t.Fatal("the VGA screen changed while held: the test's stall did not happen")
	}
	scrollLock()
	if bytes.Equal(screen(), held) {
		t.Error("the VGA screen did not change once released: its queued output was not written")
	}
}
