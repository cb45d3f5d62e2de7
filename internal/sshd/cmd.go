package sshd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/klog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// Paths are where sshd finds and keeps things; tests change them.
type Paths struct {
	CfgDir  string // /cfg: authorized_keys, $sysname/authorized_keys, ssh_host_ed25519_key
	EnvDir  string // /env: ants.sshd, ants.sshkey, sysname
	RunDir  string // /run/ants: sshd.status, sshd.log, the generated host key
	BootLog string // /run/ants/boot.log
	Shell   string // the admin shell
	Self    string // the binary with `ants sshd serve`
}

// Default are the paths of the admin namespace.
var Default = Paths{
	CfgDir: "/cfg", EnvDir: "/env", RunDir: "/run/ants", BootLog: "/run/ants/boot.log",
	Shell: "/bbin/antsh", Self: "/bbin/ants",
}

func (p Paths) status() string   { return filepath.Join(p.RunDir, "sshd.status") }
func (p Paths) eventLog() string { return filepath.Join(p.RunDir, "sshd.log") }
func (p Paths) cfgKey() string   { return filepath.Join(p.CfgDir, "ssh_host_ed25519_key") }
func (p Paths) madeKey() string  { return filepath.Join(p.RunDir, "ssh_host_ed25519_key") }
func (p Paths) sources() Sources { return Sources{CfgDir: p.CfgDir, EnvDir: p.EnvDir} }
func (p Paths) envVar(n string) string {
	envs, _ := bootvar.ReadEnv(p.EnvDir)
	return envs[n]
}

const usage = `usage:
  ants sshd [status]        is the SSH listener running: address, host key fingerprint, connections
  ants sshd start [[ADDR:]PORT]   start it in the background (the boot does, from ants.sshd)
  ants sshd stop            stop it (and every open session)
  ants sshd keys            the authorized keys it would take now, and the lines it skips
  ants sshd serve [[ADDR:]PORT]   run it in the foreground`

// readyFD is the descriptor on which `serve` started by `start` reports that it
// listens, waits for randomness, or failed.
const readyFD = 3

// Main is `ants sshd` (args without "sshd").
func Main(args []string, stdout, stderr io.Writer) int {
	p := Default
	cmd := "status"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "status":
		if len(args) > 0 {
			break
		}
		return p.Status(stdout)
	case "start":
		if len(args) > 1 {
			break
		}
		return p.Start(args, stdout, stderr)
	case "stop":
		if len(args) > 0 {
			break
		}
		return p.Stop(stdout, stderr)
	case "keys":
		if len(args) > 0 {
			break
		}
		return p.Keys(stdout)
	case "serve":
		if len(args) > 1 {
			break
		}
		return p.Serve(args, stdout, os.Getenv("ANTS_SSHD_READY") == "1")
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "ants sshd: bad arguments %q\n%s\n", append([]string{cmd}, args...), usage)
	return 2
}

// status is what sshd.status holds.
type status struct {
	State, Address, HostKey, Since string
	Pid, Conns                     int
}

func (p Paths) writeStatus(s status) {
	text := fmt.Sprintf("state: %s\naddress: %s\nhost key: %s\npid: %d\nsince: %s\nconnections: %d\n",
		s.State, s.Address, s.HostKey, s.Pid, s.Since, s.Conns)
	tmp := p.status() + ".new"
	if os.WriteFile(tmp, []byte(text), 0o644) == nil {
		os.Rename(tmp, p.status())
	}
}

// running returns sshd.status if the process it names is alive.
func (p Paths) running() (map[string]string, bool) {
	b, err := os.ReadFile(p.status())
	if err != nil {
		return nil, false
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			m[k] = v
		}
	}
	pid, err := strconv.Atoi(m["pid"])
	if err != nil || pid <= 0 {
		return m, false
	}
	if err := unix.Kill(pid, 0); err != nil {
		return m, false
	}
	return m, true
}

// Status prints whether sshd runs, where and with which host key; 0 if it runs.
func (p Paths) Status(out io.Writer) int {
	m, ok := p.running()
	if !ok {
		switch v := p.envVar("ants.sshd"); {
		case m != nil:
			fmt.Fprintf(out, "sshd: not running (pid %s ended; see %s)\n", m["pid"], p.eventLog())
		case v == "":
			fmt.Fprintf(out, "sshd: off (ants.sshd is not set; ants sshd start PORT starts it)\n")
		default:
			fmt.Fprintf(out, "sshd: not running, though ants.sshd=%s (see %s and %s)\n", v, p.BootLog, p.eventLog())
		}
		return 1
	}
	fmt.Fprintf(out, "sshd: %s\naddress: %s\nhost key: %s\npid: %s\nsince: %s\nconnections: %s\n",
		m["state"], m["address"], m["host key"], m["pid"], m["since"], m["connections"])
	return 0
}

// Keys prints the keys that may log in now, and the problems of the sources.
func (p Paths) Keys(out io.Writer) int {
	s := p.sources()
	keys, errs := s.Load()
	for _, k := range keys {
		extra := ""
		if k.Command != "" {
			extra += fmt.Sprintf(" command=%q", k.Command)
		}
		if k.NoPTY {
			extra += " no-pty"
		}
		fmt.Fprintf(out, "%s %s %s (%s)%s\n", k.Key.Type(), Fingerprint(k.Key), k.Comment, k.Source, extra)
	}
	for _, e := range errs {
		fmt.Fprintf(out, "skipped: %v\n", e)
	}
	if len(keys) == 0 {
		fmt.Fprintf(out, "no keys: looked in %s and ants.sshkey\n", strings.Join(s.Paths(), ", "))
		return 1
	}
	return 0
}

// Stop ends the running sshd with SIGTERM.
func (p Paths) Stop(out, errOut io.Writer) int {
	m, ok := p.running()
	if !ok {
		fmt.Fprintln(errOut, "ants sshd stop: sshd is not running")
		return 1
	}
	pid, _ := strconv.Atoi(m["pid"])
	if err := unix.Kill(pid, unix.SIGTERM); err != nil {
		fmt.Fprintf(errOut, "ants sshd stop: pid %d: %v\n", pid, err)
		return 1
	}
	for i := 0; i < 50; i++ {
		if unix.Kill(pid, 0) != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(out, "sshd: stopped (pid %d)\n", pid)
	return 0
}

// Start starts `ants sshd serve` in a session of its own and returns once it
// listens or waits for the kernel's random numbers (0), or has failed (1). Its
// messages go to the boot log, and to stdout when that is a terminal (the console
// at boot); else Start prints its first one.
func (p Paths) Start(args []string, stdout, stderr io.Writer) int {
	if m, ok := p.running(); ok {
		fmt.Fprintf(stderr, "ants sshd start: already running (pid %s, %s); ants sshd stop first\n", m["pid"], m["address"])
		return 1
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "ants sshd start: %v\n", err)
		return 1
	}
	defer r.Close()
	cmd := exec.Command(p.Self, append([]string{"sshd", "serve"}, args...)...)
	cmd.Args[0] = "ants"
	cmd.Env = append(os.Environ(), "ANTS_SSHD_READY=1")
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{w}
	console := false
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		cmd.Stdout, console = f, true
	}
	os.MkdirAll(p.RunDir, 0o755)
	if lf, err := os.OpenFile(p.eventLog(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err == nil {
		defer lf.Close()
		cmd.Stderr = lf
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		fmt.Fprintf(stderr, "ants sshd start: %s: %v\n", p.Self, err)
		return 1
	}
	w.Close()
	line, _ := readLine(r, 30*time.Second)
	if line == "" {
		fmt.Fprintf(stderr, "ants sshd start: sshd did not report in 30 s; see %s\n", p.eventLog())
		cmd.Process.Release()
		return 1
	}
	if !console {
		fmt.Fprintln(stdout, line)
	}
	if strings.HasPrefix(line, "sshd: error: ") {
		cmd.Wait()
		return 1
	}
	cmd.Process.Release()
	return 0
}

func readLine(r *os.File, timeout time.Duration) (string, error) {
	ch := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(r).ReadString('\n')
		ch <- strings.TrimSpace(l)
	}()
	select {
	case l := <-ch:
		return l, nil
	case <-time.After(timeout):
		return "", errors.New("timeout")
	}
}

// daemon is a running `serve`: its logs and the report to Start.
type daemon struct {
	p     Paths
	boot  *klog.Log // the console (if any) and boot.log
	event *klog.Log // sshd.log
	ready *os.File
}

// say logs a line to the console, boot.log and sshd.log.
func (d *daemon) say(format string, args ...any) {
	d.boot.Printf(format, args...)
	d.event.Printf(format, args...)
}

// report tells Start how it went (once), as one line.
func (d *daemon) report(format string, args ...any) {
	if d.ready == nil {
		return
	}
	d.flush()
	fmt.Fprintf(d.ready, "sshd: "+format+"\n", args...)
	d.ready.Close()
	d.ready = nil
}

func (d *daemon) fail(format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	d.say("%s", msg)
	d.flush()
	d.report("error: %s", msg)
	return 1
}

func (d *daemon) flush() {
	if q, ok := d.boot.Console.(*lineQueue); ok {
		q.flush()
	}
}

// Serve runs the listener in the foreground until SIGTERM.
func (p Paths) Serve(args []string, stdout io.Writer, reportReady bool) int {
	d := &daemon{p: p, boot: klog.New("sshd", nil), event: klog.New("sshd", nil)}
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		d.boot.Console = newLineQueue(f)
	} else if !reportReady {
		d.boot.Console = stdout
	}
	d.boot.OpenFile(p.BootLog)
	os.MkdirAll(p.RunDir, 0o755)
	d.event.OpenFile(p.eventLog())
	if reportReady {
		d.ready = os.NewFile(readyFD, "ready")
	}
	v := p.envVar("ants.sshd")
	if len(args) == 1 {
		v = args[0]
	}
	if v == "" {
		return d.fail("ants.sshd is not set: give [ADDR:]PORT, as ants sshd start 22")
	}
	addr, err := bootvar.ParseListen(v)
	if err != nil {
		return d.fail("ants.sshd: %v; not listening", err)
	}
	src := p.sources()
	keys, errs := src.Load()
	for _, e := range errs {
		d.say("authorized keys: %v", e)
	}
	if len(keys) == 0 {
		return d.fail("no authorized keys in %s or ants.sshkey: not listening (add a public key there: docs/remote.md)",
			strings.Join(src.Paths(), ", "))
	}
	var signer ssh.Signer
	from := p.cfgKey()
	if _, err := os.Stat(from); err == nil {
		if signer, err = LoadHostKey(from); err != nil {
			return d.fail("host key: %v; not listening (fix it, or remove it to have one made at boot)", err)
		}
	} else if s, err := LoadHostKey(p.madeKey()); err == nil {
		signer, from = s, p.madeKey()+", made earlier in this boot"
	}
	pid := os.Getpid()
	p.writeStatus(status{State: "starting", Address: addr, HostKey: "none yet", Pid: pid, Since: klog.Stamp(klog.Uptime())})
	if !RandomReady() {
		start := time.Now()
		what := "to make a host key"
		if signer != nil {
			what = "before listening (every handshake needs them)"
		}
		msg := fmt.Sprintf("waiting for the kernel's random numbers %s; without an rng device (virtio-rng, RDRAND) that can take minutes", what)
		d.say("%s", msg)
		p.writeStatus(status{State: "waiting for the kernel's random numbers", Address: addr, HostKey: "none yet", Pid: pid, Since: klog.Stamp(klog.Uptime())})
		d.report("%s", msg)
		WaitRandom()
		d.say("the kernel's random numbers are ready after %.1f s", time.Since(start).Seconds())
	}
	if signer == nil {
		s, err := NewHostKey(p.madeKey(), "ants host key")
		if err != nil {
			return d.fail("making a host key: %v; not listening", err)
		}
		signer, from = s, "made at boot, kept in "+p.madeKey()+" until the next"
	}
	fp := Fingerprint(signer.PublicKey())
	hostKey := fmt.Sprintf("%s %s (%s)", fp, signer.PublicKey().Type(), from)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return d.fail("%v; not listening", err)
	}
	d.say("listening on %s for root with %d authorized keys; host key %s", l.Addr(), len(keys), hostKey)
	since := klog.Stamp(klog.Uptime())
	st := status{State: "listening", Address: l.Addr().String(), HostKey: hostKey, Pid: pid, Since: since}
	p.writeStatus(st)
	d.report("listening on %s; host key %s", l.Addr(), hostKey)

	var mu sync.Mutex
	srv := &Server{
		HostKey: signer,
		Keys:    src.Load,
		Shell:   p.Shell,
		Env: []string{"PATH=/bbin:/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/", "ANTS=1",
			"USER=root", "LOGNAME=root", "SHELL=" + p.Shell},
		Log: d.event.Printf,
		Changed: func(n int) {
			mu.Lock()
			defer mu.Unlock()
			st.Conns = n
			p.writeStatus(st)
		},
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, unix.SIGTERM, unix.SIGINT, unix.SIGHUP)
	go func() {
		for s := range sig {
			if s == unix.SIGHUP {
				continue // no terminal to lose: it runs in a session of its own
			}
			d.say("%v: stopped listening on %s", s, l.Addr())
			d.flush()
			os.Remove(p.status())
			l.Close()
			os.Exit(0)
		}
	}()
	err = srv.Serve(l)
	d.say("listener: %v; stopped", err)
	d.flush()
	os.Remove(p.status())
	return 1
}

// lineQueue writes to a terminal from a goroutine of its own and drops what does
// not fit: a console whose line stalls must not stop the listener.
type lineQueue struct {
	ch chan queued
}

type queued struct {
	b    []byte
	sent chan struct{} // a flush: closed once what came before is written
}

func newLineQueue(w io.Writer) *lineQueue {
	q := &lineQueue{ch: make(chan queued, 64)}
	go func() {
		for m := range q.ch {
			if m.sent != nil {
				close(m.sent)
				continue
			}
			w.Write(m.b)
		}
	}()
	return q
}

// flush waits a moment for what is queued to be written: before sshd reports to
// ants sshd start (whose shell prints its prompt next), and before it exits.
func (q *lineQueue) flush() {
	sent := make(chan struct{})
	select {
	case q.ch <- queued{sent: sent}:
	default:
		return
	}
	select {
	case <-sent:
	case <-time.After(time.Second):
	}
}

func (q *lineQueue) Write(b []byte) (int, error) {
	select {
	case q.ch <- queued{b: append([]byte(nil), b...)}:
	default:
	}
	return len(b), nil
}
