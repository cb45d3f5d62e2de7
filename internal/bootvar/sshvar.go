package bootvar

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// ParseListen reads ants.sshd's [ADDR:]PORT: a port from 1 to 65535, after an IP
// address to listen on ([ADDR] for IPv6); without one, every address. It returns
// the address for net.Listen ("10.0.2.15:22", "[::1]:22", ":22").
func ParseListen(v string) (string, error) {
	host, port := "", v
	if strings.ContainsAny(v, ":[]") {
		h, p, err := net.SplitHostPort(v)
		if err != nil {
			return "", fmt.Errorf("%q is not [ADDR:]PORT (such as 22 or 10.0.2.15:22 or [::1]:22): %v", v, err)
		}
		host, port = h, p
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return "", fmt.Errorf("%q: the port %q is not a number from 1 to 65535", v, port)
	}
	if host != "" && net.ParseIP(host) == nil {
		return "", fmt.Errorf("%q: %q is not an IP address (no names: the admin side has no resolver)", v, host)
	}
	return net.JoinHostPort(host, port), nil
}

func checkListen(v string) error {
	_, err := ParseListen(v)
	return err
}

// checkSSHKey says whether v looks like one line of an authorized_keys file: some
// field is a key type followed by the base64 of a key blob of that type. sshd
// parses it fully; this is the command line's early word, without the crypto.
func checkSSHKey(v string) error {
	f := strings.Fields(v)
	for i := 0; i+1 < len(f); i++ {
		if !strings.HasPrefix(f[i], "ssh-") && !strings.HasPrefix(f[i], "ecdsa-") && !strings.HasPrefix(f[i], "sk-") {
			continue
		}
		blob, err := base64.StdEncoding.DecodeString(f[i+1])
		if err != nil || len(blob) < 4 {
			continue
		}
		n := binary.BigEndian.Uint32(blob)
		if uint64(n)+4 <= uint64(len(blob)) && string(blob[4:4+n]) == f[i] {
			return nil
		}
	}
	return fmt.Errorf("%q is not a public key as in authorized_keys (TYPE BASE64 [COMMENT], such as \"ssh-ed25519 AAAA... me@host\" in double quotes)", v)
}
