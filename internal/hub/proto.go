// Package hub is ANTS' hubfs for ants: the `hub` command and PID 1's side of it.
// A hub is a program on a pty that PID 1 owns (console.Client): the console's own
// clients (admin, root, boot) and those `hub new` makes. Clients reach PID 1 over
// a unix socket in the admin namespace (Socket) with one JSON request line; PID 1
// answers with one JSON reply line, and for attach the connection then carries
// the hub's output one way and typed bytes the other.
package hub

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ants/ants/internal/console"
)

// Socket is PID 1's hub socket (mode 0600, in the admin namespace's /run).
const Socket = "/run/ants/hub.sock"

// BootHub is the hub of the boot scripts (PID 1's client "boot scripts").
const BootHub = "boot"

// MaxRequest bounds a request line.
const MaxRequest = 64 << 10

// Ops of a request.
const (
	OpList   = "list"
	OpLog    = "log"
	OpSend   = "send"
	OpAttach = "attach"
	OpNew    = "new"
	OpKill   = "kill"
	// OpFocus: the boot scripts' terminal (TTY) takes the console, before
	// `ants ask` asks on it while they run behind the admin prompt. From any
	// other terminal it does nothing (Focused false).
	OpFocus = "focus"
)

// Request is the line a client sends.
type Request struct {
	Op   string   `json:"op"`
	Name string   `json:"name,omitempty"`
	Text string   `json:"text,omitempty"` // send: typed as it is
	Argv []string `json:"argv,omitempty"` // new: the program; none for the admin shell
	// attach, focus: the client's terminal (its stdin's device number), so that
	// an attach from the console's own admin shell moves the console instead of
	// nesting; and who attaches, for the list.
	TTY uint64 `json:"tty,omitempty"`
	Who string `json:"who,omitempty"`
}

// Reply is PID 1's answer line.
type Reply struct {
	Error string            `json:"error,omitempty"`
	Hubs  []console.HubInfo `json:"hubs,omitempty"`
	Log   []byte            `json:"log,omitempty"`
	// Focused: the attach came from the console, which shows the hub now; for
	// focus, the console shows the terminal's hub.
	Focused bool `json:"focused,omitempty"`
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// readLine reads one line of at most max bytes; the reader keeps what follows.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > max {
			return nil, fmt.Errorf("line longer than %d bytes", max)
		}
		switch {
		case err == nil:
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return nil, errors.New("line cut short")
		default:
			return nil, err
		}
	}
}
