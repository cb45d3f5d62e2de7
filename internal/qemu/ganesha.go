package qemu

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Ganesha is an NFSv4 server (Debian's nfs-ganesha with its VFS backend) on host
// loopback exporting a directory as the pseudo path /export. It needs no rpcbind
// and no systemd: NFSv4 is one TCP port.
type Ganesha struct {
	Port   int
	Export string // the directory served
	Pseudo string // the path clients mount: /export
	Log    string
	cmd    *exec.Cmd
}

// StartGanesha serves dir on 127.0.0.1 (a free port) until the test ends; it runs
// as root, with root squashing off, so the root's files keep their owners.
func StartGanesha(t testing.TB, dir string) *Ganesha {
	t.Helper()
	bin, err := exec.LookPath("ganesha.nfsd")
	if err != nil {
		t.Fatalf("nfs-ganesha is not installed (apt-get install nfs-ganesha nfs-ganesha-vfs)")
	}
	port := freePort(t)
	tmp := t.TempDir()
	g := &Ganesha{Port: port, Export: dir, Pseudo: "/export", Log: filepath.Join(tmp, "ganesha.log")}
	conf := filepath.Join(tmp, "ganesha.conf")
	os.MkdirAll(filepath.Join(tmp, "recovery"), 0o755)
	err = os.WriteFile(conf, []byte(fmt.Sprintf(`NFS_CORE_PARAM { Protocols = 4; NFS_Port = %d; Bind_addr = 127.0.0.1; Enable_NLM = false; Enable_RQUOTA = false; }
NFSv4 { Graceless = true; RecoveryRoot = %s; }
EXPORT { Export_Id = 1; Path = %s; Pseudo = %s; Access_Type = RW; Squash = No_Root_Squash; SecType = sys; Protocols = 4; Transports = TCP; FSAL { Name = VFS; } }
LOG { Default_Log_Level = WARN; }
`, port, filepath.Join(tmp, "recovery"), dir, g.Pseudo)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	g.cmd = exec.Command(bin, "-F", "-f", conf, "-L", g.Log, "-p", filepath.Join(tmp, "ganesha.pid"))
	// It takes a few seconds to listen.
	startServer(t, "ganesha.nfsd", g.cmd, port, g.Log, 30*time.Second)
	return g
}

// GuestFwd is the QEMU NIC argument that gives the guest user networking, closed to
// everything but guestAddr:2049, which reaches the server on host loopback (a relay
// per connection).
func (g *Ganesha) GuestFwd(guestAddr string) []string {
	return []string{"-nic", fmt.Sprintf("user,restrict=on,guestfwd=tcp:%s:2049-cmd:busybox nc 127.0.0.1 %d", guestAddr, g.Port)}
}

// Stop freezes the server (SIGSTOP): its clients hang, as on a dead network.
func (g *Ganesha) Stop(t testing.TB) {
	t.Helper()
	if err := g.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
}
