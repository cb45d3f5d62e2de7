package pid1

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Main refuses to run as anything but PID 1 (it would take signals and the
// console of the machine).
func TestMainNotPID1(t *testing.T) {
	if os.Getenv("ANTS_TEST_MAIN") == "1" {
		Main()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainNotPID1$")
	cmd.Env = append(os.Environ(), "ANTS_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	if !strings.Contains(string(out), "init: this is ants' PID 1; it must be started by the kernel (pid 1)") {
		t.Errorf("Main as pid %d: %v %q", os.Getpid(), err, out)
	}
	// A reaper of TestReaper, which runs on, may take the status first (ECHILD).
	var ee *exec.ExitError
	if !errors.Is(err, unix.ECHILD) && (!errors.As(err, &ee) || ee.ExitCode() != 1) {
		t.Errorf("Main as pid %d: %v, want exit status 1", os.Getpid(), err)
	}

}
