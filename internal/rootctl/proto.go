package rootctl

import (
	"github.com/ants/ants/internal/serve"

	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/ants/ants/internal/bootvar"
)

// Where PID 1 and its clients meet: PID 1 serves Socket and writes RootPidFile and
// BootLog; rootctl, reroot and the boot runner read them.
const (
	// Socket is PID 1's control socket.
	Socket = "/run/ants/ctl"
	// RootPidFile holds the pid of the root's init while it runs (for reroot).
	RootPidFile = "/run/ants/root.pid"
	// BootLog is the boot, step by step, with the kernel's uptime.
	BootLog = "/run/ants/boot.log"
)

// Bounds of the control socket: a request is one line of at most MaxRequest
// bytes, sent within Timeout of connecting; at most MaxConns requests are served
// at once, more are answered "busy". A reply that the client does not take
// within Timeout is dropped.
const (
	MaxRequest = 4096
	Timeout    = 5 * time.Second
	MaxConns   = 16
)

// The protocol, one connection per request: the client sends one line,
// "OP [NAME=VALUE ...]"; PID 1 answers with lines of text, the last "ok" or
// "error: MESSAGE", and closes.

// Request is one request: Op is status, start, stop or restart; Vars, for start
// and restart, are boot variables to write to /env first.
type Request struct {
	Op   string
	Vars map[string]string
}

// ParseRequest reads a request line. Every NAME=VALUE must pass its variable's
// check, and only start and restart take any; an unknown Op is left to the
// server (Serve answers it).
func ParseRequest(line string) (Request, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return Request{}, fmt.Errorf("empty request")
	}
	req := Request{Op: f[0], Vars: map[string]string{}}
	for _, kv := range f[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return Request{}, fmt.Errorf("%q is not NAME=VALUE", kv)
		}
		if err := bootvar.Validate(k, v); err != nil {
			return Request{}, fmt.Errorf("%s: %v", k, err)
		}
		req.Vars[k] = v
	}
	if len(req.Vars) > 0 && req.Op != "start" && req.Op != "restart" {
		return Request{}, fmt.Errorf("%s takes no variables", req.Op)
	}
	return req, nil
}

// WriteReply writes a reply: text (a newline is added when it lacks one), then
// "ok", or "error: " and err.
func WriteReply(w io.Writer, text string, err error) error {
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	if err != nil {
		_, werr := fmt.Fprintf(w, "%serror: %v\n", text, err)
		return werr
	}
	_, werr := fmt.Fprintf(w, "%sok\n", text)
	return werr
}

// Error is PID 1's refusal: the message of its "error: " line.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// ErrNoVerdict is ReadReply's error for a reply that ends with neither "ok" nor
// "error: ...".
var ErrNoVerdict = errors.New("the reply ended without ok or error")

// ReadReply reads a reply to its end, calling text for each line of text. It
// returns nil when the last verdict line was "ok", an *Error when it was
// "error: ...", and ErrNoVerdict when there was none.
func ReadReply(r io.Reader, text func(line string)) error {
	sc := bufio.NewScanner(r)
	err := ErrNoVerdict
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "ok":
			err = nil
		case strings.HasPrefix(line, "error: "):
			err = &Error{Msg: strings.TrimPrefix(line, "error: ")}
		default:
			text(line)
		}
	}
	return err
}

// Handler does what the requests ask; PID 1 implements it.
type Handler interface {
	// Status is the root system's state, as lines of text.
	Status() string
	// Stop stops the root system.
	Stop() error
	// Start writes vars to /env and starts the root system; its text says from
	// what it started.
	Start(vars map[string]string) (string, error)
}

// Server answers requests on a listener with a Handler, within the bounds
// above (the zero values of its limits are those bounds).
type Server struct {
	Handler Handler
	// Guard, when set, runs the handling of each connection (PID 1 passes one
	// that recovers from a panic and logs it).
	Guard func(func())

	MaxRequest int           // 0: MaxRequest
	Timeout    time.Duration // 0: Timeout
	MaxConns   int           // 0: MaxConns
}

func (s *Server) maxRequest() int {
	if s.MaxRequest > 0 {
		return s.MaxRequest
	}
	return MaxRequest
}

func (s *Server) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return Timeout
}

func (s *Server) maxConns() int {
	if s.MaxConns > 0 {
		return s.MaxConns
	}
	return MaxConns
}

// Serve accepts on l until it is closed and answers each connection, at most
// MaxConns at a time; a connection over that gets "error: busy" and is closed.
func (s *Server) Serve(l net.Listener) {
	max := s.maxConns()
	serve.Limited(l, max, s.Guard, s.ServeConn, func(c net.Conn) {
		fmt.Fprintf(c, "error: busy: %d requests already in progress; try again\n", max)
	})
}

// ServeConn answers the one request of c and closes it.
func (s *Server) ServeConn(c net.Conn) {
	defer c.Close()
	reply := func(text string, err error) {
		c.SetWriteDeadline(time.Now().Add(s.timeout()))
		WriteReply(c, text, err)
	}
	line, err := ReadRequest(c, s.maxRequest(), s.timeout())
	if err == io.EOF {
		return // connected and closed: nothing asked
	}
	if err != nil {
		reply("", err)
		return
	}
	req, err := ParseRequest(line)
	if err != nil {
		reply("", err)
		return
	}
	switch req.Op {
	case "status":
		reply(s.Handler.Status(), nil)
	case "stop":
		reply("", s.Handler.Stop())
	case "start":
		reply(s.Handler.Start(req.Vars))
	case "restart":
		if err := s.Handler.Stop(); err != nil {
			reply("", err)
			return
		}
		reply(s.Handler.Start(req.Vars))
	default:
		reply("", fmt.Errorf("unknown request %q; want status, start, stop or restart", req.Op))
	}
}

// ReadRequest reads one request line from c: at most max bytes, within
// timeout. A connection closed before anything was sent gives io.EOF.
func ReadRequest(c net.Conn, max int, timeout time.Duration) (string, error) {
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
