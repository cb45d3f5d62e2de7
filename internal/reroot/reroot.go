// Package reroot is the reroot command (ANTS' rerootwin): it runs a shell, or one
// command, inside the running root system's mount, PID, UTS and cgroup namespaces,
// so the admin can look at the root from the inside and come back with exit.
//
// The command never gets the admin's own file descriptors: a process of the root
// could read or inject into them through /proc/PID/fd. On a terminal it gets a
// fresh pty, opened in the admin namespace before joining the root's, as its
// controlling terminal; reroot relays between it and the admin's terminal (raw
// while the command runs, window size kept in step). Otherwise (a pipe, a file)
// it gets pipes that reroot relays.
package reroot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/guard"
	"github.com/ants/ants/internal/nsjoin"
	"github.com/ants/ants/internal/rootctl"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// Paths are the files reroot reads.
type Paths struct {
	PidFile      string // the pid of the root's init, while it runs (PID 1 writes it)
	RootPrivFile string // ants.rootpriv: "full" when the root is not contained
}

// Default are the paths of the admin namespace.
var Default = Paths{PidFile: rootctl.RootPidFile, RootPrivFile: "/env/ants.rootpriv"}

const usage = `usage: reroot [CMD [ARG ...]]
  runs CMD (default: the root's /bin/sh -l) inside the running root system's
  mount, PID, UTS and cgroup namespaces, on a new terminal relayed to this one
  (or on pipes when stdin is not a terminal); exit comes back`

// drain is how long output is still relayed after the command exits, for what
// its leftovers write before the pty or pipes are closed on them.
const drain = time.Second

// Main runs reroot on the machine's paths and returns its exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Default.Main(args, stdin, stdout, stderr)
}

// Main runs reroot and returns its exit status.
func (p Paths) Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stdout, usage)
		return 0
	}

	b, err := os.ReadFile(p.PidFile)
	if err != nil {
		fmt.Fprintf(stderr, "reroot: no root system is running (%v); rootctl status\n", err)
		return 1
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		fmt.Fprintf(stderr, "reroot: %s: %q is not a pid\n", p.PidFile, b)
		return 1
	}
	fds, err := nsjoin.Open(pid, "mnt", "pid", "uts", "cgroup")
	if err != nil {
		fmt.Fprintf(stderr, "reroot: %v; is the root running? rootctl status\n", err)
		return 1
	}
	defer nsjoin.Close(fds)
	if len(args) == 0 {
		args = []string{"/bin/sh", "-l"}
	}
	// Started from the thread that joined: the child is in the root's
	// namespaces, PID namespace included (setns of a PID namespace applies to
	// children).
	// The command is no more than the root's own processes: the root's cgroup
	// parent (root-N, with its limits and device filter), and for a contained
	// root its bounding set. A command with the admin's whole bounding set would
	// be a way out for the root, which may ptrace it (it is in the root's PID
	// namespace).
	full := false
	if b, err := os.ReadFile(p.RootPrivFile); err == nil && strings.TrimSpace(string(b)) == "full" {
		full = true
	}
	start := func(cmd *exec.Cmd) error {
		return nsjoin.Do(fds, func() error {
			lookPath(cmd, args[0], rootPath)
			if !full {
				// The bounding set is a thread's: this one, which joined the root's
				// namespaces and dies with the goroutine, passes the reduced set to
				// the child it forks.
				if err := guard.DropBounding(guard.DroppedCaps); err != nil {
					return err
				}
			}
			return cmd.Start()
		})
	}
	// The cgroup is set from here, once the child exists: a clone into a cgroup
	// (CLONE_INTO_CGROUP) from the joined thread fails, since root-N/reroot is
	// outside the root's cgroup namespace (ENOENT). The child gets it before it
	// can do much: its bounding set is the root's from the start.
	placed := func(child int) {
		if dir := rootCgroup(pid); dir != "" {
			os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(child)), 0)
		}
	}
	return run(args, stdin, stdout, stderr, func(cmd *exec.Cmd) error {
		if err := start(cmd); err != nil {
			return err
		}
		placed(cmd.Process.Pid)
		return nil
	})
}

// rootPath is the PATH of the command in the root.
const rootPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// lookPath sets cmd's program to name as found in path, in the calling
// thread's mount namespace: exec.Command looked name up in the admin's.
func lookPath(cmd *exec.Cmd, name, path string) {
	cmd.Path, cmd.Err = name, nil
	if strings.Contains(name, "/") {
		return
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			cmd.Path = p
			return
		}
	}
	cmd.Err = fmt.Errorf("%s: not found in the root (PATH=%s)", name, path)
}

// run runs args with start (which puts the child in the root's namespaces) on a
// relayed pty or relayed pipes, and returns its exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, start func(*exec.Cmd) error) int {
	// Nothing reroot inherited goes on to the command: Go passes only fds 0-2,
	// but an fd inherited without close-on-exec would pass as well.
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = "/"
	termName := os.Getenv("TERM")
	if termName == "" {
		termName = "vt100"
	}
	cmd.Env = []string{"PATH=" + rootPath, "HOME=/root", "TERM=" + termName}
	// A session of its own: without a controlling terminal of ours, an open of
	// /dev/tty in the root cannot reach the admin's terminal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// Non-*os.File readers and writers make exec.Cmd create pipes and copy
	// (relay) through them; WaitDelay bounds the wait for that copying once
	// the command has exited (a leftover process may hold a pipe).
	if stdin != nil {
		cmd.Stdin = reader{stdin}
	}
	cmd.Stdout, cmd.Stderr = writer{stdout}, writer{stderr}
	cmd.WaitDelay = drain

	in, inTTY := stdin.(*os.File)
	inTTY = inTTY && term.IsTerminal(int(in.Fd()))
	var p *ptyRelay
	if inTTY {
		var err error
		if p, err = newPtyRelay(in, cmd, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "reroot: %v\n", err)
			return 1
		}
		defer p.close()
	}

	// A job-control shell on the admin's terminal may take its foreground for
	// its own process group; make sure ours has it back afterwards.
	fg, fgErr := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	defer func() {
		if fgErr == nil {
			signal.Ignore(syscall.SIGTTOU)
			unix.IoctlSetPointerInt(0, unix.TIOCSPGRP, fg)
		}
	}()

	// The command is in a session of its own: the admin terminal's signals
	// reach reroot only, and are passed on.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	if err := start(cmd); err != nil {
		fmt.Fprintf(stderr, "reroot: %v\n", err)
		return 1
	}
	// The admin side's OOM score (-1000, from PID 1) is not the root's: the
	// command is taken like the root's own processes. (This goroutine is back in
	// the admin's mount namespace, whose /proc has the pid.)
	os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", cmd.Process.Pid), []byte("0"), 0)
	if p != nil {
		p.started()
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	if p != nil {
		p.finish()
	}
	return status(err, stderr)
}

// status is the exit status for cmd.Wait's error: the command's own, 128+N if
// signal N killed it (as sh reports it).
func status(err error, stderr io.Writer) int {
	var ee *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay):
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	fmt.Fprintf(stderr, "reroot: %v\n", err)
	return 1
}

// reader and writer hide an *os.File from exec.Cmd, so that it relays.
type reader struct{ io.Reader }
type writer struct{ io.Writer }

// ptyRelay is a pty between the admin's terminal and the command.
type ptyRelay struct {
	tty            *os.File // the admin's terminal (stdin)
	master, slave  *os.File
	saved          *term.State
	stop, stopped  *os.File // a pipe that ends the input relay
	inDone, outEnd chan struct{}
	winch          chan os.Signal
	out            io.Writer
}

// newPtyRelay opens a pty in the current (admin) namespace, before any join, so
// that its slave's path is never looked up in the root, and makes it the
// command's controlling terminal and each of its stdin, stdout and stderr that
// is a terminal here.
func newPtyRelay(tty *os.File, cmd *exec.Cmd, stdout, stderr io.Writer) (*ptyRelay, error) {
	master, slave, err := console.OpenPTY()
	if err != nil {
		return nil, err
	}
	p := &ptyRelay{tty: tty, master: master, slave: slave, out: io.Discard,
		inDone: make(chan struct{}), outEnd: make(chan struct{}), winch: make(chan os.Signal, 1)}
	p.resize()
	cmd.Stdin = slave
	// What the pty shows (the command's output, the echo of keys) goes to
	// the terminal among stdout and stderr.
	if isTerminal(stderr) {
		cmd.Stderr, p.out = slave, stderr
	}
	if isTerminal(stdout) {
		cmd.Stdout, p.out = slave, stdout
	}
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0 // the child's fd 0, the slave
	return p, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// resize copies the admin terminal's window size to the pty.
func (p *ptyRelay) resize() {
	if ws, err := unix.IoctlGetWinsize(int(p.tty.Fd()), unix.TIOCGWINSZ); err == nil && ws.Row > 0 && ws.Col > 0 {
		unix.IoctlSetWinsize(int(p.master.Fd()), unix.TIOCSWINSZ, ws)
	}
}

// started runs once the command has the slave: reroot's copy is closed (so the
// master reads EIO when the command's side is all closed), the admin terminal
// goes raw, and the relays start.
func (p *ptyRelay) started() {
	p.slave.Close()
	p.slave = nil
	if st, err := term.MakeRaw(int(p.tty.Fd())); err == nil {
		p.saved = st
	}
	signal.Notify(p.winch, syscall.SIGWINCH)
	go func() {
		for range p.winch {
			p.resize()
		}
	}()
	go func() {
		io.Copy(p.out, p.master)
		close(p.outEnd)
	}()
	var err error
	if p.stopped, p.stop, err = os.Pipe(); err != nil {
		close(p.inDone)
		return
	}
	go func() {
		defer close(p.inDone)
		relayInput(int(p.tty.Fd()), int(p.stopped.Fd()), p.master)
	}()
}

// relayInput copies what the admin types (fd) to the pty until stop is
// readable (or closed). It reads only what poll says is there, so no key typed
// after the command ended is taken from the admin's shell.
func relayInput(fd, stop int, to io.Writer) {
	buf := make([]byte, 4096)
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(stop), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		if pfd[1].Revents != 0 {
			return
		}
		if pfd[0].Revents&(unix.POLLIN|unix.POLLHUP|unix.POLLERR) == 0 {
			continue
		}
		n, err := unix.Read(fd, buf)
		if n <= 0 || err != nil {
			if err == unix.EINTR || err == unix.EAGAIN {
				continue
			}
			return
		}
		if _, err := to.Write(buf[:n]); err != nil {
			return
		}
	}
}

// finish runs when the command has exited: what it wrote is relayed until the
// pty has no writer left or drain passes; then the master is closed (a process
// the command left behind on the pty gets a hangup, and a relay blocked on it
// returns) and the input relay stops.
func (p *ptyRelay) finish() {
	select {
	case <-p.outEnd:
	case <-time.After(drain):
	}
	p.master.Close()
	if p.stop != nil {
		p.stop.Close()
		<-p.inDone
	}
}

// close restores the admin's terminal and closes what is left open.
func (p *ptyRelay) close() {
	signal.Stop(p.winch)
	close(p.winch)
	if p.saved != nil {
		term.Restore(int(p.tty.Fd()), p.saved)
	}
	if p.slave != nil {
		p.slave.Close()
	}
	p.master.Close()
	if p.stopped != nil {
		p.stopped.Close()
	}
}

// rootCgroup makes root-N/reroot beside the root's init's cgroup root-N/init,
// under the root's limits and device filter, and returns it; "" if there is none.
func rootCgroup(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		p, ok := strings.CutPrefix(line, "0::")
		if !ok || !strings.HasPrefix(p, "/root-") {
			continue
		}
		dir := filepath.Join("/sys/fs/cgroup", filepath.Dir(p), "reroot")
		if !strings.HasPrefix(filepath.Base(filepath.Dir(dir)), "root-") {
			return ""
		}
		if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
			return ""
		}
		return dir
	}
	return ""
}
