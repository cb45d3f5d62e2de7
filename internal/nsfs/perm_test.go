package nsfs

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMayWrite: the rule, with every check faked. Caller 10 writes target 20.
func TestMayWrite(t *testing.T) {
	admin := Creds{CapEff: 1 << unix.CAP_SYS_ADMIN}
	for _, c := range []struct {
		name     string
		caller   int
		creds    Creds
		credsErr error
		ancestor bool
		attach   bool
		want     bool
	}{
		{"CAP_SYS_ADMIN, ancestor, attach", 10, admin, nil, true, true, true},
		{"all caps", 10, Creds{CapEff: 0x1ffffffffff}, nil, true, true, true},
		{"no CAP_SYS_ADMIN", 10, Creds{CapEff: 1<<unix.CAP_SYS_PTRACE | 1<<unix.CAP_DAC_OVERRIDE}, nil, true, true, false},
		{"user namespace below the target's", 10, admin, nil, false, true, false},
		{"ptrace check fails", 10, admin, nil, true, false, false},
		{"caller gone", 10, admin, os.ErrNotExist, true, true, false},
		{"no caller pid", 0, admin, nil, true, true, false},
	} {
		var asked []string
		b := &Backend{
			Creds: func(pid int) (Creds, error) {
				if pid != c.caller {
					t.Errorf("%s: Creds of %d", c.name, pid)
				}
				return c.creds, c.credsErr
			},
			UserNSAncestor: func(caller, pid int) bool {
				asked = append(asked, "userns")
				if caller != 10 || pid != 20 {
					t.Errorf("%s: UserNSAncestor(%d, %d)", c.name, caller, pid)
				}
				return c.ancestor
			},
			MayAttach: func(cr Creds, pid int) bool {
				asked = append(asked, "attach")
				if cr != c.creds || pid != 20 {
					t.Errorf("%s: MayAttach(%+v, %d)", c.name, cr, pid)
				}
				return c.attach
			},
		}
		err := b.mayWrite(c.caller, 20)
		if got := err == nil; got != c.want {
			t.Errorf("%s: mayWrite = %v, want allowed %v (asked %v)", c.name, err, c.want, asked)
		}
		if err != nil && !errors.Is(err, syscall.EPERM) {
			t.Errorf("%s: %v, want EPERM", c.name, err)
		}
	}
}

func TestReadCreds(t *testing.T) {
	c, err := ReadCreds("/proc", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if c.FSUID != os.Geteuid() || c.FSGID != os.Getegid() {
		t.Errorf("fs ids %d:%d, want %d:%d", c.FSUID, c.FSGID, os.Geteuid(), os.Getegid())
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		t.Fatal(err)
	}
	if want := uint64(data[1].Effective)<<32 | uint64(data[0].Effective); c.CapEff != want {
		t.Errorf("CapEff %#x, want %#x", c.CapEff, want)
	}
	dir := t.TempDir()
	os.MkdirAll(dir+"/7", 0o755)
	for _, bad := range []string{"Uid:\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapEff:\t0\n", "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n", "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nCapEff:\tzz\n"} {
		os.WriteFile(dir+"/7/status", []byte(bad), 0o644)
		if c, err := ReadCreds(dir, 7); err == nil {
			t.Errorf("ReadCreds of %q = %+v, want an error", bad, c)
		}
	}
}

// sleeper starts sleep with attr and returns its pid.
func sleeper(t *testing.T, attr *syscall.SysProcAttr) int {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		t.Skipf("host test: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Until it has exec'd (and left our credentials and namespaces).
	for i := 0; i < 100; i++ {
		if b, _ := os.ReadFile("/proc/" + itoa(cmd.Process.Pid) + "/comm"); string(b) == "sleep\n" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd.Process.Pid
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func TestUserNSAncestor(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("host test: needs root")
	}
	self := os.Getpid()
	if !UserNSAncestor("/proc", self, self) {
		t.Errorf("own user namespace: not an ancestor")
	}
	child := sleeper(t, &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER})
	if !UserNSAncestor("/proc", self, child) {
		t.Errorf("the parent of a child's user namespace: not an ancestor")
	}
	if UserNSAncestor("/proc", child, self) {
		t.Errorf("a child user namespace: an ancestor of its parent")
	}
	if UserNSAncestor("/proc", self, 1<<30) {
		t.Errorf("no such target: an ancestor")
	}
}

func TestKernelMayAttach(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("host test: needs root")
	}
	root, err := ReadCreds("/proc", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	nobodyPid := sleeper(t, &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}})
	rootPid := sleeper(t, nil)
	nobody := Creds{FSUID: 65534, FSGID: 65534}
	for _, c := range []struct {
		name string
		c    Creds
		pid  int
		want bool
	}{
		{"root on a root process", root, rootPid, true},
		{"root on nobody's", root, nobodyPid, true},
		{"nobody on its own", nobody, nobodyPid, true},
		{"nobody on root's", nobody, rootPid, false},
		{"nobody with CAP_SYS_PTRACE on root's", Creds{FSUID: 65534, FSGID: 65534, CapEff: 1<<unix.CAP_SYS_PTRACE | 1<<unix.CAP_DAC_OVERRIDE}, rootPid, true},
		{"root with no capabilities on nobody's", Creds{}, nobodyPid, false},
		{"no such process", root, 1 << 30, false},
	} {
		if got := KernelMayAttach("/proc", c.c, c.pid); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// The borrowed credentials stayed on the thread that borrowed them.
	if again, _ := ReadCreds("/proc", os.Getpid()); again != root {
		t.Errorf("credentials after the checks: %+v, were %+v", again, root)
	}
}
