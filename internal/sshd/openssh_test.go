package sshd

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenSSHClient drives the server with OpenSSH's own ssh, scp and sftp (skipped
// without them): their exit statuses are what users see.
func TestOpenSSHClient(t *testing.T) {
	for _, p := range []string{"ssh", "scp", "sftp", "ssh-keygen"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("no %s", p)
		}
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "k")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	pub, _ := os.ReadFile(key + ".pub")
	keys, _ := ParseAuthorizedKeys(pub, "test")
	ts := startServer(t, keys, nil)
	port := ts.addr[strings.LastIndex(ts.addr, ":")+1:]
	opts := []string{"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes",
		"-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-i", key}
	run := func(stdin, prog string, args ...string) (string, int) {
		t.Helper()
		pf := "-P"
		if prog == "ssh" {
			pf = "-p"
		}
		cmd := exec.Command(prog, append(append(append([]string{}, opts...), pf, port), args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return out.String(), 0
	}
	if out, rc := run("", "ssh", "root@127.0.0.1", "echo $((6*7)); exit 3"); out != "42\n" || rc != 3 {
		t.Errorf("ssh: %q %d", out, rc)
	}
	src := filepath.Join(dir, "src")
	os.WriteFile(src, []byte("copied\n"), 0o644)
	if out, rc := run("", "scp", src, "root@127.0.0.1:"+filepath.Join(ts.Dir, "in")); rc != 0 {
		t.Errorf("scp in: status %d: %s", rc, out)
	}
	if b, _ := os.ReadFile(filepath.Join(ts.Dir, "in")); string(b) != "copied\n" {
		t.Errorf("scp in wrote %q", b)
	}
	if out, rc := run("", "scp", "root@127.0.0.1:"+filepath.Join(ts.Dir, "in"), filepath.Join(dir, "back")); rc != 0 {
		t.Errorf("scp out: status %d: %s", rc, out)
	}
	if out, rc := run("put "+src+" sftp-in\nls\n", "sftp", "-b", "-", "root@127.0.0.1"); rc != 0 || !strings.Contains(out, "sftp-in") {
		t.Errorf("sftp: status %d: %s", rc, out)
	}
	if out, rc := run("", "ssh", "-W", "127.0.0.1:1", "root@127.0.0.1"); rc != 255 || !strings.Contains(out, "forwarding failed") {
		t.Errorf("ssh -W: status %d: %s", rc, out)
	}
}
