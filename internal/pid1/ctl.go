package pid1

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/rootsys"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// serveCtl answers rootctl on the control socket.
func (in *Init) serveCtl() {
	os.Remove(CtlSocket)
	l, err := net.Listen("unix", CtlSocket)
	if err != nil {
		in.log.Printf("init: control socket %s: %v; rootctl will not work", CtlSocket, err)
		return
	}
	os.Chmod(CtlSocket, 0o600)
	serveConns(l, ctlMaxConns, func(c net.Conn) { in.safe("rootctl", func() { in.ctl(c) }) })
}

// Bounds of the control socket: a request is one line of at most ctlMaxLine
// bytes, sent within ctlTimeout of connecting; at most ctlMaxConns requests are
// served at once, more are answered "busy". A reply that the client does not
// take within ctlTimeout is dropped.
const (
	ctlMaxLine  = 4096
	ctlTimeout  = 5 * time.Second
	ctlMaxConns = 16
)

// serveConns accepts on l for ever and runs handle for each connection, at
// most max at a time; a connection over that gets "error: busy" and is closed.
func serveConns(l net.Listener, max int, handle func(net.Conn)) {
	slots := make(chan struct{}, max)
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		select {
		case slots <- struct{}{}:
			go func() {
				defer func() { <-slots }()
				handle(c)
			}()
		default:
			go func() {
				defer c.Close()
				c.SetWriteDeadline(time.Now().Add(ctlTimeout))
				fmt.Fprintf(c, "error: busy: %d requests already in progress; try again\n", max)
			}()
		}
	}
}

// readRequest reads one request line from c: at most max bytes, within
// timeout.
func readRequest(c net.Conn, max int, timeout time.Duration) (string, error) {
	c.SetReadDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(io.LimitReader(c, int64(max)+1)).ReadString('\n')
	if len(line) > max || (err != nil && len(line) == max) {
		return "", fmt.Errorf("request longer than %d bytes", max)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "", fmt.Errorf("no request within %v", timeout)
	}
	if err != nil && line == "" {
		return "", err
	}
	return line, nil
}

// ctl handles one rootctl request: a line "VERB [NAME=VALUE ...]"; the answer is
// text lines, the last "ok" or "error: ...".
func (in *Init) ctl(c net.Conn) {
	defer c.Close()
	reply := func(text string, err error) {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		c.SetWriteDeadline(time.Now().Add(ctlTimeout))
		if err != nil {
			fmt.Fprintf(c, "%serror: %v\n", text, err)
			return
		}
		fmt.Fprintf(c, "%sok\n", text)
	}
	line, err := readRequest(c, ctlMaxLine, ctlTimeout)
	if err == io.EOF {
		return // connected and closed: nothing asked
	}
	if err != nil {
		reply("", err)
		return
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		reply("", fmt.Errorf("empty request"))
		return
	}
	over := map[string]string{}
	for _, kv := range f[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			reply("", fmt.Errorf("%q is not NAME=VALUE", kv))
			return
		}
		if err := bootvar.Validate(k, v); err != nil {
			reply("", fmt.Errorf("%s: %v", k, err))
			return
		}
		over[k] = v
	}
	if len(over) > 0 && f[0] != "start" && f[0] != "restart" {
		reply("", fmt.Errorf("%s takes no variables", f[0]))
		return
	}
	start := func() (string, error) {
		src, err := rootsys.FromVars(rootVars(over))
		if err != nil {
			return "", err
		}
		for k, v := range over {
			bootvar.WriteVar(EnvDir, k, v)
		}
		pid, err := in.startRoot(src, true)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("started from %s, pid %d", src, pid), nil
	}
	switch f[0] {
	case "status":
		reply(in.rootStatus(), nil)
	case "stop":
		reply("", in.stopRoot(0))
	case "start":
		reply(start())
	case "restart":
		if err := in.stopRoot(0); err != nil {
			reply("", err)
			return
		}
		reply(start())
	default:
		reply("", fmt.Errorf("unknown request %q; want status, start, stop or restart", f[0]))
	}
}
