package qemu

import (
	"fmt"
	"net"
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	d := &Diod{Port: port, Export: dir, Log: filepath.Join(t.TempDir(), "diod.log")}
	d.cmd = exec.Command("diod", "-f", "-n", "-l", fmt.Sprintf("127.0.0.1:%d", port), "-e", dir, "-L", d.Log, "-c", "/dev/null")
	d.cmd.Env = append(os.Environ(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("starting diod: %v", err)
	}
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		d.cmd.Wait()
		if t.Failed() {
			if b, err := os.ReadFile(d.Log); err == nil {
				t.Logf("diod log:\n%s", b)
			}
		}
	})
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return d
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("diod did not listen on 127.0.0.1:%d", port)
	return nil
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
