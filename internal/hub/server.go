package hub

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/serve"
)

// Registry is what the server needs of PID 1: its mux's hubs, and the starting
// and killing of programs, which only PID 1 does.
type Registry interface {
	Hubs() []console.HubInfo
	Lookup(name string) *console.Client
	ByTTY(dev uint64) *console.Client
	Focused() *console.Client
	Focus(c *console.Client)
	// New makes hub name running argv (none: the admin shell).
	New(name string, argv []string) error
	// Kill ends the program of a hub made by New and removes the hub.
	Kill(name string) error
}

// Limits of the server.
const (
	MaxConns       = 64               // connections at once, attached ones among them
	RequestTimeout = 5 * time.Second  // to send the request line
	WriteTimeout   = 30 * time.Second // a viewer that takes no output this long is cut off
)

// Server answers hub requests. Each connection has a goroutine of its own; none
// of them holds the mux's lock while it waits for a client.
type Server struct {
	Reg Registry
	Log func(format string, args ...any)
	// Guard runs each connection's handler (PID 1's recover: a panic there must
	// not end PID 1); nil runs it as it is.
	Guard func(func())
}

// Serve accepts connections on l until it is closed.
func (s *Server) Serve(l net.Listener) error {
	return serve.Limited(l, MaxConns, s.Guard, s.Handle, func(c net.Conn) {
		writeJSON(c, Reply{Error: fmt.Sprintf("%d hub clients are connected already; try again later", MaxConns)})
	})
}

// Handle serves one connection.
func (s *Server) Handle(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(RequestTimeout))
	br := bufio.NewReader(c)
	line, err := readLine(br, MaxRequest)
	if err != nil {
		writeJSON(c, Reply{Error: "reading the request: " + err.Error()})
		return
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		writeJSON(c, Reply{Error: "the request is not JSON: " + err.Error()})
		return
	}
	if req.Op == OpAttach {
		s.attach(c, br, req)
		return
	}
	writeJSON(c, s.do(req))
}

// do answers every request but attach.
func (s *Server) do(req Request) Reply {
	switch req.Op {
	case OpList:
		return Reply{Hubs: s.Reg.Hubs()}
	case OpLog, OpSend:
		h, err := s.lookup(req.Name)
		if err != nil {
			return Reply{Error: err.Error()}
		}
		if req.Op == OpLog {
			return Reply{Log: h.Backlog()}
		}
		h.Send([]byte(req.Text))
		return Reply{}
	case OpNew:
		if err := s.Reg.New(req.Name, req.Argv); err != nil {
			return Reply{Error: err.Error()}
		}
		s.logf("hub %s started: %s", req.Name, describeArgv(req.Argv))
		return Reply{}
	case OpFocus:
		// Only the boot scripts' own terminal: a shell elsewhere (a hub, ssh)
		// running ants ask must not take the console from whoever uses it.
		from := s.Reg.ByTTY(req.TTY)
		if req.TTY == 0 || from == nil || from.Hub != BootHub {
			return Reply{}
		}
		if s.Reg.Focused() != from {
			s.Reg.Focus(from)
		}
		return Reply{Focused: true}
	case OpKill:
		if err := s.Reg.Kill(req.Name); err != nil {
			return Reply{Error: err.Error()}
		}
		s.logf("hub %s killed", req.Name)
		return Reply{}
	}
	return Reply{Error: fmt.Sprintf("unknown request %q", req.Op)}
}

func (s *Server) lookup(name string) (*console.Client, error) {
	if err := console.CheckHubName(name); err != nil {
		return nil, err
	}
	h := s.Reg.Lookup(name)
	if h == nil {
		return nil, fmt.Errorf("no hub %s; hub lists them", name)
	}
	return h, nil
}

// attach makes the connection a viewer of the hub, or, from the console's own
// shell, gives the hub the console.
func (s *Server) attach(c net.Conn, br *bufio.Reader, req Request) {
	h, err := s.lookup(req.Name)
	if err != nil {
		writeJSON(c, Reply{Error: err.Error()})
		return
	}
	if from := s.Reg.ByTTY(req.TTY); from != nil && req.TTY != 0 {
		if from == h {
			writeJSON(c, Reply{Error: fmt.Sprintf("this terminal is hub %s's own", h.Hub)})
			return
		}
		// The console shows the shell this came from, and no one watches that
		// shell from elsewhere: the console itself moves to the hub (its escape
		// key comes back), rather than a client nested in a client.
		if s.Reg.Focused() == from && !from.Watched() {
			s.Reg.Focus(h)
			writeJSON(c, Reply{Focused: true})
			return
		}
	}
	who := cleanWho(req.Who)
	// The viewer's queue is the only writer of the connection once the reply is
	// out; cw holds the queue's first write (the backlog) until then.
	cw := &cutOff{c: c, ready: make(chan struct{})}
	v, err := h.AttachViewer(cw, who)
	if err != nil {
		writeJSON(c, Reply{Error: fmt.Sprintf("hub %s: %v", h.Hub, err)})
		return
	}
	c.SetDeadline(time.Time{})
	c.SetWriteDeadline(time.Now().Add(WriteTimeout))
	err = writeJSON(c, Reply{})
	cw.release()
	if err != nil {
		<-v.Detach()
		return
	}
	s.logf("hub %s: %s attached", h.Hub, who)
	// Typed bytes go to the program until the client goes; the hub's end (the
	// program exits, hub kill) ends the queue, and with it the connection.
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := br.Read(buf)
			if n > 0 {
				v.Write(buf[:n])
			}
			if err != nil {
				v.Detach()
				return
			}
		}
	}()
	<-v.Done()
	s.logf("hub %s: %s detached", h.Hub, who)
}

// cutOff writes a viewer's output to its connection, and closes the connection
// when a write takes WriteTimeout (a client that stopped reading). Writes wait
// until release: the reply line goes first.
type cutOff struct {
	c     net.Conn
	ready chan struct{}
}

func (w *cutOff) release() { close(w.ready) }

func (w *cutOff) Write(b []byte) (int, error) {
	<-w.ready
	w.c.SetWriteDeadline(time.Now().Add(WriteTimeout))
	n, err := w.c.Write(b)
	if err != nil {
		w.c.Close()
	}
	return n, err
}

func cleanWho(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
	if len(s) > 48 {
		s = s[:48]
	}
	if s == "" {
		s = "?"
	}
	return strings.ReplaceAll(s, " ", "_")
}

func describeArgv(argv []string) string {
	if len(argv) == 0 {
		return "the admin shell"
	}
	return strings.Join(argv, " ")
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log(format, args...)
	}
}
