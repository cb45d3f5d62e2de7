// Package sshd is the SSH listener of the admin namespace (ants.sshd=[ADDR:]PORT):
// public keys only, login as root, sessions in the admin shell (a pty with the
// client's window, or a command with its stdin and exit status), the sftp
// subsystem for scp and sftp, no forwarding. It runs as a process of its own
// (`ants sshd serve`, started by the boot script 60-sshd.sh), never inside PID 1,
// and touches no file of the root system.
package sshd

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// Limits, as OpenSSH's MaxStartups, MaxAuthTries and LoginGraceTime would set them.
const (
	DefaultMaxConns         = 16
	DefaultMaxSessions      = 16
	DefaultMaxAuthTries     = 6
	DefaultHandshakeTimeout = 10 * time.Second
)

// Server serves SSH connections.
type Server struct {
	HostKey ssh.Signer
	// Keys returns the authorized keys; it is called for every login attempt.
	Keys func() ([]AuthorizedKey, []error)
	// Shell is the admin shell: Shell alone is a login shell on a pty, Shell -c CMD
	// runs a command.
	Shell string
	// Env is the environment of sessions (PATH, HOME, ...); TERM comes from the
	// client's pty request.
	Env []string
	// Dir is the sessions' working directory and sftp's.
	Dir string
	// Log, if set, gets one line per event (logins, refusals, sessions).
	Log func(format string, args ...any)
	// Changed, if set, is called when the number of connections changes.
	Changed func(conns int)

	MaxConns, MaxSessions, MaxAuthTries int
	HandshakeTimeout                    time.Duration

	conns, sessions atomic.Int32
	initOnce        sync.Once
	slots           chan struct{}
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		if s.MaxConns <= 0 {
			s.MaxConns = DefaultMaxConns
		}
		if s.MaxSessions <= 0 {
			s.MaxSessions = DefaultMaxSessions
		}
		if s.MaxAuthTries <= 0 {
			s.MaxAuthTries = DefaultMaxAuthTries
		}
		if s.HandshakeTimeout <= 0 {
			s.HandshakeTimeout = DefaultHandshakeTimeout
		}
		if s.Dir == "" {
			s.Dir = "/"
		}
		s.slots = make(chan struct{}, s.MaxConns)
	})
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log(format, args...)
	}
}

// Conns is the number of open connections (authenticated or not).
func (s *Server) Conns() int { return int(s.conns.Load()) }

func (s *Server) config() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		MaxAuthTries:  s.MaxAuthTries,
		ServerVersion: "SSH-2.0-ants",
		// No PasswordCallback and no KeyboardInteractiveCallback: those methods are
		// not offered, and a client that tries them is refused.
		PublicKeyCallback: func(meta ssh.ConnMetadata, pk ssh.PublicKey) (*ssh.Permissions, error) {
			if meta.User() != "root" {
				return nil, fmt.Errorf("user %q: only root may log in", meta.User())
			}
			keys, _ := s.Keys()
			k, ok := find(keys, pk)
			if !ok {
				return nil, fmt.Errorf("key %s is not authorized", Fingerprint(pk))
			}
			p := &ssh.Permissions{Extensions: map[string]string{"fp": Fingerprint(pk), "source": k.Source}}
			if k.Command != "" {
				p.Extensions["command"] = k.Command
			}
			if k.NoPTY {
				p.Extensions["no-pty"] = "1"
			}
			return p, nil
		},
		AuthLogCallback: func(meta ssh.ConnMetadata, method string, err error) {
			if err != nil && method != "none" {
				s.logf("%s: %s for %q refused: %v", meta.RemoteAddr(), method, meta.User(), err)
			}
		},
	}
	cfg.AddHostKey(s.HostKey)
	return cfg
}

// Serve accepts connections on l until it fails (l closed).
func (s *Server) Serve(l net.Listener) error {
	s.init()
	cfg := s.config()
	for {
		c, err := l.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			return err
		}
		select {
		case s.slots <- struct{}{}:
		default:
			s.logf("%s: refused: %d connections already (the limit)", c.RemoteAddr(), s.MaxConns)
			c.Close()
			continue
		}
		go func() {
			defer func() { <-s.slots }()
			s.ServeConn(c, cfg)
		}()
	}
}

// ServeConn runs one connection to its end; cfg nil makes one.
func (s *Server) ServeConn(c net.Conn, cfg *ssh.ServerConfig) {
	s.init()
	if cfg == nil {
		cfg = s.config()
	}
	defer c.Close()
	if s.Changed != nil {
		s.Changed(int(s.conns.Add(1)))
		defer func() { s.Changed(int(s.conns.Add(-1))) }()
	} else {
		s.conns.Add(1)
		defer s.conns.Add(-1)
	}
	// A client that neither authenticates nor leaves gets HandshakeTimeout.
	c.SetDeadline(time.Now().Add(s.HandshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			s.logf("%s: no login: %v", c.RemoteAddr(), err)
		}
		return
	}
	c.SetDeadline(time.Time{})
	defer sc.Close()
	s.logf("%s: root logged in with key %s (%s)", sc.RemoteAddr(), sc.Permissions.Extensions["fp"], sc.Permissions.Extensions["source"])
	go func() {
		// tcpip-forward, cancel-tcpip-forward, keepalives: all refused.
		for r := range reqs {
			if r.Type == "tcpip-forward" || r.Type == "streamlocal-forward@openssh.com" {
				s.logf("%s: %s refused: no forwarding", sc.RemoteAddr(), r.Type)
			}
			if r.WantReply {
				r.Reply(false, nil)
			}
		}
	}()
	var wg sync.WaitGroup
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
		case "direct-tcpip", "direct-streamlocal@openssh.com", "forwarded-tcpip":
			s.logf("%s: %s channel refused: no forwarding", sc.RemoteAddr(), nc.ChannelType())
			nc.Reject(ssh.Prohibited, "ants' sshd does no forwarding")
			continue
		default:
			nc.Reject(ssh.UnknownChannelType, "unknown channel type "+nc.ChannelType())
			continue
		}
		if n := s.sessions.Add(1); int(n) > s.MaxSessions {
			s.sessions.Add(-1)
			s.logf("%s: session refused: %d sessions already (the limit)", sc.RemoteAddr(), s.MaxSessions)
			nc.Reject(ssh.ResourceShortage, fmt.Sprintf("%d sessions already, the limit", s.MaxSessions))
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			s.sessions.Add(-1)
			continue
		}
		ss := &session{srv: s, conn: sc, ch: ch, term: "dumb"}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.sessions.Add(-1)
			ss.serve(creqs)
		}()
	}
	wg.Wait()
	s.logf("%s: connection closed", sc.RemoteAddr())
}

// session is one session channel: requests until shell, exec or subsystem, then
// the program.
type session struct {
	srv  *Server
	conn *ssh.ServerConn
	ch   ssh.Channel

	mu      sync.Mutex
	term    string
	env     []string
	pty     bool
	win     winsize
	master  *os.File
	proc    *os.Process
	started bool
	done    chan struct{} // closed when the program has ended
}

type winsize struct{ Cols, Rows, Width, Height uint32 }

type ptyReq struct {
	Term  string
	Cols  uint32
	Rows  uint32
	Width uint32
	High  uint32
	Modes string
}

func (ss *session) serve(reqs <-chan *ssh.Request) {
	for r := range reqs {
		ok := ss.request(r)
		if r.WantReply {
			r.Reply(ok, nil)
		}
	}
	// The client closed the channel or the connection is gone: end the program.
	ss.mu.Lock()
	done := ss.done
	ss.mu.Unlock()
	if done != nil {
		ss.hangup(done)
	}
	ss.ch.Close()
}

func (ss *session) request(r *ssh.Request) bool {
	ext := ss.conn.Permissions.Extensions
	switch r.Type {
	case "pty-req":
		var p ptyReq
		if err := ssh.Unmarshal(r.Payload, &p); err != nil {
			return false
		}
		if ext["no-pty"] != "" {
			ss.srv.logf("%s: pty refused: the key's line says no-pty", ss.conn.RemoteAddr())
			return false
		}
		ss.mu.Lock()
		defer ss.mu.Unlock()
		if ss.started {
			return false
		}
		ss.pty, ss.win = true, winsize{p.Cols, p.Rows, p.Width, p.High}
		if p.Term != "" {
			ss.term = p.Term
		}
		return true
	case "window-change":
		var w winsize
		if err := ssh.Unmarshal(r.Payload, &w); err != nil {
			return false
		}
		ss.mu.Lock()
		defer ss.mu.Unlock()
		ss.win = w
		if ss.master != nil {
			setWinsize(ss.master, w)
		}
		return true
	case "env":
		var e struct{ Name, Value string }
		if err := ssh.Unmarshal(r.Payload, &e); err != nil {
			return false
		}
		// As OpenSSH's AcceptEnv LANG LC_*: a client must not set PATH or LD_*.
		if e.Name != "LANG" && !strings.HasPrefix(e.Name, "LC_") {
			return false
		}
		ss.mu.Lock()
		ss.env = append(ss.env, e.Name+"="+e.Value)
		ss.mu.Unlock()
		return true
	case "signal":
		var sg struct{ Name string }
		if err := ssh.Unmarshal(r.Payload, &sg); err != nil {
			return false
		}
		sig, ok := signals[sg.Name]
		ss.mu.Lock()
		p := ss.proc
		ss.mu.Unlock()
		if !ok || p == nil {
			return false
		}
		return p.Signal(sig) == nil
	case "shell", "exec":
		var cmd string
		if r.Type == "exec" {
			var e struct{ Command string }
			if err := ssh.Unmarshal(r.Payload, &e); err != nil {
				return false
			}
			cmd = e.Command
		}
		return ss.start(r.Type, cmd)
	case "subsystem":
		var e struct{ Name string }
		if err := ssh.Unmarshal(r.Payload, &e); err != nil || e.Name != "sftp" {
			return false
		}
		if ext["command"] != "" {
			return ss.start("exec", "sftp")
		}
		return ss.startSFTP()
	}
	// x11-req, auth-agent-req@openssh.com and the rest: refused.
	return false
}

var signals = map[string]syscall.Signal{
	"ABRT": unix.SIGABRT, "ALRM": unix.SIGALRM, "FPE": unix.SIGFPE, "HUP": unix.SIGHUP,
	"ILL": unix.SIGILL, "INT": unix.SIGINT, "KILL": unix.SIGKILL, "PIPE": unix.SIGPIPE,
	"QUIT": unix.SIGQUIT, "SEGV": unix.SIGSEGV, "TERM": unix.SIGTERM, "USR1": unix.SIGUSR1,
	"USR2": unix.SIGUSR2,
}

func signalName(sig syscall.Signal) string {
	for n, s := range signals {
		if s == sig {
			return n
		}
	}
	return fmt.Sprintf("SIG%d", int(sig))
}

func (ss *session) startSFTP() bool {
	ss.mu.Lock()
	if ss.started {
		ss.mu.Unlock()
		return false
	}
	ss.started = true
	ss.mu.Unlock()
	ss.srv.logf("%s: sftp session", ss.conn.RemoteAddr())
	// sftp's Close would close the channel before the exit status is sent, which
	// OpenSSH's scp reports as a failure (status -1).
	srv, err := sftp.NewServer(keepOpen{ss.ch}, sftp.WithServerWorkingDirectory(ss.srv.Dir))
	if err != nil {
		return false
	}
	go func() {
		err := srv.Serve()
		srv.Close()
		status := 0
		if err != nil && !errors.Is(err, io.EOF) {
			status = 1
		}
		ss.exit(status)
	}()
	return true
}

// keepOpen is a channel whose Close leaves it open (exit closes it).
type keepOpen struct{ ssh.Channel }

func (keepOpen) Close() error { return nil }

// start runs the shell (what "" ) or a command in it.
func (ss *session) start(what, command string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.started {
		return false
	}
	ext := ss.conn.Permissions.Extensions
	env := append([]string{}, ss.srv.Env...)
	env = append(env, ss.env...)
	env = append(env, "TERM="+ss.term, "SSH_CONNECTION="+connString(ss.conn))
	if forced := ext["command"]; forced != "" {
		if what == "exec" {
			env = append(env, "SSH_ORIGINAL_COMMAND="+command)
		}
		what, command = "exec", forced
	}
	args := []string{ss.srv.Shell}
	if what == "exec" {
		args = append(args, "-c", command)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	cmd.Dir = ss.srv.Dir
	var err error
	var copies sync.WaitGroup
	if ss.pty {
		err = ss.startPTY(cmd, &copies)
	} else {
		err = ss.startPipes(cmd, &copies)
	}
	if err != nil {
		ss.srv.logf("%s: cannot start %s: %v", ss.conn.RemoteAddr(), args[0], err)
		return false
	}
	ss.started, ss.proc, ss.done = true, cmd.Process, make(chan struct{})
	if what == "exec" {
		ss.srv.logf("%s: command %q, pid %d", ss.conn.RemoteAddr(), command, cmd.Process.Pid)
	} else {
		ss.srv.logf("%s: shell on a pty=%v, pid %d", ss.conn.RemoteAddr(), ss.pty, cmd.Process.Pid)
	}
	go ss.wait(cmd, &copies)
	return true
}

func connString(c *ssh.ServerConn) string {
	split := func(a net.Addr) string {
		h, p, err := net.SplitHostPort(a.String())
		if err != nil {
			return a.String() + " 0"
		}
		return h + " " + p
	}
	return split(c.RemoteAddr()) + " " + split(c.LocalAddr())
}

// startPipes gives the program pipes: stdin from the channel (not waited for: a
// client need not close its stdin), stdout and stderr to it (waited for, as
// OpenSSH does).
func (ss *session) startPipes(cmd *exec.Cmd, copies *sync.WaitGroup) error {
	inR, inW, err := os.Pipe()
	if err != nil {
		return err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		return err
	}
	go func() {
		io.Copy(inW, ss.ch)
		inW.Close()
	}()
	copies.Add(2)
	go func() { defer copies.Done(); io.Copy(ss.ch, outR); outR.Close() }()
	go func() { defer copies.Done(); io.Copy(ss.ch.Stderr(), errR); errR.Close() }()
	return nil
}

// startPTY gives the program a new pty as its controlling terminal, with the
// client's window size.
func (ss *session) startPTY(cmd *exec.Cmd, copies *sync.WaitGroup) error {
	master, slave, err := openPTY()
	if err != nil {
		return err
	}
	setWinsize(master, ss.win)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Start()
	slave.Close()
	if err != nil {
		master.Close()
		return err
	}
	ss.master = master
	go io.Copy(master, ss.ch)
	copies.Add(1)
	go func() {
		defer copies.Done()
		// Ends with EIO once no process has the slave open (or at the deadline
		// wait sets).
		io.Copy(ss.ch, master)
	}()
	return nil
}

// wait waits for the program, lets its output drain, then sends its exit status
// and closes the channel.
func (ss *session) wait(cmd *exec.Cmd, copies *sync.WaitGroup) {
	err := cmd.Wait()
	ss.mu.Lock()
	master := ss.master
	ss.mu.Unlock()
	if master != nil {
		// What the program wrote last is still in the pty; a process it left
		// behind may hold the slave for ever, so drain for a moment only.
		drained := make(chan struct{})
		go func() { copies.Wait(); close(drained) }()
		select {
		case <-drained:
		case <-time.After(500 * time.Millisecond):
			master.SetReadDeadline(time.Now())
		}
	}
	copies.Wait()
	if master != nil {
		master.Close()
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		ss.exit(0)
	case errors.As(err, &ee):
		ws, _ := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			ss.srv.logf("%s: pid %d killed by %v", ss.conn.RemoteAddr(), cmd.Process.Pid, ws.Signal())
			ss.exitSignal(ws.Signal())
		} else {
			ss.exit(ws.ExitStatus())
		}
	default:
		ss.exit(255)
	}
	ss.mu.Lock()
	close(ss.done)
	ss.mu.Unlock()
}

func (ss *session) exit(status int) {
	ss.ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
	ss.ch.CloseWrite()
	ss.ch.Close()
}

func (ss *session) exitSignal(sig syscall.Signal) {
	ss.ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
		Signal     string
		CoreDumped bool
		Message    string
		Lang       string
	}{signalName(sig), false, sig.String(), ""}))
	ss.ch.CloseWrite()
	ss.ch.Close()
}

// hangup ends a program whose client went away: SIGHUP to its process group (it
// leads a session of its own), SIGKILL if it is still there 5 s later.
func (ss *session) hangup(done chan struct{}) {
	ss.mu.Lock()
	p := ss.proc
	ss.mu.Unlock()
	if p == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	unix.Kill(-p.Pid, unix.SIGHUP)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		ss.srv.logf("%s: pid %d ignored SIGHUP for 5 s; killing it", ss.conn.RemoteAddr(), p.Pid)
		unix.Kill(-p.Pid, unix.SIGKILL)
	}
}
