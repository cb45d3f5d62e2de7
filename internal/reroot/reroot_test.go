package reroot

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ants/ants/internal/console"
	"golang.org/x/sys/unix"
)

// start is run's start without namespaces: what is tested here is what the
// command gets as its terminal and fds.
func start(cmd *exec.Cmd) error { return cmd.Start() }

// syncBuf collects a relay's output for a test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuf) wait(t *testing.T, re string) []string {
	t.Helper()
	r := regexp.MustCompile(re)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := r.FindStringSubmatch(s.String()); m != nil {
			return m
		}
	}
	t.Fatalf("no %q in the output:\n%s", re, s.String())
	return nil
}

// TestRunPty: on a terminal, the command gets a pty of its own (not the admin
// terminal's fds) as its controlling terminal, with the admin terminal's window
// size; keys typed on the admin terminal reach it, its output comes back, its
// exit status is kept, and the admin terminal's modes are restored.
func TestRunPty(t *testing.T) {
	admMaster, admSlave, err := console.OpenPTY()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer admMaster.Close()
	defer admSlave.Close()
	unix.IoctlSetWinsize(int(admMaster.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 33, Col: 101})
	before, err := unix.IoctlGetTermios(int(admSlave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuf
	go io.Copy(&out, admMaster)

	script := `for f in 0 1 2; do echo "fd$f=$(readlink /proc/$$/fd/$f)"; done; echo "tty=$(tty)"; echo "size=$(stty size)"; read x; echo "got=$x"; exit 3`
	res := make(chan int, 1)
	go func() { res <- run([]string{"sh", "-c", script}, admSlave, admSlave, admSlave, start) }()

	m := out.wait(t, `fd0=(\S+)\r\nfd1=(\S+)\r\nfd2=(\S+)\r\ntty=(\S+)\r\n`)
	if m[1] == admSlave.Name() || !strings.HasPrefix(m[1], "/dev/pts/") {
		t.Errorf("the command's stdin is %s, want a new pty (the admin's is %s)", m[1], admSlave.Name())
	}
	if m[2] != m[1] || m[3] != m[1] || m[4] != m[1] {
		t.Errorf("fds 0, 1, 2 and the controlling tty: %v, want one pty", m[1:5])
	}
	out.wait(t, `size=33 101\r\n`)
	// Raw while the command runs: the admin terminal passes keys as they come.
	if raw, err := unix.IoctlGetTermios(int(admSlave.Fd()), unix.TCGETS); err != nil || raw.Lflag&unix.ICANON != 0 {
		t.Errorf("the admin terminal is not raw while the command runs: %+v, %v", raw, err)
	}
	admMaster.Write([]byte("hello\r"))
	out.wait(t, `got=hello\r\n`)
	select {
	case st := <-res:
		if st != 3 {
			t.Errorf("status %d, want 3", st)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after the command exited")
	}
	after, err := unix.IoctlGetTermios(int(admSlave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if after.Lflag != before.Lflag || after.Iflag != before.Iflag || after.Oflag != before.Oflag {
		t.Errorf("the admin terminal's modes were not restored: %+v, was %+v", after, before)
	}
}

// TestRunPtyWinch: a change of the admin terminal's window size reaches the pty.
func TestRunPtyWinch(t *testing.T) {
	admMaster, admSlave, err := console.OpenPTY()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer admMaster.Close()
	defer admSlave.Close()
	var out syncBuf
	go io.Copy(&out, admMaster)
	script := `echo "a=$(stty size)"; read x; echo "b=$(stty size)"`
	res := make(chan int, 1)
	go func() { res <- run([]string{"sh", "-c", script}, admSlave, admSlave, admSlave, start) }()
	out.wait(t, `a=24 80\r\n`)
	unix.IoctlSetWinsize(int(admMaster.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: 132})
	// The kernel sends SIGWINCH to the admin terminal's foreground process
	// group, which a test process is not: send it as the kernel would.
	syscall.Kill(os.Getpid(), syscall.SIGWINCH)
	time.Sleep(200 * time.Millisecond)
	admMaster.Write([]byte("\r"))
	out.wait(t, `b=50 132\r\n`)
	<-res
}

// TestRunPipes: not on a terminal, the command gets pipes of reroot's own,
// never the caller's fds, no controlling terminal (so /dev/tty is not the
// admin's), and nothing else reroot inherited; the data goes through.
func TestRunPipes(t *testing.T) {
	inR, inW, _ := os.Pipe()
	outR, outW, _ := os.Pipe()
	defer inR.Close()
	defer outR.Close()
	// An fd inherited without close-on-exec, at a number of its own.
	leak, err := unix.Open("/dev/null", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Dup3(leak, 57, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(57)
	unix.Close(leak)
	fmt.Fprintln(inW, "through the pipe")
	inW.Close()
	script := `cat; echo "fd0=$(readlink /proc/$$/fd/0) fd1=$(readlink /proc/$$/fd/1)"; ls /proc/$$/fd/57 2>/dev/null && echo leaked; (echo x >/dev/tty) 2>/dev/null && echo tty-open; echo "stat=$(cut -d' ' -f1,6 /proc/$$/stat)"; exit 5`
	inodes := []uint64{inode(t, inR), inode(t, outW)}
	var st int
	go func() {
		st = run([]string{"sh", "-c", script}, inR, outW, outW, start)
		outW.Close()
	}()
	b, _ := io.ReadAll(outR)
	got := string(b)
	if st != 5 {
		t.Errorf("status %d, want 5", st)
	}
	if !strings.Contains(got, "through the pipe\n") {
		t.Errorf("stdin did not come through:\n%s", got)
	}
	for _, ino := range inodes {
		if strings.Contains(got, fmt.Sprintf("pipe:[%d]", ino)) {
			t.Errorf("the command got the caller's pipe %d:\n%s", ino, got)
		}
	}
	if !regexp.MustCompile(`fd0=pipe:\[\d+\] fd1=pipe:\[\d+\]`).MatchString(got) {
		t.Errorf("the command's fds are not pipes:\n%s", got)
	}
	if m := regexp.MustCompile(`stat=(\d+) (\d+)`).FindStringSubmatch(got); m == nil || m[1] != m[2] {
		t.Errorf("the command does not lead a session of its own (pid, session): %v\n%s", m, got)
	}
	for _, bad := range []string{"leaked", "tty-open"} {
		if strings.Contains(got, bad) {
			t.Errorf("%s:\n%s", bad, got)
		}
	}
}

func inode(t *testing.T, f *os.File) uint64 {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestRunStatus: exit codes as sh reports them, 128+N for a signal.
func TestRunStatus(t *testing.T) {
	for _, c := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 42", 42},
		{"kill -9 $$", 137},
	} {
		if got := run([]string{"sh", "-c", c.script}, strings.NewReader(""), io.Discard, io.Discard, start); got != c.want {
			t.Errorf("%q: status %d, want %d", c.script, got, c.want)
		}
	}
	var errb bytes.Buffer
	if got := run([]string{"/nonexistent"}, nil, io.Discard, &errb, start); got != 1 || !strings.Contains(errb.String(), "reroot:") {
		t.Errorf("a missing command: status %d, %q", got, errb.String())
	}
}

// TestLookPath: the command is looked up in the root's PATH where it runs, not
// where reroot was started.
func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/tool", []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(dir+"/data", []byte("x"), 0o644)
	for _, c := range []struct{ name, want, err string }{
		{"tool", dir + "/tool", ""},
		{"data", "", "data: not found in the root"},
		{"missing", "", "missing: not found in the root"},
		{"/abs/prog", "/abs/prog", ""},
	} {
		cmd := exec.Command(c.name)
		lookPath(cmd, c.name, "/nonexistent:"+dir)
		if c.err != "" {
			if cmd.Err == nil || !strings.Contains(cmd.Err.Error(), c.err) {
				t.Errorf("%s: Err %v, want %q", c.name, cmd.Err, c.err)
			}
			continue
		}
		if cmd.Err != nil || cmd.Path != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, cmd.Path, cmd.Err, c.want)
		}
	}
}

// TestMainNoRoot: without a running root (no pid file, or a bad one) reroot says
// so and fails, before joining anything.
func TestMainNoRoot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := Paths{PidFile: dir + "/root.pid", RootPrivFile: dir + "/ants.rootpriv"}
	var out, errs bytes.Buffer
	if rc := p.Main([]string{"true"}, strings.NewReader(""), &out, &errs); rc != 1 ||
		!strings.HasPrefix(errs.String(), "reroot: no root system is running (open "+p.PidFile+": no such file or directory); rootctl status") {
		t.Errorf("reroot without a pid file = %d, %q", rc, errs.String())
	}
	os.WriteFile(p.PidFile, []byte("x\n"), 0o644)
	errs.Reset()
	if rc := p.Main([]string{"true"}, strings.NewReader(""), &out, &errs); rc != 1 ||
		errs.String() != fmt.Sprintf("reroot: %s: %q is not a pid\n", p.PidFile, "x\n") {
		t.Errorf("reroot with a bad pid file = %d, %q", rc, errs.String())
	}
}
