// Package rootctl is the rootctl command: it asks PID 1, over the control socket,
// to report on, start, stop or restart the root system.
package rootctl

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Socket is PID 1's control socket.
var Socket = "/run/ants/ctl"

const usage = `usage: rootctl [status | start [NAME=VALUE ...] | stop | restart [NAME=VALUE ...]]
  status    the root system's state, source, pid and uptime
  start     start it; NAME=VALUE (venti=, root=, rootfstype=, init=, ...) change
            the boot variables first
  stop      SIGTERM to its init, SIGKILL to its PID namespace after 10 s
  restart   stop, then start (with new variables: a new root without a reboot)`

// Main runs rootctl with args and returns its exit status.
func Main(args []string, out, errw io.Writer) int {
	if len(args) == 0 {
		args = []string{"status"}
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(out, usage)
		return 0
	case "status", "start", "stop", "restart":
	default:
		fmt.Fprintf(errw, "rootctl: unknown request %q\n%s\n", args[0], usage)
		return 2
	}
	c, err := net.DialTimeout("unix", Socket, 5*time.Second)
	if err != nil {
		fmt.Fprintf(errw, "rootctl: cannot reach init at %s: %v\n", Socket, err)
		return 1
	}
	defer c.Close()
	if _, err := fmt.Fprintln(c, strings.Join(args, " ")); err != nil {
		fmt.Fprintf(errw, "rootctl: %v\n", err)
		return 1
	}
	sc := bufio.NewScanner(c)
	status := 1
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "ok":
			status = 0
		case strings.HasPrefix(line, "error: "):
			fmt.Fprintf(errw, "rootctl %s: %s\n", args[0], strings.TrimPrefix(line, "error: "))
			status = 1
		default:
			fmt.Fprintln(out, line)
		}
	}
	return status
}
