// Package reroot is the reroot command (ANTS' rerootwin): it runs a shell, or one
// command, inside the running root system's mount, PID, UTS and cgroup namespaces,
// on the terminal it was started from, so the admin can look at the root from the
// inside and come back with exit.
package reroot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/ants/ants/internal/nsjoin"
	"golang.org/x/sys/unix"
)

// PidFile is where PID 1 writes the pid of the root's init while it runs.
var PidFile = "/run/ants/root.pid"

const usage = `usage: reroot [CMD [ARG ...]]
  runs CMD (default: the root's /bin/sh -l) inside the running root system's
  mount, PID, UTS and cgroup namespaces, on this terminal; exit comes back`

// Main runs reroot and returns its exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stdout, usage)
		return 0
	}
	b, err := os.ReadFile(PidFile)
	if err != nil {
		fmt.Fprintf(stderr, "reroot: no root system is running (%v); rootctl status\n", err)
		return 1
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		fmt.Fprintf(stderr, "reroot: %s: %q is not a pid\n", PidFile, b)
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
	status := 0
	// A job-control shell in the root takes the terminal's foreground for its own
	// process group; give it back to ours afterwards.
	fg, fgErr := unix.IoctlGetInt(0, unix.TIOCGPGRP)
	defer func() {
		if fgErr == nil {
			signal.Ignore(syscall.SIGTTOU)
			unix.IoctlSetPointerInt(0, unix.TIOCSPGRP, fg)
		}
	}()
	err = nsjoin.Do(fds, func() error {
		// Started from the thread that joined: the child is in the root's
		// namespaces, PID namespace included (setns of a PID namespace applies to
		// children).
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
		cmd.Dir = "/"
		term := os.Getenv("TERM")
		if term == "" {
			term = "vt100"
		}
		cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TERM=" + term}
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			status = ee.ExitCode()
			return nil
		}
		return err
	})
	if err != nil {
		fmt.Fprintf(stderr, "reroot: %v\n", err)
		return 1
	}
	return status
}
