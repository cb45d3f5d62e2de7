package sshd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ants/ants/internal/bootvar"
	"golang.org/x/crypto/ssh"
)

// AuthorizedKey is one key allowed to log in, from a line of an authorized_keys file.
type AuthorizedKey struct {
	Key     ssh.PublicKey
	Comment string
	Source  string // "/cfg/authorized_keys:3", "ants.sshkey"
	// Command is the options' command="...": it runs instead of what the client asks.
	Command string
	// NoPTY is no-pty (or restrict without a later pty): no terminal is given.
	NoPTY bool
}

// Options of authorized_keys. sshd refuses a key whose options it does not know or
// cannot enforce (from=, expiry-time=, ...): taking it without them would let in
// more than its line allows. Those that only grant what sshd never gives
// (forwarding, agents, X11, user rc files) are taken and have no effect.
var harmlessOptions = map[string]bool{
	"no-port-forwarding": true, "no-agent-forwarding": true, "no-x11-forwarding": true,
	"no-user-rc": true, "port-forwarding": true, "agent-forwarding": true,
	"x11-forwarding": true, "user-rc": true, "permitopen": true, "permitlisten": true,
	"environment": true, "tunnel": true, "no-touch-required": true,
}

// ParseAuthorizedKeys reads an authorized_keys file (source names it in messages):
// one key a line, with options before it and a comment after; blank lines and
// lines starting with # are skipped. A bad line is skipped with an error that
// names its source and line number; the others are kept.
func ParseAuthorizedKeys(data []byte, source string) ([]AuthorizedKey, []error) {
	var keys []AuthorizedKey
	var errs []error
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		where := fmt.Sprintf("%s:%d", source, i+1)
		k, err := parseLine(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v; line skipped", where, err))
			continue
		}
		k.Source = where
		keys = append(keys, k)
	}
	return keys, errs
}

func parseLine(line []byte) (AuthorizedKey, error) {
	pk, comment, opts, rest, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		return AuthorizedKey{}, fmt.Errorf("not a public key (want [OPTIONS] TYPE BASE64 [COMMENT]): %v", err)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return AuthorizedKey{}, errors.New("more than one line")
	}
	if _, ok := pk.(*ssh.Certificate); ok {
		return AuthorizedKey{}, errors.New("certificates are not supported; give the plain public key")
	}
	k := AuthorizedKey{Key: pk, Comment: comment}
	for _, o := range opts {
		name, val, hasVal := strings.Cut(o, "=")
		name = strings.ToLower(name)
		switch {
		case name == "restrict" && !hasVal:
			k.NoPTY = true
		case name == "no-pty" && !hasVal:
			k.NoPTY = true
		case name == "pty" && !hasVal:
			k.NoPTY = false
		case name == "command" && hasVal:
			if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
				return AuthorizedKey{}, fmt.Errorf("option %s: the command must be in double quotes", o)
			}
			k.Command = strings.ReplaceAll(val[1:len(val)-1], `\"`, `"`)
		case harmlessOptions[name]:
		default:
			return AuthorizedKey{}, fmt.Errorf("option %q is not supported by ants' sshd (it knows restrict, no-pty, pty, command=, and the forwarding options); the key is refused rather than let in without it", o)
		}
	}
	return k, nil
}

// Sources are where the keys come from: CfgDir/authorized_keys,
// CfgDir/$sysname/authorized_keys (sysname from EnvDir), and the ants.sshkey
// variable in EnvDir (from the kernel command line). They are read at every login,
// so a key added to a file works without a restart.
type Sources struct {
	CfgDir, EnvDir string
}

// Paths lists the files that are looked at, for messages.
func (s Sources) Paths() []string {
	p := []string{filepath.Join(s.CfgDir, "authorized_keys")}
	if sn := s.sysname(); sn != "" {
		p = append(p, filepath.Join(s.CfgDir, sn, "authorized_keys"))
	} else {
		p = append(p, filepath.Join(s.CfgDir, "$sysname", "authorized_keys"))
	}
	return p
}

func (s Sources) sysname() string {
	envs, _ := bootvar.ReadEnv(s.EnvDir)
	sn := envs["sysname"]
	if sn == "" || sn == bootvar.Ask || strings.ContainsAny(sn, "/") || sn == "." || sn == ".." {
		return ""
	}
	return sn
}

// Load reads every source. A missing file is no error; an unreadable one, a bad
// line or a bad ants.sshkey is (the rest are still taken).
func (s Sources) Load() ([]AuthorizedKey, []error) {
	var keys []AuthorizedKey
	var errs []error
	files := []string{filepath.Join(s.CfgDir, "authorized_keys")}
	if sn := s.sysname(); sn != "" {
		files = append(files, filepath.Join(s.CfgDir, sn, "authorized_keys"))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		k, e := ParseAuthorizedKeys(b, f)
		keys, errs = append(keys, k...), append(errs, e...)
	}
	envs, _ := bootvar.ReadEnv(s.EnvDir)
	if v := strings.TrimSpace(envs["ants.sshkey"]); v != "" {
		k, err := parseLine([]byte(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("ants.sshkey: %v; give one key in double quotes, as ants.sshkey=\"ssh-ed25519 AAAA... me@host\"", err))
		} else {
			k.Source = "ants.sshkey"
			keys = append(keys, k)
		}
	}
	return keys, errs
}

// find returns the entry of keys that is pk.
func find(keys []AuthorizedKey, pk ssh.PublicKey) (AuthorizedKey, bool) {
	b := pk.Marshal()
	for _, k := range keys {
		if bytes.Equal(k.Key.Marshal(), b) {
			return k, true
		}
	}
	return AuthorizedKey{}, false
}
