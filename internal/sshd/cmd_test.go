package sshd

import (
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func testPaths(t *testing.T) Paths {
	dir := t.TempDir()
	p := Paths{CfgDir: filepath.Join(dir, "cfg"), EnvDir: filepath.Join(dir, "env"), RunDir: filepath.Join(dir, "run"),
		Shell: "/bin/sh", Self: "/nonexistent/ants"}
	p.BootLog = filepath.Join(p.RunDir, "boot.log")
	for _, d := range []string{p.CfgDir, p.EnvDir, p.RunDir} {
		os.MkdirAll(d, 0o755)
	}
	return p
}

func setVar(t *testing.T, p Paths, name, v string) {
	if err := os.WriteFile(filepath.Join(p.EnvDir, name), []byte(v), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Serve refuses to listen, and says why in the boot log, without a usable setup.
func TestServeRefuses(t *testing.T) {
	k := newSigner(t)
	for _, c := range []struct {
		name  string
		setup func(p Paths)
		want  string
	}{
		{"unset", func(p Paths) {}, "ants.sshd is not set"},
		{"bad address", func(p Paths) { setVar(t, p, "ants.sshd", "host:22") }, `ants.sshd: "host:22": "host" is not an IP address`},
		{"no keys", func(p Paths) { setVar(t, p, "ants.sshd", "127.0.0.1:2222") },
			"no authorized keys in CFG/authorized_keys, CFG/$sysname/authorized_keys or ants.sshkey: not listening"},
		{"only bad keys", func(p Paths) {
			setVar(t, p, "ants.sshd", "127.0.0.1:2222")
			os.WriteFile(filepath.Join(p.CfgDir, "authorized_keys"), []byte("ssh-ed25519 AAAA\n"), 0o644)
		}, "no authorized keys"},
		{"bad host key", func(p Paths) {
			setVar(t, p, "ants.sshd", "127.0.0.1:2222")
			os.WriteFile(filepath.Join(p.CfgDir, "authorized_keys"), []byte(pubLine(k)+"\n"), 0o644)
			os.WriteFile(filepath.Join(p.CfgDir, "ssh_host_ed25519_key"), []byte("not a key\n"), 0o600)
		}, "host key: CFG/ssh_host_ed25519_key: not a private key in OpenSSH format"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := testPaths(t)
			c.setup(p)
			var out bytes.Buffer
			if rc := p.Serve(nil, &out, false); rc != 1 {
				t.Fatalf("Serve = %d, want 1", rc)
			}
			want := strings.ReplaceAll(c.want, "CFG", p.CfgDir)
			log, _ := os.ReadFile(p.BootLog)
			if !strings.Contains(out.String(), want) || !strings.Contains(string(log), "sshd: "+want) {
				t.Errorf("want %q on the console and in the boot log; console:\n%s\nboot log:\n%s", want, out.String(), log)
			}
			var st bytes.Buffer
			if p.Status(&st) != 1 {
				t.Errorf("Status says it runs: %s", st.String())
			}
		})
	}
}

func writeHostKey(t *testing.T, path string) ssh.Signer {
	s, err := NewHostKey(path, "test")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHostKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k")
	s := writeHostKey(t, path)
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("made host key has mode %v, want 0600", fi.Mode().Perm())
	}
	l, err := LoadHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(l.PublicKey()) != Fingerprint(s.PublicKey()) || !strings.HasPrefix(Fingerprint(s.PublicKey()), "SHA256:") {
		t.Errorf("loaded key %s, made %s", Fingerprint(l.PublicKey()), Fingerprint(s.PublicKey()))
	}
	// A passphrase is refused with what to do.
	_, priv := newRawKey(t)
	blk, _ := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("secret"))
	os.WriteFile(path, pem.EncodeToMemory(blk), 0o600)
	if _, err := LoadHostKey(path); err == nil || !strings.Contains(err.Error(), "ssh-keygen -p") {
		t.Errorf("key with a passphrase: %v", err)
	}
}

func TestStatus(t *testing.T) {
	p := testPaths(t)
	var out bytes.Buffer
	if p.Status(&out) != 1 || !strings.Contains(out.String(), "sshd: off (ants.sshd is not set") {
		t.Errorf("off: %q", out.String())
	}
	setVar(t, p, "ants.sshd", "22")
	out.Reset()
	if p.Status(&out) != 1 || !strings.Contains(out.String(), "not running, though ants.sshd=22") {
		t.Errorf("set, not running: %q", out.String())
	}
	p.writeStatus(status{State: "listening", Address: "[::]:22", HostKey: "SHA256:x ssh-ed25519 (f)", Pid: os.Getpid(), Since: "[1.0]", Conns: 2})
	out.Reset()
	if p.Status(&out) != 0 || !strings.Contains(out.String(), "sshd: listening\naddress: [::]:22\nhost key: SHA256:x ssh-ed25519 (f)\n") ||
		!strings.Contains(out.String(), "connections: 2") {
		t.Errorf("running: %q", out.String())
	}
	// A status file left by a dead sshd.
	p.writeStatus(status{State: "listening", Pid: 1 << 30})
	out.Reset()
	if p.Status(&out) != 1 || !strings.Contains(out.String(), "not running (pid 1073741824 ended") {
		t.Errorf("dead: %q", out.String())
	}
}

func TestKeysCommand(t *testing.T) {
	p := testPaths(t)
	var out bytes.Buffer
	if p.Keys(&out) != 1 || !strings.Contains(out.String(), "no keys: looked in "+p.CfgDir+"/authorized_keys") {
		t.Errorf("no keys: %q", out.String())
	}
	k := newSigner(t)
	os.WriteFile(filepath.Join(p.CfgDir, "authorized_keys"), []byte(pubLine(k)+" me@host\nbad line\n"), 0o644)
	out.Reset()
	if p.Keys(&out) != 0 || !strings.Contains(out.String(), Fingerprint(k.PublicKey())+" me@host ("+p.CfgDir+"/authorized_keys:1)") ||
		!strings.Contains(out.String(), "skipped: "+p.CfgDir+"/authorized_keys:2") {
		t.Errorf("keys: %q", out.String())
	}
}

func TestMainArgs(t *testing.T) {
	var out, errOut bytes.Buffer
	if rc := Main([]string{"status", "extra"}, &out, &errOut); rc != 2 || !strings.Contains(errOut.String(), "usage:") {
		t.Errorf("bad args: rc %d, %q", rc, errOut.String())
	}
	if rc := Main([]string{"bogus"}, &out, &errOut); rc != 2 {
		t.Errorf("bogus: rc %d", rc)
	}
}

// What the daemon queued for the console is written before it exits.
func TestLineQueueFlush(t *testing.T) {
	var b syncBuffer
	q := newLineQueue(&b)
	q.Write([]byte("one\n"))
	q.Write([]byte("two\n"))
	q.flush()
	if b.String() != "one\ntwo\n" {
		t.Errorf("after flush: %q", b.String())
	}
}

// A flush does not end the queue.
func TestLineQueueFlushTwice(t *testing.T) {
	var b syncBuffer
	q := newLineQueue(&b)
	q.Write([]byte("one\n"))
	q.flush()
	q.Write([]byte("two\n"))
	q.flush()
	if b.String() != "one\ntwo\n" {
		t.Errorf("after two flushes: %q", b.String())
	}
}
