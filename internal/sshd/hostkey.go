package sshd

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// RandomReady says whether the kernel's CRNG is ready: getrandom(2) with
// GRND_NONBLOCK gives bytes (EAGAIN before). Go's crypto/rand, which every SSH
// handshake uses, blocks until then.
func RandomReady() bool {
	var b [1]byte
	for {
		_, err := unix.Getrandom(b[:], unix.GRND_NONBLOCK)
		if err == unix.EINTR {
			continue
		}
		return err == nil
	}
}

// WaitRandom blocks until the CRNG is ready. A blocking getrandom(2) also has the
// kernel make entropy from timer jitter itself (Linux 5.4 and later), which a
// GRND_NONBLOCK poll does not.
func WaitRandom() {
	var b [1]byte
	for {
		_, err := unix.Getrandom(b[:], 0)
		if err != unix.EINTR {
			return
		}
	}
}

// LoadHostKey reads an OpenSSH (or PEM) private key without a passphrase.
func LoadHostKey(path string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ssh.ParsePrivateKey(b)
	var pp *ssh.PassphraseMissingError
	if errors.As(err, &pp) {
		return nil, fmt.Errorf("%s has a passphrase; a host key must not (ssh-keygen -p -N '' -f FILE removes it)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not a private key in OpenSSH format (make one with ssh-keygen -t ed25519 -N '' -f ssh_host_ed25519_key): %v", path, err)
	}
	return s, nil
}

// NewHostKey makes an ed25519 key, which needs the CRNG (WaitRandom first), and
// saves it at path (mode 0600, OpenSSH format) so that a restart of sshd in the
// same boot keeps it.
func NewHostKey(path, comment string) (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	blk, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, err
	}
	if path != "" {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
			return nil, fmt.Errorf("saving the host key: %v", err)
		}
	}
	return ssh.NewSignerFromKey(priv)
}

// Fingerprint is the key's SHA256 fingerprint as ssh-keygen -l prints it.
func Fingerprint(k ssh.PublicKey) string { return ssh.FingerprintSHA256(k) }
