package pid1

import (
	"fmt"
	"net"
	"os"

	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/rootctl"
	"github.com/ants/ants/internal/rootsys"
)

// serveCtl answers rootctl on the control socket; the wire protocol and its
// bounds are internal/rootctl's, what the requests do is ctlHandler's.
func (in *Init) serveCtl() {
	sock := in.sys.CtlSocket
	os.Remove(sock)
	l, err := net.Listen("unix", sock)
	if err != nil {
		in.log.Printf("init: control socket %s: %v; rootctl will not work", sock, err)
		return
	}
	os.Chmod(sock, 0o600)
	s := &rootctl.Server{
		Handler: ctlHandler{in},
		Guard:   func(f func()) { in.safe("rootctl", f) },
	}
	s.Serve(l)
}

// ctlHandler does what rootctl asks, with PID 1's root.
type ctlHandler struct{ in *Init }

var _ rootctl.Handler = ctlHandler{}

func (h ctlHandler) Status() string { return h.in.rootStatus() }

func (h ctlHandler) Stop() error { return h.in.stopRoot(0) }

// Start starts the root from /env with vars on top, and writes vars to /env
// once they name a root.
func (h ctlHandler) Start(vars map[string]string) (string, error) {
	src, err := rootsys.FromVars(h.in.rootVars(vars))
	if err != nil {
		return "", err
	}
	for k, v := range vars {
		bootvar.WriteVar(h.in.sys.Env, k, v)
	}

	pid, err := h.in.startRoot(src, true)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("started from %s, pid %d", src, pid), nil
}
