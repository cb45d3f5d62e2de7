//go:build !race

// The test's own client makes and uses an RSA key of 512 bits (TestSSH's weak
// key), which Go's crypto/rsa refuses by default since Go 1.24.
//go:debug rsa1024min=0

package vmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"crypto/rand"
	"crypto/rsa"

	"github.com/ants/ants/internal/qvm"
	"github.com/ants/ants/internal/qvm/qvmtest"
	"golang.org/x/crypto/ssh"
)

// sshTarget is a guest's sshd as OpenSSH's client on the host reaches it: a
// forwarded port on 127.0.0.1 and a key pair made for the test.
type sshTarget struct {
	t    *testing.T
	dir  string
	port int
	key  string // private key file; key+".pub" is its public half
}

// newSSHTarget makes a client key and picks a free port for hostfwd.
func newSSHTarget(t *testing.T) *sshTarget {
	t.Helper()
	for _, p := range []string{"ssh", "scp", "sftp", "ssh-keygen"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("no %s (openssh-client)", p)
		}
	}
	s := &sshTarget{t: t, dir: t.TempDir()}
	s.key = keygen(t, s.dir, "client")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	return s
}

// keygen makes an ed25519 key pair DIR/NAME, DIR/NAME.pub.
func keygen(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name+"@host", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	return path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fingerprint is ssh-keygen's SHA256 fingerprint of a key file.
func fingerprint(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-l", "-f", path).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -l %s: %v", path, err)
	}
	return strings.Fields(string(out))[1]
}

// nic is the QEMU network with the forward to the guest's port 22.
func (s *sshTarget) nic() qvm.NIC {
	return qvm.NIC{Restrict: true, HostFwds: []qvm.HostFwd{{HostPort: s.port, GuestPort: 22}}}
}

func (s *sshTarget) opts(key string) []string {
	return []string{"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20",
		"-o", "LogLevel=ERROR", "-i", key}
}

// run runs an OpenSSH program (ssh, scp, sftp) with the test's options; port is
// -p for ssh and -P for the others. It returns stdout, stderr and the exit status.
func (s *sshTarget) run(stdin string, prog string, args ...string) (string, string, int) {
	s.t.Helper()
	return s.runKey(s.key, stdin, prog, args...)
}

func (s *sshTarget) runKey(key, stdin string, prog string, args ...string) (string, string, int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pflag := "-P"
	if prog == "ssh" {
		pflag = "-p"
	}
	all := append(s.opts(key), pflag, fmt.Sprint(s.port))
	all = append(all, args...)
	cmd := exec.CommandContext(ctx, prog, all...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Stdin = strings.NewReader(stdin)
	err := cmd.Run()
	var ee *exec.ExitError
	rc := 0
	switch {
	case errors.As(err, &ee):
		rc = ee.ExitCode()
	case err != nil:
		s.t.Fatalf("%s: %v", prog, err)
	}
	if ctx.Err() != nil {
		s.t.Errorf("%s %s: timed out", prog, strings.Join(args, " "))
	}
	return out.String(), errOut.String(), rc
}

// sshFiles are the cpio files that configure sshd: the client's public key and a
// host key.
func (s *sshTarget) files(hostKey string) []qvm.File {
	f := []qvm.File{{Path: "cfg/authorized_keys", Content: readFile(s.t, s.key+".pub"), Mode: 0o644}}
	if hostKey != "" {
		f = append(f, qvm.File{Path: "cfg/ssh_host_ed25519_key", Content: readFile(s.t, hostKey), Mode: 0o600})
	}
	return f
}

// TestSSH logs in to the admin namespace with OpenSSH's client while a demo root
// runs: a command with its output and exit status, stdin, an interactive pty
// session with the admin prompt, reroot on the ssh terminal and back, scp and sftp
// both ways, ants sshd's status; and refusals (a password, an unknown key).
func TestSSH(t *testing.T) {
	t.Parallel()
	s := newSSHTarget(t)
	hostKey := keygen(t, s.dir, "host")
	disk := qvmtest.MakeDisk(t, qvmtest.DemoRoot(t), "sshroot", false)
	// A key too weak to trust, listed too: RSA of 512 bits (below).
	weak, weakLine := weakRSAKey(t)
	files := s.files(hostKey)
	files[0].Content += weakLine
	// Every SSH handshake needs the kernel's random numbers: without an rng device
	// they do not come for minutes under TCG (TestSSHMadeHostKey).
	vm := boot(t, qvm.Options{Append: "root=LABEL=sshroot rootwait ants.sshd=22", Devices: []qvm.Device{disk, s.nic()}, Rng: true},
		files...)
	fp := fingerprint(t, hostKey+".pub")
	vm.Expect(`sshd: listening on \[::\]:22 for root with 2 authorized keys; host key `+regexp.QuoteMeta(fp)+` ssh-ed25519 \(/cfg/ssh_host_ed25519_key\)`, bootTimeout)
	vm.Expect(`demo root: up`, bootTimeout)

	start := time.Now()
	out, errOut, rc := s.run("", "ssh", "root@127.0.0.1", "echo $((6*7)); exit 3")
	t.Logf("first ssh command: %v", time.Since(start).Round(time.Millisecond))
	if out != "42\n" || rc != 3 {
		t.Errorf("ssh 'echo $((6*7)); exit 3': out %q, stderr %q, status %d; want 42 and 3", out, errOut, rc)
	}
	start = time.Now()
	s.run("", "ssh", "root@127.0.0.1", "true")
	t.Logf("ssh true: %v", time.Since(start).Round(time.Millisecond))
	if out, errOut, rc := s.run("hi\n", "ssh", "root@127.0.0.1", "cat"); out != "hi\n" || rc != 0 {
		t.Errorf("echo hi | ssh cat: %q, %q, %d", out, errOut, rc)
	}
	// The admin namespace, not the root's: the admin tmpfs on /, the boot log.
	out, _, _ = s.run("", "ssh", "root@127.0.0.1", "cat /proc/mounts; ants sshd status; cat /proc/self/oom_score_adj")
	contains(t, "admin namespace", out, "\nants / tmpfs ", "sshd: listening", "address: [::]:22", "host key: "+fp, "connections: 1", "-1000")

	// An interactive session on a pty: the admin prompt, a command, reroot into the
	// root on this terminal, exit back. Typed a line at a time, each after what the
	// last printed, as a person would: read ahead, lines would go to the wrong shell.
	it := s.interactive()
	it.expect("ants% ")
	it.line("echo $((7*6))x")
	it.expect("42x")
	it.line("reroot")
	it.expect("demo# ")
	it.line("hostname; echo $((5*5))y")
	it.expect("25y")
	it.line("exit")
	it.expect("ants% ")
	it.line("echo back$((1+1))")
	it.expect("back2")
	it.line("exit 7")
	if rc := it.wait(); rc != 7 {
		t.Errorf("interactive session: status %d, want 7", rc)
	}
	contains(t, "interactive session", it.out.String(), "\ndemo\r\n")

	// scp and sftp, in and out (OpenSSH 9's scp speaks sftp).
	local := filepath.Join(s.dir, "payload")
	os.WriteFile(local, []byte("payload over ssh\n"), 0o644)
	if _, errOut, rc := s.run("", "scp", local, "root@127.0.0.1:/tmp/in"); rc != 0 {
		t.Errorf("scp in: %d %s", rc, errOut)
	}
	if out, _, _ := s.run("", "ssh", "root@127.0.0.1", "cat /tmp/in"); out != "payload over ssh\n" {
		t.Errorf("file copied in holds %q", out)
	}
	back := filepath.Join(s.dir, "boot.log")
	if _, errOut, rc := s.run("", "scp", "root@127.0.0.1:/run/ants/boot.log", back); rc != 0 {
		t.Errorf("scp out: %d %s", rc, errOut)
	} else if b, _ := os.ReadFile(back); !strings.Contains(string(b), "sshd: listening on") {
		t.Errorf("boot.log copied out:\n%s", b)
	}
	out, errOut, rc = s.run("put "+local+" /tmp/sftp-in\nls -l /tmp\nget /tmp/sftp-in "+back+".2\n", "sftp", "-b", "-", "root@127.0.0.1")
	if rc != 0 || !strings.Contains(out, "sftp-in") {
		t.Errorf("sftp: %d\n%s\n%s", rc, out, errOut)
	} else if b, _ := os.ReadFile(back + ".2"); string(b) != "payload over ssh\n" {
		t.Errorf("sftp get: %q", b)
	}

	// Refusals: a password, an unknown key, another user.
	_, errOut, rc = s.run("", "ssh", "-o", "PreferredAuthentications=password,keyboard-interactive", "-o", "PubkeyAuthentication=no", "root@127.0.0.1", "true")
	if rc != 255 || !strings.Contains(errOut, "Permission denied (publickey)") {
		t.Errorf("password login: status %d, %q; want 255 and Permission denied (publickey)", rc, errOut)
	}
	other := keygen(t, s.dir, "stranger")
	if _, errOut, rc := s.runKey(other, "", "ssh", "root@127.0.0.1", "true"); rc != 255 || !strings.Contains(errOut, "Permission denied") {
		t.Errorf("unknown key: status %d, %q", rc, errOut)
	}
	if _, errOut, rc := s.run("", "ssh", "admin@127.0.0.1", "true"); rc != 255 || !strings.Contains(errOut, "Permission denied") {
		t.Errorf("user admin: status %d, %q", rc, errOut)
	}
	// The 512-bit RSA key is refused although it is listed: Go's crypto/rsa
	// rejects keys under 1024 bits (GODEBUG rsa1024min, Go 1.24), as in the host
	// tests, only if the image's busybox, where sshd runs, has the module's
	// GODEBUG defaults, not Go 1.20's (initramfs/main.go, busyboxBuildOpts).
	// OpenSSH's client will not use such a key; Go's does.
	// (x/crypto/ssh's server ends the connection when a signature fails to verify.)
	if err := goSSH(s.port, weak); err == nil || !strings.Contains(err.Error(), "handshake failed") {
		t.Errorf("login with a 512-bit RSA key in authorized_keys: %v; want it refused", err)
	}
	// No forwarding: -W is a direct-tcpip channel, -R a tcpip-forward request.
	if _, errOut, rc := s.run("", "ssh", "-W", "10.0.2.2:22", "root@127.0.0.1"); rc != 255 || !strings.Contains(errOut, "forwarding failed") {
		t.Errorf("ssh -W: status %d, %q; want stdio forwarding failed", rc, errOut)
	}
	if _, errOut, rc := s.run("", "ssh", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:1", "root@127.0.0.1", "true"); rc != 255 {
		t.Errorf("remote forward: status %d, %q; want it refused", rc, errOut)
	}
	log, _, _ := s.run("", "ssh", "root@127.0.0.1", "cat /run/ants/sshd.log")
	contains(t, "sshd.log", log, "root logged in with key "+fingerprint(t, s.key+".pub"), "tcpip-forward refused", "publickey for \"root\" refused",
		"no login: crypto/rsa: 512-bit keys are insecure")
}

// weakRSAKey makes an RSA key of 512 bits: its signer, and its authorized_keys
// line.
func weakRSAKey(t *testing.T) (ssh.Signer, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 512)
	if err != nil {
		t.Fatal(err)
	}
	sg, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return sg, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sg.PublicKey()))) + " weak@host\n"
}

// goSSH logs in as root with key by x/crypto/ssh's client and runs true.
func goSSH(port int, key ssh.Signer) error {
	c, err := ssh.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &ssh.ClientConfig{
		User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 30 * time.Second,
	})
	if err != nil {
		return err
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		return err
	}
	defer sess.Close()
	return sess.Run("true")
}

// interactiveSSH is ssh -tt driven a line at a time.
type interactiveSSH struct {
	t   *testing.T
	cmd *exec.Cmd
	in  io.WriteCloser
	out *syncBuf
	pos int
}

func (s *sshTarget) interactive() *interactiveSSH {
	s.t.Helper()
	args := append(s.opts(s.key), "-p", fmt.Sprint(s.port), "-tt", "root@127.0.0.1")
	cmd := exec.Command("ssh", args...)
	it := &interactiveSSH{t: s.t, cmd: cmd, out: &syncBuf{}}
	cmd.Stdout, cmd.Stderr = it.out, it.out
	var err error
	if it.in, err = cmd.StdinPipe(); err != nil {
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { cmd.Process.Kill() })
	return it
}

func (it *interactiveSSH) line(l string) { io.WriteString(it.in, l+"\r") }

func (it *interactiveSSH) expect(want string) {
	it.t.Helper()
	deadline := time.Now().Add(cmdTimeout)
	for time.Now().Before(deadline) {
		out := it.out.String()
		if i := strings.Index(out[it.pos:], want); i >= 0 {
			it.pos += i + len(want)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	it.t.Fatalf("ssh -tt: no %q in:\n%s", want, it.out.String()[it.pos:])
}

func (it *interactiveSSH) wait() int {
	done := make(chan error, 1)
	go func() { done <- it.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			return -1
		}
		return 0
	case <-time.After(cmdTimeout):
		it.t.Errorf("ssh -tt did not end; output:\n%s", it.out.String())
		return -1
	}
}

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

// TestSSHNoKeys: without a key sshd does not listen and the boot log says why;
// once a key is added, ants sshd start from the console starts it, and stop ends it.
func TestSSHNoKeys(t *testing.T) {
	t.Parallel()
	s := newSSHTarget(t)
	hostKey := keygen(t, s.dir, "host")
	vm := boot(t, qvm.Options{Append: "ants.sshd=22", Devices: []qvm.Device{s.nic()}, Rng: true},
		qvm.File{Path: "cfg/ssh_host_ed25519_key", Content: readFile(t, hostKey), Mode: 0o600})
	vm.Expect(`sshd: no authorized keys in /cfg/authorized_keys, /cfg/ants/authorized_keys or ants.sshkey: not listening`, bootTimeout)
	a := `ants% `
	vm.Expect(prompt("ants"), bootTimeout)
	contains(t, "boot log", vm.Run("cat /run/ants/boot.log", a, cmdTimeout), "sshd: no authorized keys", "FAILED /lib/boot/60-sshd.sh")
	contains(t, "status", vm.Run("ants sshd", a, cmdTimeout), "sshd: not running, though ants.sshd=22")
	if _, errOut, rc := s.run("", "ssh", "root@127.0.0.1", "true"); rc != 255 {
		t.Errorf("ssh without keys configured: status %d, %q", rc, errOut)
	}
	// A key added afterwards, and sshd started by hand.
	pub := strings.TrimSpace(readFile(t, s.key+".pub"))
	vm.Run("echo '"+pub+"' >/cfg/authorized_keys", a, cmdTimeout)
	contains(t, "start", vm.Run("ants sshd start", a, cmdTimeout), "sshd: listening on [::]:22 for root with 1 authorized keys")
	if out, errOut, rc := s.run("", "ssh", "root@127.0.0.1", "echo $((6*7))"); out != "42\n" || rc != 0 {
		t.Errorf("after ants sshd start: %q %q %d", out, errOut, rc)
	}
	contains(t, "stop", vm.Run("ants sshd stop; ants sshd", a, cmdTimeout), "sshd: stopped", "sshd: not running")
}

// TestSSHOffByDefault: no ants.sshd, no listener, though the port is forwarded.
func TestSSHOffByDefault(t *testing.T) {
	t.Parallel()
	s := newSSHTarget(t)
	vm := boot(t, qvm.Options{Append: "ip=dhcp", Devices: []qvm.Device{s.nic()}}, s.files("")...)
	a := `ants% `
	vm.Expect(prompt("ants"), bootTimeout)
	contains(t, "status", vm.Run("ants sshd", a, cmdTimeout), "sshd: off (ants.sshd is not set")
	if _, errOut, rc := s.run("", "ssh", "root@127.0.0.1", "true"); rc != 255 {
		t.Errorf("ssh with sshd off: status %d, %q", rc, errOut)
	}
	if out := vm.Run("ps", a, cmdTimeout); strings.Contains(out, "sshd") {
		t.Errorf("an sshd runs though ants.sshd is not set:\n%s", out)
	}
}

// TestSSHMadeHostKey: without /cfg/ssh_host_ed25519_key and without an rng device
// (TCG's CPU has no RDRAND) sshd says that it waits for the kernel's random numbers
// to make a host key, and the boot goes on to the admin prompt meanwhile; ants sshd
// says it waits, and the port does not answer yet.
func TestSSHMadeHostKey(t *testing.T) {
	t.Parallel()
	s := newSSHTarget(t)
	start := time.Now()
	vm := boot(t, qvm.Options{Append: "ants.sshd=22", Devices: []qvm.Device{s.nic()}}, s.files("")...)
	vm.Expect(`sshd: waiting for the kernel's random numbers to make a host key; without an rng device`, bootTimeout)
	vm.Expect(`boot scripts done: 6 ran, 0 failed`, cmdTimeout)
	a := `ants% `
	vm.Expect(prompt("ants"), bootTimeout)
	t.Logf("admin prompt %v after QEMU started, sshd waiting", time.Since(start).Round(time.Second))
	contains(t, "boot log", vm.Run("cat /run/ants/boot.log", a, cmdTimeout), "sshd: waiting for the kernel's random numbers to make a host key")
	contains(t, "status", vm.Run("ants sshd", a, cmdTimeout), "sshd: waiting for the kernel's random numbers", "host key: none yet")
	if _, errOut, rc := s.run("", "ssh", "root@127.0.0.1", "true"); rc != 255 {
		t.Errorf("ssh before the host key exists: status %d, %q", rc, errOut)
	}
}

// TestSSHMadeHostKeyRng: with a virtio-rng device, the host key is made at boot
// without a wait, and its fingerprint is the one the client is shown.
func TestSSHMadeHostKeyRng(t *testing.T) {
	t.Parallel()
	s := newSSHTarget(t)
	vm := boot(t, qvm.Options{Append: "ants.sshd=22", Devices: []qvm.Device{s.nic()}, Rng: true}, s.files("")...)
	m := vm.Expect(`sshd: listening on \[::\]:22 .*host key (SHA256:\S+) ssh-ed25519 \(made at boot`, bootTimeout)
	a := `ants% `
	vm.Expect(prompt("ants"), bootTimeout)
	if out := vm.Run("cat /run/ants/boot.log", a, cmdTimeout); strings.Contains(out, "waiting for the kernel's random numbers") {
		t.Errorf("with virtio-rng sshd still waited:\n%s", out)
	}
	// The fingerprint printed is the key's that the client is shown.
	out, errOut, _ := s.run("", "ssh", "-v", "root@127.0.0.1", "ants sshd")
	if !strings.Contains(out, "host key: "+m[1]) || !strings.Contains(errOut, "Server host key: ssh-ed25519 "+m[1]) {
		t.Errorf("fingerprint %s: ants sshd says:\n%s\nthe client saw:\n%s", m[1], out, errOut)
	}
}
