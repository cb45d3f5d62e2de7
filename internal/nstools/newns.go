package nstools

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/nsfile"
	"golang.org/x/sys/unix"
)

// DefaultNamespace is newns's namespace file when -n is not given (if it exists).
const DefaultNamespace = "/lib/namespace"

const newnsUsage = `usage: newns [-v] [-n FILE] [CMD [ARG ...]]
  run CMD (default $SHELL, else /bin/sh) in a new mount namespace, a copy of this
  one (mounts made private/slave: nothing propagates out) changed by the namespace
  FILE (ns syntax, $var and ${var} from the environment; default /lib/namespace
  when it exists)
  -v  print each line of FILE as it is applied`

// NewnsMain is the newns command.
func NewnsMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newnsMain(DefaultNamespace, args, stdin, stdout, stderr)
}

// newnsMain is newns with defaultNS as the namespace file when -n is not given.
func newnsMain(defaultNS string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, err := getopt(args, "vh", "n", false)
	if err != nil || f.set['h'] {
		return usage(stderr, "newns", newnsUsage, err)
	}
	file := f.val['n']
	if !f.set['n'] {
		if _, err := os.Stat(defaultNS); err == nil {
			file = defaultNS
		}

	}
	var ops []nsfile.Op
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(stderr, "newns: %v\n", err)
			return 1
		}
		ops, err = nsfile.Parse(string(b), os.Getenv, false)
		if err != nil {
			fmt.Fprintf(stderr, "newns: %s: %v\n", file, err)
			return 1
		}
	}
	argv := f.args
	if len(argv) == 0 {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		argv = []string{sh}
	}
	var log io.Writer
	if f.set['v'] {
		log = stderr
	}
	status, err := Newns(ops, argv, stdin, stdout, stderr, log)
	if err != nil {
		fmt.Fprintf(stderr, "newns: %v\n", err)
		return 1
	}
	return status
}

// Newns runs argv in a new mount namespace built by applying ops to a copy of the
// caller's, and returns its exit status. The namespace is made on a locked OS thread
// that unshares its mount namespace (the rest of the process keeps its own) and
// makes every mount a slave, so that nothing done there propagates back; argv is
// started from that thread, so it inherits the namespace; the thread then dies.
// A failing line stops it (reported on stderr), and argv is not run.
func Newns(ops []nsfile.Op, argv []string, stdin io.Reader, stdout, stderr, log io.Writer) (int, error) {
	type started struct {
		cmd *exec.Cmd
		err error
	}
	ch := make(chan started, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread's namespace is not the process's.
		cmd, err := func() (*exec.Cmd, error) {
			if err := unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS); err != nil {
				return nil, fmt.Errorf("unshare: %w", err)
			}
			// Slave, not shared: the parent's new mounts still come in, ours never
			// leave.
			if err := mount.Propagate("/", unix.MS_REC|unix.MS_SLAVE); err != nil {
				return nil, err
			}
			a := &nsfile.Applier{Log: log, Mountinfo: func() ([]nsfile.Mount, error) {
				return mount.ReadInfo(mount.Self)
			}}
			if r := a.Run(ops); r.Report(stderr, "newns") {
				return nil, errors.New("namespace not built; command not run")
			}
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
			if wd, err := os.Getwd(); err == nil {
				// a cd line changed this thread's directory
				cmd.Dir = wd
			}
			return cmd, cmd.Start()
		}()
		ch <- started{cmd, err}
	}()
	s := <-ch
	if s.err != nil {
		return 1, s.err
	}
	err := s.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if st, ok := ee.Sys().(unix.WaitStatus); ok && st.Signaled() {
			return 128 + int(st.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}

const cpnsUsage = `usage: cpns [-r] [-v] FROM TO
  make the mount namespace of pid TO match that of pid FROM: unmount in TO what
  FROM lacks (newest first), then attach to TO copies of FROM's mounts that TO lacks
  -r  leave terminal and console mounts (/dev/pts, /dev/console, /dev/tty*) alone
  -v  print each change (in ns syntax)`

// CpnsMain is the cpns command.
func CpnsMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, err := getopt(args, "rvh", "", false)
	if err != nil || f.set['h'] || len(f.args) != 2 {
		return usage(stderr, "cpns", cpnsUsage, err)
	}
	var pids [2]int
	for i, a := range f.args {
		if pids[i], err = strconv.Atoi(a); err != nil || pids[i] <= 0 {
			fmt.Fprintf(stderr, "cpns: bad pid %q\n", a)
			return 2
		}
	}
	var skip func(nsfile.Mount) bool
	if f.set['r'] {
		skip = nsfile.Terminal
	}
	var log io.Writer
	if f.set['v'] {
		log = stdout
	}
	errs := nsfile.Copy(pids[0], pids[1], skip, log)
	for _, e := range errs {
		fmt.Fprintf(stderr, "cpns: %v\n", e)
	}
	if len(errs) > 0 {
		return 1
	}
	return 0
}
