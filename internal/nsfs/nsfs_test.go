package nsfs

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ants/ants/internal/testns"
)

// fake is a Backend that serves fixed text and records what is written.
type fake struct {
	mu      sync.Mutex
	written []string
}

func (f *fake) backend() *Backend {
	return &Backend{
		Read: func(pid int) (string, error) {
			if pid == 999999 {
				return "", syscall.ESRCH
			}
			return "mount -t proc proc /proc\n# pid " + strconv.Itoa(pid) + "\n", nil
		},
		Write: func(pid int, lines string) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			if strings.Contains(lines, "/nope") {
				return syscall.ENOENT
			}
			f.written = append(f.written, lines)
			return nil
		},
	}
}

// inNamespace re-runs the test in a throwaway mount namespace, so the FUSE mount
// never shows in the host's (or another test package's) mount table; it returns
// true in that child.
func inNamespace(t *testing.T) bool {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("host test: no /dev/fuse")
	}
	return testns.Rerun(t, "ANTS_NSFS_IN_NS", []string{"--mount", "--propagation", "private"})
}

func mountFake(t *testing.T) (string, *fake) {
	t.Helper()
	dir := t.TempDir()
	f := &fake{}
	srv, err := Mount(dir, f.backend())
	if err != nil {
		t.Skipf("host test: cannot mount FUSE here: %v", err)
	}
	t.Cleanup(func() { srv.Unmount() })
	return dir, f
}

func TestReadAndWrite(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	dir, f := mountFake(t)
	self := strconv.Itoa(os.Getpid())
	b, err := os.ReadFile(filepath.Join(dir, self, "ns"))
	if err != nil || !strings.Contains(string(b), "# pid "+self) {
		t.Fatalf("read %s/ns: %q, %v", self, b, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		t.Fatalf("readdir: %d entries, %v", len(ents), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "notapid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat notapid: %v", err)
	}
	// Each complete line is applied by the write that ends it; a last line without
	// a newline when the file is closed.
	w, err := os.OpenFile(filepath.Join(dir, self, "ns"), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("bind /a /b\nbind -b /c"))
	w.Write([]byte(" /d\nunmount /e"))
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	got := strings.Join(f.written, "")
	if got != "bind /a /b\nbind -b /c /d\nunmount /e\n" {
		t.Errorf("applied %q", got)
	}
	// A failing line gives its errno to the writer.
	err = os.WriteFile(filepath.Join(dir, self, "ns"), []byte("bind /nope /x\n"), 0)
	if !errors.Is(err, syscall.ENOENT) {
		t.Errorf("write of a failing line: %v, want ENOENT", err)
	}
}

// TestWriteNeedsPermission: a process that may not change the target's
// namespace (nobody; root without CAP_SYS_ADMIN) has its writes refused with
// EPERM, also on an fd that a privileged process opened and passed on; reading
// stays allowed, as /proc/PID/mountinfo is.
func TestWriteNeedsPermission(t *testing.T) {
	if !inNamespace(t) {
		return
	}
	dir, f := mountFake(t)
	os.Chmod(filepath.Dir(dir), 0o755)
	os.Chmod(dir, 0o755)
	ns := filepath.Join(dir, "1", "ns")
	nobody := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	denied := func(what string, cmd *exec.Cmd) {
		t.Helper()
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(strings.ToLower(string(out)), "not permitted") {
			t.Errorf("%s: %v, %s; want EPERM", what, err, out)
		}
	}
	cmd := exec.Command("sh", "-c", "/bin/echo 'bind /a /b' > "+ns)
	cmd.SysProcAttr = nobody
	denied("nobody writing pid 1's ns", cmd)

	// Opened here (root), written by nobody: checked per write, not at open.
	w, err := os.OpenFile(ns, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command("sh", "-c", "/bin/echo 'bind /passed /fd' >&3")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = nobody
	denied("nobody writing an fd root opened", cmd)
	w.Close()

	if _, err := exec.LookPath("setpriv"); err == nil {
		cmd = exec.Command("setpriv", "--bounding-set", "-sys_admin", "sh", "-c", "/bin/echo 'bind /nocap /x' > "+ns)
		denied("root without CAP_SYS_ADMIN", cmd)
	}
	if len(f.written) != 0 {
		t.Errorf("applied %q", f.written)
	}
	cmd = exec.Command("cat", ns)
	cmd.SysProcAttr = nobody
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "# pid 1") {
		t.Errorf("nobody reading pid 1's ns: %v, %s", err, out)
	}
}
