package pid1

import (
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMoveTree moves a tree of files, links, fifos and directories, and leaves
// nothing behind.
func TestMoveTree(t *testing.T) {
	src, dst := filepath.Join(t.TempDir(), "src"), filepath.Join(t.TempDir(), "dst")
	os.MkdirAll(filepath.Join(src, "a/b"), 0o750)
	os.WriteFile(filepath.Join(src, "a/b/file"), []byte("content"), 0o640)
	os.WriteFile(filepath.Join(src, "top"), nil, 0o755)
	os.Symlink("a/b/file", filepath.Join(src, "link"))
	unix.Mkfifo(filepath.Join(src, "fifo"), 0o600)
	dev, err := devOf(src)
	if err != nil {
		t.Fatal(err)
	}
	n, err := moveTree(src, dst, dev, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("moved %d files, want 4", n)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "a/b/file")); err != nil || string(b) != "content" {
		t.Errorf("file: %q, %v", b, err)
	}
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "a/b/file" {
		t.Errorf("link: %q, %v", l, err)
	}
	if st, err := os.Stat(filepath.Join(dst, "top")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("top: %v, %v", st, err)
	}
	if st, err := os.Stat(filepath.Join(dst, "a")); err != nil || st.Mode().Perm() != 0o750 {
		t.Errorf("dir mode: %v, %v", st, err)
	}
	if st, err := os.Lstat(filepath.Join(dst, "fifo")); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("fifo: %v, %v", st, err)
	}
	if _, err := os.Lstat(src); !os.IsNotExist(err) {
		t.Errorf("the source is still there: %v", err)
	}
}

// TestSwitchRootRefusesARealRoot: on a host (or any / that is not the initramfs)
// SwitchRoot stops before touching anything.
func TestSwitchRootRefusesARealRoot(t *testing.T) {
	var st unix.Statfs_t
	unix.Statfs("/", &st)
	if st.Type == unix.RAMFS_MAGIC || st.Type == unix.TMPFS_MAGIC {
		t.Skip("/ is a ramfs or tmpfs here")
	}
	if _, err := SwitchRoot(1 << 20); err == nil || !strings.Contains(err.Error(), "not the initramfs") {
		t.Fatalf("SwitchRoot on a real root: %v", err)
	}
	if _, err := os.Stat(newRoot); err == nil {
		t.Errorf("%s was created", newRoot)
	}
}

// TestReaper: children started through the reaper get their own exit statuses,
// and an orphan's exit goes to Orphan.
func TestReaper(t *testing.T) {
	r := NewReaper()
	orphans := make(chan int, 4)
	r.Orphan = func(pid int, ws unix.WaitStatus) { orphans <- pid }
	sig := make(chan os.Signal, 8)
	signal.Notify(sig, unix.SIGCHLD)
	defer signal.Stop(sig)
	go r.Run(sig)

	var chans []<-chan unix.WaitStatus
	for _, code := range []string{"0", "3", "7"} {
		ch, err := r.Start(exec.Command("sh", "-c", "exit "+code))
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	for i, want := range []int{0, 3, 7} {
		select {
		case ws := <-chans[i]:
			if !ws.Exited() || ws.ExitStatus() != want {
				t.Errorf("child %d: %s, want status %d", i, Describe(ws), want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("child %d: no status", i)
		}
	}
	sleep := exec.Command("sleep", "30")
	ch, _ := r.Start(sleep)
	defer sleep.Process.Kill()
	// A process started behind the reaper's back (os.StartProcess) is an orphan to it.
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case pid := <-orphans:
		if pid != p.Pid {
			t.Errorf("orphan pid %d, want %d", pid, p.Pid)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the orphan's exit was not reported")
	}
	select {
	case ws := <-ch:
		t.Errorf("sleep exited early: %s", Describe(ws))
	default:
	}
}

func TestDescribe(t *testing.T) {
	for ws, want := range map[unix.WaitStatus]string{
		0:                             "exited",
		3 << 8:                        "exited with status 3",
		unix.WaitStatus(unix.SIGKILL): "killed by SIGKILL",
	} {
		if got := Describe(ws); got != want {
			t.Errorf("Describe(0x%x) = %q, want %q", uint32(ws), got, want)
		}
	}
}

func TestUserProcess(t *testing.T) {
	for _, tc := range []struct {
		stat string
		want bool
	}{
		{"123 (sh) S 1 123 123 34816 123 4194560 1 0 0 0", true},
		{"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0", false},
		{"77 (a) b) c) D 1 77 77 0 -1 4194560 0", true},
		{"78 (zomb) Z 1 78 78 0 -1 4194560 0", false},
		{"79 (short) S 1", false},
		{"garbage", false},
	} {
		if got := userProcess(tc.stat); got != tc.want {
			t.Errorf("userProcess(%q) = %v, want %v", tc.stat, got, tc.want)
		}
	}
}

func TestBounded(t *testing.T) {
	s := realSys(nil)
	if !s.bounded(time.Second, func() {}) {
		t.Errorf("a call that returns at once was not done in time")
	}
	block := make(chan struct{})
	defer close(block)
	if s.bounded(10*time.Millisecond, func() { <-block }) {

		t.Errorf("a call that never returns was done in time")
	}
}
