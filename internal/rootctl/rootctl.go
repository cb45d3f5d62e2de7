// Package rootctl is the rootctl command: it asks PID 1, over the control socket,
// to report on, start, stop or restart the root system.
package rootctl

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

const usage = `usage: rootctl [status | start [NAME=VALUE ...] | stop | restart [NAME=VALUE ...]]
  status    the root system's state, source, pid and uptime
  start     start it; NAME=VALUE (venti=, root=, rootfstype=, init=, ...) change
            the boot variables first
  stop      SIGTERM to its init, SIGKILL to its PID namespace after 10 s
  restart   stop, then start (with new variables: a new root without a reboot)`

// Client is rootctl talking to PID 1 at Socket.
type Client struct {
	Socket string
	// dial, when set, connects instead of the unix socket (tests).
	dial func() (net.Conn, error)
}

// Main runs rootctl with args on the machine's socket and returns its exit status.
func Main(args []string, out, errw io.Writer) int {
	return Client{Socket: Socket}.Main(args, out, errw)
}

// Main runs rootctl with args and returns its exit status.
func (cl Client) Main(args []string, out, errw io.Writer) int {
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
	var c net.Conn
	var err error
	if cl.dial != nil {
		c, err = cl.dial()
	} else {
		c, err = net.DialTimeout("unix", cl.Socket, Timeout)
	}
	if err != nil {
		fmt.Fprintf(errw, "rootctl: cannot reach init at %s: %v\n", cl.Socket, err)
		return 1
	}
	defer c.Close()
	if _, err := fmt.Fprintln(c, strings.Join(args, " ")); err != nil {
		fmt.Fprintf(errw, "rootctl: %v\n", err)
		return 1
	}
	err = ReadReply(c, func(line string) { fmt.Fprintln(out, line) })
	var pe *Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &pe):
		fmt.Fprintf(errw, "rootctl %s: %s\n", args[0], pe.Msg)
	}
	return 1
}
