package pid1

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/hub"
	"golang.org/x/sys/unix"
)

// hubs is PID 1's side of the hub command (internal/hub): the mux's clients are
// the hubs, and PID 1 starts and kills the programs of those `hub new` makes.
type hubs struct {
	in   *Init
	mux  *console.Mux
	mu   sync.Mutex
	pids map[*console.Client]int // running programs of user hubs
	// start starts a program on a hub's pty (Init.startWith); kill signals a
	// process group; refocus gives the console back to the admin shell. Tests
	// give their own.
	start     func(c *console.Client, path string, args ...string) (<-chan unix.WaitStatus, int, error)
	kill      func(pid int, sig unix.Signal)
	refocus   func()
	killAfter time.Duration // a program's time after SIGHUP before SIGKILL
}

// newHubs is PID 1's hubs over its mux.
func newHubs(in *Init) *hubs {
	return &hubs{in: in, mux: in.mux, pids: map[*console.Client]int{},
		start: func(c *console.Client, path string, args ...string) (<-chan unix.WaitStatus, int, error) {
			return in.startWith(c, nil, path, args...)
		},
		kill:      func(pid int, sig unix.Signal) { in.sys.Kill(pid, sig) },
		refocus:   in.focusAdmin,
		killAfter: 2 * time.Second,
	}
}

// serveHubs listens on hub.Socket, for ever.
func (in *Init) serveHubs() {
	if in.mux == nil {
		return
	}
	sock := in.sys.HubSocket
	os.Remove(sock)
	l, err := net.Listen("unix", sock)
	if err != nil {
		in.log.Printf("init: hubs: %v", err)
		return
	}
	os.Chmod(sock, 0o600)

	h := newHubs(in)
	s := &hub.Server{Reg: h, Log: in.log.Printf, Guard: func(f func()) { in.safe("hub", f) }}
	s.Serve(l)
}

func (h *hubs) Hubs() []console.HubInfo            { return h.mux.Hubs() }
func (h *hubs) Lookup(name string) *console.Client { return h.mux.Lookup(name) }
func (h *hubs) ByTTY(dev uint64) *console.Client   { return h.mux.ByTTY(dev) }
func (h *hubs) Focused() *console.Client           { return h.mux.Focused() }
func (h *hubs) Focus(c *console.Client)            { h.mux.Focus(c) }

// New starts argv (none: the admin shell) on a new hub, detached: the console
// goes on showing what it shows.
func (h *hubs) New(name string, argv []string) error {
	path := BinDir + "/antsh"
	var args []string
	if len(argv) > 0 {
		p, err := lookPath(argv[0])
		if err != nil {
			return err
		}
		path, args = p, argv[1:]
	}
	c, err := h.mux.NewHub(name)
	if err != nil {
		return err
	}
	ch, pid, err := h.start(c, path, args...)
	if err != nil {
		h.mux.Remove(c)
		return fmt.Errorf("starting %s: %v", path, err)
	}
	h.mu.Lock()
	h.pids[c] = pid
	h.mu.Unlock()
	go func() {
		ws := <-ch
		h.mu.Lock()
		delete(h.pids, c)
		h.mu.Unlock()
		c.SetState(Describe(ws))
		c.Mark("%s %s", filepath.Base(path), Describe(ws))
		c.EndViewers("hub %s: %s %s; hub kill %s removes it", name, filepath.Base(path), Describe(ws), name)
	}()
	return nil
}

// Kill ends the program of a user hub (SIGHUP to its session, as a terminal
// hangup does, then SIGKILL after 2 s) and removes the hub.
func (h *hubs) Kill(name string) error {
	c := h.mux.Lookup(name)
	if c == nil {
		return fmt.Errorf("no hub %s; hub lists them", name)
	}
	if !c.User() {
		return fmt.Errorf("hub %s is the console's own; it stays (for the root: rootctl stop)", name)
	}
	h.mu.Lock()
	pid, running := h.pids[c]
	h.mu.Unlock()
	if running {
		h.kill(-pid, unix.SIGHUP)
		h.kill(-pid, unix.SIGCONT)
		go func() {
			time.Sleep(h.killAfter)
			h.mu.Lock()
			_, still := h.pids[c]
			h.mu.Unlock()
			if still {
				h.kill(-pid, unix.SIGKILL)
			}
		}()
	}
	if h.mux.Remove(c) && h.refocus != nil {
		h.refocus()
	}
	return nil
}

// lookPath finds a program in the children's PATH (PID 1's own environment is
// the kernel's, which may have none).
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		if st, err := os.Stat(name); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%s: not an executable file", name)
		}
		return name, nil
	}
	for _, dir := range strings.Split(childPath, ":") {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New(name + ": command not found in /bbin, /bin, /sbin, /usr/bin or /usr/sbin")
}
