package bootvar

import (
	"strings"
	"testing"
)

func TestParseListen(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"22", ":22", ""},
		{"2222", ":2222", ""},
		{"10.0.2.15:22", "10.0.2.15:22", ""},
		{"[::1]:22", "[::1]:22", ""},
		{":22", ":22", ""},
		{"0", "", "not a number from 1 to 65535"},
		{"65536", "", "not a number from 1 to 65535"},
		{"ssh", "", `the port "ssh"`},
		{"", "", "not a number"},
		{"host.example:22", "", "not an IP address"},
		{"::1:22", "", "not [ADDR:]PORT"},
		{"10.0.2.15:", "", "not a number"},
	} {
		got, err := ParseListen(c.in)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("ParseListen(%q): %v", c.in, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ParseListen(%q) = %q, %v; want an error with %q", c.in, got, err, c.err)
		case c.err == "" && got != c.want:
			t.Errorf("ParseListen(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

const edKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEbd2BdMNhu1AQfCnVX+jOfWcQyrw3GopSh14+snqniX"

func TestSSHVarsValidate(t *testing.T) {
	for _, c := range []struct {
		name, v string
		ok      bool
	}{
		{"ants.sshd", "22", true},
		{"ants.sshd", "127.0.0.1:2222", true},
		{"ants.sshd", "yes", false},
		{"ants.sshkey", edKey, true},
		{"ants.sshkey", edKey + " me@host", true},
		{"ants.sshkey", "restrict " + edKey + " me@host", true},
		{"ants.sshkey", "ssh-ed25519", false},                            // the rest cut off by an unquoted space
		{"ants.sshkey", "AAAAC3NzaC1lZDI1NTE5", false},                   // the type cut off
		{"ants.sshkey", "ssh-rsa " + edKey[len("ssh-ed25519 "):], false}, // type and blob disagree
		{"ants.sshkey", "ssh-ed25519 !!!notbase64", false},
	} {
		err := Validate(c.name, c.v)
		if (err == nil) != c.ok {
			t.Errorf("Validate(%s, %q) = %v; want ok=%v", c.name, c.v, err, c.ok)
		}
	}
}

// The kernel command line keeps a quoted key whole, and ants env gives it back
// quoted, so that it can be pasted onto a command line again.
func TestSSHKeyOnCmdline(t *testing.T) {
	line := `console=ttyS0 ants.sshd=22 ants.sshkey="` + edKey + ` me@host" quiet`
	s, errs := Load(line)
	if len(errs) > 0 {
		t.Fatalf("Load: %s", errText(errs))
	}
	if got := s.Value("ants.sshkey"); got != edKey+" me@host" {
		t.Errorf("ants.sshkey = %q", got)
	}
	if got := s.Value("ants.sshd"); got != "22" {
		t.Errorf("ants.sshd = %q", got)
	}
	words := strings.Join(s.CmdlineWords(), " ")
	if !strings.Contains(words, `ants.sshkey="`+edKey+` me@host"`) {
		t.Errorf("CmdlineWords do not quote the key: %s", words)
	}
	// Unquoted, the key's words fall apart: the variable gets only its type, which
	// is refused with a message that says to quote it.
	_, errs = Load(`ants.sshkey=` + edKey + ` me@host`)
	if findErr(errs, "ants.sshkey", "double quotes") == nil {
		t.Errorf("unquoted key: want an error that says to use double quotes, got:%s", errText(errs))
	}
}
