package qemu

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Diod is a 9P2000.L server (Debian's diod) on host loopback exporting a directory.
type Diod struct {
	Port   int
	Export string
	Log    string
	cmd    *exec.Cmd
}

// StartDiod serves dir on 127.0.0.1 (a free port) until the test ends. diod runs
// as root here so the root's files keep their owners.
func StartDiod(t testing.TB, dir string) *Diod {
	t.Helper()
	if _, err := exec.LookPath("diod"); err != nil {
		if _, err := os.Stat("/usr/sbin/diod"); err != nil {
			t.Fatalf("diod is not installed (apt-get install diod)")
		}
	}
	port := freePort(t)
	d := &Diod{Port: port, Export: dir, Log: filepath.Join(t.TempDir(), "diod.log")}
	d.cmd = exec.Command("diod", "-f", "-n", "-l", fmt.Sprintf("127.0.0.1:%d", port), "-e", dir, "-L", d.Log, "-c", "/dev/null")
	d.cmd.Env = append(os.Environ(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	startServer(t, "diod", d.cmd, port, d.Log, 5*time.Second)
	return d
}

// GuestFwd is the QEMU NIC argument that gives the guest user networking, closed to
// everything but guestAddr:564, which reaches the server on host loopback (a relay
// per connection, so a dead server never leaves QEMU holding a stale socket).
func (d *Diod) GuestFwd(guestAddr string) []string {
	return []string{"-nic", fmt.Sprintf("user,restrict=on,guestfwd=tcp:%s:564-cmd:busybox nc 127.0.0.1 %d", guestAddr, d.Port)}
}

// Stop freezes the server (SIGSTOP): its clients hang, as on a dead network.
func (d *Diod) Stop(t testing.TB) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Let it go at the end, so the kill in Cleanup works.
	t.Cleanup(func() { d.cmd.Process.Signal(syscall.SIGCONT) })
}

// Kill ends the server: its clients' calls fail.
func (d *Diod) Kill(t testing.TB) {
	t.Helper()
	d.cmd.Process.Kill()
}
