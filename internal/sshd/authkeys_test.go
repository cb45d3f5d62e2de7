package sshd

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func newSigner(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pubLine(s ssh.Signer) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
}

func TestParseAuthorizedKeys(t *testing.T) {
	a, b, c, d := newSigner(t), newSigner(t), newSigner(t), newSigner(t)
	text := strings.Join([]string{
		"# a comment",
		"",
		pubLine(a) + " alice@laptop",
		"   " + pubLine(b) + "   ", // spaces around, no comment
		`restrict,command="rootctl status" ` + pubLine(c) + " monitor",
		"no-port-forwarding,no-agent-forwarding,no-X11-forwarding " + pubLine(d) + " bob",
		"ssh-ed25519 notbase64 broken",                      // line 7: bad
		`from="10.0.0.0/8" ` + pubLine(newSigner(t)) + " x", // line 8: an option sshd cannot enforce
		`restrict,pty ` + pubLine(newSigner(t)) + " tty",    // line 9
		"garbage", // line 10
	}, "\n")
	keys, errs := ParseAuthorizedKeys([]byte(text), "/cfg/authorized_keys")
	if len(keys) != 5 {
		t.Fatalf("got %d keys, want 5: %+v", len(keys), keys)
	}
	want := []struct {
		signer  ssh.Signer
		comment string
		line    int
		command string
		noPTY   bool
	}{
		{a, "alice@laptop", 3, "", false},
		{b, "", 4, "", false},
		{c, "monitor", 5, "rootctl status", true},
		{d, "bob", 6, "", false},
		{nil, "tty", 9, "", false},
	}
	for i, w := range want {
		k := keys[i]
		if w.signer != nil && string(k.Key.Marshal()) != string(w.signer.PublicKey().Marshal()) {
			t.Errorf("key %d is not the one of its line", i)
		}
		if k.Comment != w.comment || k.Command != w.command || k.NoPTY != w.noPTY ||
			k.Source != "/cfg/authorized_keys:"+strconv.Itoa(w.line) {
			t.Errorf("key %d = {comment %q command %q noPTY %v source %s}, want %+v", i, k.Comment, k.Command, k.NoPTY, k.Source, w)
		}
	}
	if len(errs) != 3 {
		t.Fatalf("got %d errors, want 3: %v", len(errs), errs)
	}
	for i, w := range []string{"/cfg/authorized_keys:7: not a public key", `/cfg/authorized_keys:8: option "from=\"10.0.0.0/8\"" is not supported`, "/cfg/authorized_keys:10: "} {
		if !strings.HasPrefix(errs[i].Error(), w) || !strings.HasSuffix(errs[i].Error(), "line skipped") {
			t.Errorf("error %d = %q, want it to start with %q and end with \"line skipped\"", i, errs[i], w)
		}
	}
}

func TestSources(t *testing.T) {
	dir := t.TempDir()
	cfg, env := filepath.Join(dir, "cfg"), filepath.Join(dir, "env")
	os.MkdirAll(filepath.Join(cfg, "gnot"), 0o755)
	os.MkdirAll(env, 0o755)
	a, b, c := newSigner(t), newSigner(t), newSigner(t)
	s := Sources{CfgDir: cfg, EnvDir: env}

	keys, errs := s.Load()
	if len(keys) != 0 || len(errs) != 0 {
		t.Fatalf("no files: got %v, %v", keys, errs)
	}
	os.WriteFile(filepath.Join(cfg, "authorized_keys"), []byte(pubLine(a)+" a\n"), 0o644)
	os.WriteFile(filepath.Join(cfg, "gnot", "authorized_keys"), []byte(pubLine(b)+" b\n"), 0o644)
	os.WriteFile(filepath.Join(env, "ants.sshkey"), []byte(pubLine(c)+" c"), 0o644)

	// Without sysname, /cfg/gnot/ is not looked at.
	keys, _ = s.Load()
	if got := comments(keys); got != "a c" {
		t.Errorf("without sysname: keys %q, want \"a c\"", got)
	}
	os.WriteFile(filepath.Join(env, "sysname"), []byte("gnot"), 0o644)
	keys, errs = s.Load()
	if got := comments(keys); got != "a b c" || len(errs) != 0 {
		t.Errorf("sysname=gnot: keys %q, errors %v; want \"a b c\"", got, errs)
	}
	if keys[2].Source != "ants.sshkey" || keys[1].Source != filepath.Join(cfg, "gnot", "authorized_keys")+":1" {
		t.Errorf("sources: %q, %q", keys[1].Source, keys[2].Source)
	}
	if p := s.Paths(); len(p) != 2 || p[1] != filepath.Join(cfg, "gnot", "authorized_keys") {
		t.Errorf("Paths = %v", p)
	}
	// A sysname that climbs out of /cfg is not followed.
	os.WriteFile(filepath.Join(env, "sysname"), []byte("../x"), 0o644)
	if keys, _ = s.Load(); comments(keys) != "a c" {
		t.Errorf("sysname=../x: keys %q", comments(keys))
	}
	// A bad ants.sshkey is an error that says how to write one; the files still count.
	os.WriteFile(filepath.Join(env, "ants.sshkey"), []byte("ssh-ed25519"), 0o644)
	keys, errs = s.Load()
	if comments(keys) != "a" || len(errs) != 1 || !strings.Contains(errs[0].Error(), `ants.sshkey="ssh-ed25519 AAAA... me@host"`) {
		t.Errorf("bad ants.sshkey: keys %q, errors %v", comments(keys), errs)
	}
	// Found by key, not by comment.
	if _, ok := find(keys, a.PublicKey()); !ok {
		t.Errorf("find: key a not found")
	}
	if _, ok := find(keys, b.PublicKey()); ok {
		t.Errorf("find: key b found though its file is not read")
	}
}

func comments(keys []AuthorizedKey) string {
	var c []string
	for _, k := range keys {
		c = append(c, k.Comment)
	}
	return strings.Join(c, " ")
}
