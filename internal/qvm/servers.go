package qvm

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server is a file server on host loopback that guests reach through a NIC's guest
// forward (diod for 9P, nfs-ganesha for NFSv4). It runs in a process group of its
// own until Close.
type Server struct {
	Name string // the program: diod, ganesha.nfsd
	Port int    // on 127.0.0.1
	Log  string // its log file
	// GuestPort is the port guests dial (564 for 9P, 2049 for NFS).
	GuestPort int
	cmd       *exec.Cmd
	close     sync.Once
}

// GuestFwd is the forward that makes the server the guest's addr:GuestPort (a relay
// per connection, so a dead server never leaves QEMU holding a stale socket).
func (s *Server) GuestFwd(addr string) GuestFwd { return Relay(addr, s.GuestPort, s.Port) }

// NIC is a user network closed to everything but the server at addr.
func (s *Server) NIC(addr string) NIC {
	return NIC{Restrict: true, GuestFwds: []GuestFwd{s.GuestFwd(addr)}}
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop freezes the server (SIGSTOP): its clients hang, as on a dead network.
func (s *Server) Stop() error { return s.cmd.Process.Signal(syscall.SIGSTOP) }

// Cont lets a stopped server go on.
func (s *Server) Cont() error { return s.cmd.Process.Signal(syscall.SIGCONT) }

// Kill ends the server (SIGKILL): its clients' calls fail. Close still reaps it.
func (s *Server) Kill() error { return s.cmd.Process.Kill() }

// Close ends the server, frozen or not, and waits for it; it may be called again.
func (s *Server) Close() {
	s.close.Do(func() {
		s.cmd.Process.Signal(syscall.SIGCONT) // a frozen one (Stop) must take the kill
		s.cmd.Process.Kill()
		s.cmd.Wait()
	})
}

// CPUTime is the processor time the server has used so far, user and system
// (utime and stime of /proc/PID/stat).
func (s *Server) CPUTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.PID()))
	if err != nil {
		return 0, err
	}
	return statCPU(string(b))
}

// clockTick is USER_HZ, the unit of /proc/PID/stat's times: 100 on every Linux
// architecture this runs on (sysconf(_SC_CLK_TCK)).
const clockTick = 100

// statCPU reads utime+stime (fields 14 and 15) from a /proc/PID/stat line. The
// command name (field 2) is in parentheses and may hold spaces: fields are counted
// after its last ')'.
func statCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("qvm: /proc/PID/stat without a command name")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("qvm: /proc/PID/stat has %d fields", len(f)+2)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("qvm: /proc/PID/stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTick, nil
}

// FreePort is a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start starts the server's command in a process group of its own and waits up to
// wait for it to listen on its port; on failure the server is gone and the error
// holds its log's last lines.
func (s *Server) start(wait time.Duration) error {
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.Name, err)
	}
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port)); err == nil {
			c.Close()
			return nil
		}
	}
	s.Close()
	b, _ := os.ReadFile(s.Log)
	return fmt.Errorf("%s did not listen on 127.0.0.1:%d within %v; log %s:\n%s", s.Name, s.Port, wait, s.Log, lastLines(string(b), 15))
}

// Diod is a 9P2000.L server (Debian's diod) on host loopback exporting a directory.
type Diod struct {
	Server
	Export string
}

// StartDiod serves dir on 127.0.0.1 (a free port), with its log in work. diod runs
// as root here so the root's files keep their owners.
func StartDiod(dir, work string) (*Diod, error) {
	if _, err := exec.LookPath("diod"); err != nil {
		if _, err := os.Stat("/usr/sbin/diod"); err != nil {
			return nil, errors.New("diod is not installed (apt-get install diod)")
		}
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	d := &Diod{Server: Server{Name: "diod", Port: port, GuestPort: 564, Log: filepath.Join(work, "diod.log")}, Export: dir}
	d.cmd = exec.Command("diod", diodArgs(port, dir, d.Log)...)
	d.cmd.Env = append(os.Environ(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	if err := d.start(5 * time.Second); err != nil {
		return nil, err
	}
	return d, nil
}

// diodArgs: foreground, no auth, on loopback. Not -N: the Linux client attaches
// first as "nobody" with no uid, which -N refuses.
func diodArgs(port int, dir, log string) []string {
	return []string{"-f", "-n", "-l", fmt.Sprintf("127.0.0.1:%d", port), "-e", dir, "-L", log, "-c", "/dev/null"}
}

// Ganesha is an NFSv4 server (Debian's nfs-ganesha with its VFS backend) on host
// loopback exporting a directory as the pseudo path /export. It needs no rpcbind
// and no systemd: NFSv4 is one TCP port.
type Ganesha struct {
	Server
	Export string // the directory served
	Pseudo string // the path clients mount: /export
}

// StartGanesha serves dir on 127.0.0.1 (a free port), with its configuration, log
// and recovery directory in work; it runs as root, with root squashing off, so the
// root's files keep their owners.
func StartGanesha(dir, work string) (*Ganesha, error) {
	bin, err := exec.LookPath("ganesha.nfsd")
	if err != nil {
		return nil, errors.New("nfs-ganesha is not installed (apt-get install nfs-ganesha nfs-ganesha-vfs)")
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	g := &Ganesha{Server: Server{Name: "ganesha.nfsd", Port: port, GuestPort: 2049, Log: filepath.Join(work, "ganesha.log")}, Export: dir, Pseudo: "/export"}
	recovery := filepath.Join(work, "recovery")
	if err := os.MkdirAll(recovery, 0o755); err != nil {
		return nil, err
	}
	conf := filepath.Join(work, "ganesha.conf")
	if err := os.WriteFile(conf, []byte(ganeshaConfig(port, recovery, dir, g.Pseudo)), 0o644); err != nil {
		return nil, err
	}
	g.cmd = exec.Command(bin, "-F", "-f", conf, "-L", g.Log, "-p", filepath.Join(work, "ganesha.pid"))
	// It takes a few seconds to listen.
	if err := g.start(30 * time.Second); err != nil {
		return nil, err
	}
	return g, nil
}

// ganeshaConfig is NFSv4 only on 127.0.0.1:port (no NLM, no rquota, so no rpcbind),
// without a grace period, one export of dir as pseudo.
func ganeshaConfig(port int, recovery, dir, pseudo string) string {
	return fmt.Sprintf(`NFS_CORE_PARAM { Protocols = 4; NFS_Port = %d; Bind_addr = 127.0.0.1; Enable_NLM = false; Enable_RQUOTA = false; }
NFSv4 { Graceless = true; RecoveryRoot = %s; }
EXPORT { Export_Id = 1; Path = %s; Pseudo = %s; Access_Type = RW; Squash = No_Root_Squash; SecType = sys; Protocols = 4; Transports = TCP; FSAL { Name = VFS; } }
LOG { Default_Log_Level = WARN; }
`, port, recovery, dir, pseudo)
}
