package sshd

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// testServer serves on loopback with /bin/sh as the shell and keys as the
// authorized keys; it returns the address.
type testServer struct {
	*Server
	addr string
	logs *syncBuffer
}

func startServer(t *testing.T, keys []AuthorizedKey, tweak func(*Server)) *testServer {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{logs: &syncBuffer{}, addr: l.Addr().String()}
	ts.Server = &Server{
		HostKey: newSigner(t),
		Keys:    func() ([]AuthorizedKey, []error) { return keys, nil },
		Shell:   "/bin/sh",
		Env:     []string{"PATH=/usr/bin:/bin", "HOME=/"},
		Dir:     t.TempDir(),
		Log:     func(f string, a ...any) { ts.logs.Write([]byte(sprintf(f, a...) + "\n")) },
	}
	if tweak != nil {
		tweak(ts.Server)
	}
	go ts.Serve(l)
	t.Cleanup(func() {
		l.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logs.String())
		}
	})
	return ts
}

func authorized(signers ...ssh.Signer) []AuthorizedKey {
	var k []AuthorizedKey
	for i, s := range signers {
		k = append(k, AuthorizedKey{Key: s.PublicKey(), Source: "test:" + strconv.Itoa(i+1)})
	}
	return k
}

func dial(t *testing.T, addr, user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	t.Helper()
	return ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User: user, Auth: auth, HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
	})
}

func login(t *testing.T, addr string, s ssh.Signer) *ssh.Client {
	t.Helper()
	c, err := dial(t, addr, "root", ssh.PublicKeys(s))
	if err != nil {
		t.Fatalf("login with an authorized key: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func run(t *testing.T, c *ssh.Client, cmd string, stdin string) (stdout, stderr string, err error) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var o, e bytes.Buffer
	s.Stdout, s.Stderr = &o, &e
	if stdin != "" {
		s.Stdin = strings.NewReader(stdin)
	}
	err = s.Run(cmd)
	return o.String(), e.String(), err
}

func exitStatus(err error) int {
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		return ee.ExitStatus()
	}
	if err == nil {
		return 0
	}
	return -1
}

func TestExecStatusStdinStderr(t *testing.T) {
	k := newSigner(t)
	ts := startServer(t, authorized(k), nil)
	c := login(t, ts.addr, k)

	out, _, err := run(t, c, "echo $((6*7)); exit 3", "")
	if out != "42\n" || exitStatus(err) != 3 {
		t.Errorf("echo; exit 3: out %q, err %v; want 42 and status 3", out, err)
	}
	out, _, err = run(t, c, "tr a-z A-Z", "hello\nthere\n")
	if out != "HELLO\nTHERE\n" || err != nil {
		t.Errorf("stdin: out %q, err %v", out, err)
	}
	out, errOut, err := run(t, c, "echo out; echo err >&2", "")
	if out != "out\n" || errOut != "err\n" || err != nil {
		t.Errorf("stderr: out %q, err %q, %v", out, errOut, err)
	}
	// The environment: the server's, TERM=dumb without a pty, SSH_CONNECTION.
	out, _, _ = run(t, c, `echo "$HOME $TERM" ${SSH_CONNECTION%% *}; pwd`, "")
	if want := "/ dumb 127.0.0.1\n" + ts.Dir + "\n"; out != want {
		t.Errorf("environment: %q, want %q", out, want)
	}
	// A client need not close stdin for a command to end.
	s, _ := c.NewSession()
	pr, pw := io.Pipe()
	defer pw.Close()
	s.Stdin = pr
	done := make(chan error, 1)
	go func() { done <- s.Run("exit 5") }()
	select {
	case err := <-done:
		if exitStatus(err) != 5 {
			t.Errorf("exit 5 with stdin open: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("a command whose client keeps stdin open did not end")
	}
}

func TestRefusals(t *testing.T) {
	k, stranger := newSigner(t), newSigner(t)
	ts := startServer(t, authorized(k), nil)
	for _, c := range []struct {
		what string
		user string
		auth []ssh.AuthMethod
	}{
		{"unknown key", "root", []ssh.AuthMethod{ssh.PublicKeys(stranger)}},
		{"password", "root", []ssh.AuthMethod{ssh.Password("root")}},
		{"keyboard-interactive", "root", []ssh.AuthMethod{ssh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return []string{"root"}, nil
		})}},
		{"no method", "root", nil},
		{"another user", "admin", []ssh.AuthMethod{ssh.PublicKeys(k)}},
	} {
		cl, err := dial(t, ts.addr, c.user, c.auth...)
		if err == nil {
			cl.Close()
			t.Errorf("%s: logged in", c.what)
		} else if !strings.Contains(err.Error(), "unable to authenticate") {
			t.Errorf("%s: %v, want an authentication failure", c.what, err)
		}
	}
	c := login(t, ts.addr, k)
	// No forwarding, either way.
	if conn, err := c.Dial("tcp", ts.addr); err == nil {
		conn.Close()
		t.Errorf("direct-tcpip was allowed")
	}
	if l, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
		t.Errorf("tcpip-forward was allowed")
	}
	// Subsystems other than sftp.
	s, _ := c.NewSession()
	if err := s.RequestSubsystem("netconf"); err == nil {
		t.Errorf("subsystem netconf was accepted")
	}
	s.Close()
	// An environment variable other than LANG, LC_*.
	s, _ = c.NewSession()
	if err := s.Setenv("LD_PRELOAD", "/x.so"); err == nil {
		t.Errorf("env LD_PRELOAD was accepted")
	}
	if err := s.Setenv("LANG", "C.UTF-8"); err != nil {
		t.Errorf("env LANG: %v", err)
	}
	s.Close()
}

func TestAuthTriesLimit(t *testing.T) {
	k := newSigner(t)
	ts := startServer(t, authorized(k), func(s *Server) { s.MaxAuthTries = 3 })
	// Four wrong keys, then the right one: the server hangs up before it.
	var signers []ssh.Signer
	for i := 0; i < 4; i++ {
		signers = append(signers, newSigner(t))
	}
	signers = append(signers, k)
	if c, err := dial(t, ts.addr, "root", ssh.PublicKeys(signers...)); err == nil {
		c.Close()
		t.Errorf("logged in after 4 wrong keys with MaxAuthTries 3")
	}
	// Two wrong ones are fine.
	c, err := dial(t, ts.addr, "root", ssh.PublicKeys(signers[0], signers[1], k))
	if err != nil {
		t.Errorf("2 wrong keys then the right one: %v", err)
	} else {
		c.Close()
	}
}

func TestHandshakeTimeoutAndConnLimit(t *testing.T) {
	k := newSigner(t)
	ts := startServer(t, authorized(k), func(s *Server) {
		s.HandshakeTimeout = 500 * time.Millisecond
		s.MaxConns = 2
	})
	// A client that says nothing is let go after the timeout.
	raw, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = io.Copy(io.Discard, raw)
	if err != nil || time.Since(start) > 3*time.Second {
		t.Errorf("a silent client was not dropped after the handshake timeout: %v after %v", err, time.Since(start))
	}
	// Two logged-in connections (once the silent one's slot is free); a third is
	// closed at once.
	time.Sleep(100 * time.Millisecond)
	c1 := login(t, ts.addr, k)
	c2 := login(t, ts.addr, k)
	_, _ = c1, c2
	if c3, err := dial(t, ts.addr, "root", ssh.PublicKeys(k)); err == nil {
		c3.Close()
		t.Errorf("a third connection got in with MaxConns 2")
	}
	if n := ts.Conns(); n != 2 {
		t.Errorf("Conns() = %d, want 2", n)
	}
	c1.Close()
	deadline := time.Now().Add(5 * time.Second)
	for ts.Conns() != 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	login(t, ts.addr, k)
}

func TestSessionLimit(t *testing.T) {
	k := newSigner(t)
	ts := startServer(t, authorized(k), func(s *Server) { s.MaxSessions = 2 })
	c := login(t, ts.addr, k)
	s1, err1 := c.NewSession()
	s2, err2 := c.NewSession()
	if err1 != nil || err2 != nil {
		t.Fatalf("two sessions: %v, %v", err1, err2)
	}
	if s3, err := c.NewSession(); err == nil {
		s3.Close()
		t.Errorf("a third session was opened with MaxSessions 2")
	}
	s1.Close()
	s2.Close()
}

func TestPTY(t *testing.T) {
	k := newSigner(t)
	ts := startServer(t, authorized(k), nil)
	c := login(t, ts.addr, k)
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RequestPty("xterm-256color", 33, 101, ssh.TerminalModes{}); err != nil {
		t.Fatalf("pty-req: %v", err)
	}
	var out bytes.Buffer
	s.Stdout = &out
	// The size, TERM and a terminal on stdin; then the size after window-change.
	if err := s.Start(`stty size; echo "$TERM"; [ -t 0 ] && echo tty; sleep 1; stty size`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := s.WindowChange(40, 120); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(); err != nil {
		t.Errorf("wait: %v", err)
	}
	got := strings.ReplaceAll(out.String(), "\r", "")
	if got != "33 101\nxterm-256color\ntty\n40 120\n" {
		t.Errorf("pty session printed %q", got)
	}
}

func TestInteractiveShell(t *testing.T) {
	k := newSigner(t)
	ts := startServer(t, authorized(k), nil)
	c := login(t, ts.addr, k)
	s, _ := c.NewSession()
	defer s.Close()
	s.RequestPty("vt100", 24, 80, ssh.TerminalModes{})
	in, _ := s.StdinPipe()
	var out syncBuffer
	s.Stdout = &out
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(in, "echo $((6*7))x\nexit 4\n")
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err := <-done:
		if exitStatus(err) != 4 || !strings.Contains(out.String(), "42x") {
			t.Errorf("shell: status %v, output %q", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Errorf("the shell did not exit; output %q", out.String())
	}
}

func TestSignalAndHangup(t *testing.T) {
	k := newSigner(t)
	ts := startServer(t, authorized(k), nil)
	c := login(t, ts.addr, k)

	// A signal request reaches the program, and its death comes back as exit-signal.
	s, _ := c.NewSession()
	var out syncBuffer
	s.Stdout = &out
	s.Start("echo started; exec sleep 100")
	waitFor(t, func() bool { return strings.Contains(out.String(), "started") })
	s.Signal(ssh.SIGTERM)
	err := s.Wait()
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.Signal() != "TERM" {
		t.Errorf("after SIGTERM: %v, want exit-signal TERM", err)
	}

	// A client that goes away takes its program with it.
	s, _ = c.NewSession()
	out.Reset()
	s.Stdout = &out
	s.Start("echo $$; exec sleep 100")
	waitFor(t, func() bool { return strings.HasSuffix(out.String(), "\n") })
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatalf("pid %q", out.String())
	}
	c.Close()
	start := time.Now()
	waitFor(t, func() bool { return unix.Kill(pid, 0) != nil })
	// SIGHUP at once, not SIGKILL 5 s later.
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the program of a client that went away ended after %v", d)
	}
}

func TestForcedCommandAndNoPTY(t *testing.T) {
	k := newSigner(t)
	keys := authorized(k)
	keys[0].Command = `echo forced "$SSH_ORIGINAL_COMMAND"`
	keys[0].NoPTY = true
	ts := startServer(t, keys, nil)
	c := login(t, ts.addr, k)
	out, _, err := run(t, c, "echo asked", "")
	if out != "forced echo asked\n" || err != nil {
		t.Errorf("forced command: %q, %v", out, err)
	}
	s, _ := c.NewSession()
	if err := s.RequestPty("vt100", 24, 80, ssh.TerminalModes{}); err == nil {
		t.Errorf("pty-req accepted for a no-pty key")
	}
	s.Close()
}

func TestSFTP(t *testing.T) {
	k := newSigner(t)
	ts := startServer(t, authorized(k), nil)
	c := login(t, ts.addr, k)
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatalf("sftp: %v", err)
	}
	defer sc.Close()
	path := filepath.Join(ts.Dir, "in.txt")
	f, err := sc.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("copied in\n"))
	f.Close()
	if b, _ := os.ReadFile(path); string(b) != "copied in\n" {
		t.Errorf("file written over sftp holds %q", b)
	}
	os.WriteFile(filepath.Join(ts.Dir, "out.txt"), []byte("copied out\n"), 0o644)
	// A relative path is the server's directory.
	g, err := sc.Open("out.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(g)
	g.Close()
	if string(b) != "copied out\n" {
		t.Errorf("file read over sftp: %q", b)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
