package console

// Hubs, after ANTS' hubfs: every client of the mux is a hub, a program on a pty
// owned by PID 1, kept when no one watches, with a backlog. Besides the console,
// any number of viewers attach from elsewhere (hub attach over ssh): each sees the
// output from the backlog on, and types into the same program. A viewer that
// reads slowly gets a bounded queue of its own (NewStream): it loses output, with
// a line saying so, and never holds back the console or the other viewers.

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Limits of the hubs.
const (
	MaxHubs       = 32        // hubs of the mux, the console's own among them
	MaxViewers    = 16        // viewers of one hub at once
	ViewerQueue   = 256 << 10 // output waiting for one viewer before it is dropped
	MaxHubNameLen = 32
)

// hubState is the part of a Client that only hubs use.
type hubState struct {
	viewers []*Viewer
	ptyNum  int    // the pty's number (/dev/pts/N) of the attached stream; -1: none
	state   string // "" (running, or not started without a stream) or what SetState said
	started time.Time
	user    bool // made by NewHub (hub new); Remove takes it away
}

// Viewer is one reader of a hub attached from outside the console.
type Viewer struct {
	Who   string
	Since time.Time
	q     *Queue
	c     *Client
}

// ViewerDropNotice is the line a viewer gets after n bytes were dropped.
func ViewerDropNotice(n int) string {
	return fmt.Sprintf("\r\n[ants: %d bytes of output dropped: this client read too slowly]\r\n", n)
}

// record keeps b in the backlog and queues it for the viewers. m.mu is held.
func (c *Client) record(b []byte) {
	c.backlog.write(b)
	for _, v := range c.viewers {
		v.q.Write(b) // a stream queue: never waits
	}
}

// Mark writes a line of the mux's own into the hub's backlog and to its viewers,
// not to the consoles: "root started", for whoever reads `hub log root` later.
func (c *Client) Mark(format string, args ...any) {
	line := "\r\n[ants " + time.Now().UTC().Format("15:04:05") + ": " + fmt.Sprintf(format, args...) + "]\r\n"
	c.mux.mu.Lock()
	defer c.mux.mu.Unlock()
	c.record([]byte(line))
	if c.mux.focus != c {
		c.unseen += len(line)
	}
}

// Backlog returns a copy of the hub's backlog.
func (c *Client) Backlog() []byte {
	c.mux.mu.Lock()
	defer c.mux.mu.Unlock()
	return append([]byte(nil), c.backlog.bytes()...)
}

// SetState says what the hub's program is doing when it is not running ("exited
// 0"); "" means running. A nil client (no mux) ignores it.
func (c *Client) SetState(s string) {
	if c == nil {
		return // no mux
	}
	c.mux.mu.Lock()
	defer c.mux.mu.Unlock()
	c.state = s
}

func (c *Client) stateLocked() string {
	switch {
	case c.state != "":
		return c.state
	case c.master == nil:
		return "not started"
	}
	return "running"
}

func (c *Client) viewersLocked() string {
	if len(c.viewers) == 0 {
		return ""
	}
	var who []string
	for _, v := range c.viewers {
		who = append(who, v.Who)
	}
	return fmt.Sprintf(", attached: %s", strings.Join(who, " "))
}

// Attach errors.
var (
	ErrTooManyViewers = fmt.Errorf("%d clients are attached already", MaxViewers)
	ErrNoHub          = errors.New("no such hub")
)

// AttachViewer adds a viewer writing to w: the backlog first, then the output as
// it comes. Detach it with Viewer.Detach.
func (c *Client) AttachViewer(w io.Writer, who string) (*Viewer, error) {
	c.mux.mu.Lock()
	defer c.mux.mu.Unlock()
	if c.removed() {
		return nil, ErrNoHub
	}
	if len(c.viewers) >= MaxViewers {
		return nil, ErrTooManyViewers
	}
	v := &Viewer{Who: who, Since: time.Now(), q: NewStream(w, ViewerQueue, ViewerDropNotice), c: c}
	v.q.Write(c.backlog.bytes())
	c.viewers = append(c.viewers, v)
	return v, nil
}

// Detach takes the viewer off its hub; what is queued for it is still written.
// The channel is closed once it is.
func (v *Viewer) Detach() <-chan struct{} {
	c := v.c
	c.mux.mu.Lock()
	for i, o := range c.viewers {
		if o == v {
			c.viewers = append(c.viewers[:i:i], c.viewers[i+1:]...)
			break
		}
	}
	c.mux.mu.Unlock()
	return v.q.Close()
}

// Write types b into the hub's program.
func (v *Viewer) Write(b []byte) (int, error) {
	v.c.Send(b)
	return len(b), nil
}

// Done is closed when the viewer's queue has ended: after Detach, or the hub's
// removal or its program's end (EndViewers).
func (v *Viewer) Done() <-chan struct{} { return v.q.finished }

// EndViewers writes a last line to every viewer and detaches them all: the hub's
// program ended.
func (c *Client) EndViewers(format string, args ...any) {
	line := "\r\n[ants: " + fmt.Sprintf(format, args...) + "]\r\n"
	c.mux.mu.Lock()
	vs := c.viewers
	c.viewers = nil
	c.mux.mu.Unlock()
	for _, v := range vs {
		v.q.Write([]byte(line))
		v.q.Close()
	}
}

func (c *Client) removed() bool {
	for _, o := range c.mux.clients {
		if o == c {
			return false
		}
	}
	return true
}

// User says whether hub new made the hub (hub kill may remove it).
func (c *Client) User() bool { return c.user }

// Watched says whether a viewer is attached from elsewhere.
func (c *Client) Watched() bool {
	c.mux.mu.Lock()
	defer c.mux.mu.Unlock()
	return len(c.viewers) > 0
}

// HubInfo describes a hub for `hub` (list).
type HubInfo struct {
	Name    string    `json:"name"`
	Title   string    `json:"title"`
	Key     string    `json:"key,omitempty"` // its key after the escape key
	State   string    `json:"state"`
	Console bool      `json:"console"` // the console shows it now
	User    bool      `json:"user"`    // made by hub new
	Backlog int       `json:"backlog"`
	Started time.Time `json:"started"`
	Viewers []string  `json:"viewers,omitempty"`
}

// Hubs lists the hubs, in the order of their keys.
func (m *Mux) Hubs() []HubInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []HubInfo
	for _, c := range m.clients {
		h := HubInfo{Name: c.Hub, Title: c.Name, State: c.stateLocked(), Console: c == m.focus,
			User: c.user, Backlog: len(c.backlog.bytes()), Started: c.started}
		if c.Key != 0 {
			h.Key = string(rune(c.Key))
		}
		for _, v := range c.viewers {
			h.Viewers = append(h.Viewers, v.Who)
		}
		out = append(out, h)
	}
	return out
}

// Lookup returns the hub of the name, or nil.
func (m *Mux) Lookup(name string) *Client {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lookupLocked(name)
}

func (m *Mux) lookupLocked(name string) *Client {
	for _, c := range m.clients {
		if c.Hub == name {
			return c
		}
	}
	return nil
}

// CheckHubName says what is wrong with a hub name: 1 to MaxHubNameLen letters,
// digits, '.', '_' or '-', not starting with '-' or '.'.
func CheckHubName(name string) error {
	if name == "" {
		return errors.New("a hub needs a name")
	}
	if len(name) > MaxHubNameLen {
		return fmt.Errorf("hub name %.40q is longer than %d bytes", name, MaxHubNameLen)
	}
	if name[0] == '-' || name[0] == '.' {
		return fmt.Errorf("hub name %q starts with %q; start it with a letter or digit", name, name[0])
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("hub name %q has %q; use letters, digits, '.', '_' and '-'", name, r)
		}
	}
	return nil
}

// NewHub makes a hub of the name for a program to be started on it (NewPTY). It
// gets the first free key of 1 to 9, if any.
func (m *Mux) NewHub(name string) (*Client, error) {
	if err := CheckHubName(name); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lookupLocked(name) != nil {
		return nil, fmt.Errorf("hub %s exists; kill it first (hub kill %s) or choose another name", name, name)
	}
	if len(m.clients) >= MaxHubs {
		return nil, fmt.Errorf("there are %d hubs already; kill one first", len(m.clients))
	}
	var key byte
	for k := byte('1'); k <= '9' && key == 0; k++ {
		free := true
		for _, c := range m.clients {
			if c.Key == k {
				free = false
			}
		}
		if free {
			key = k
		}
	}
	c := m.addLocked(name, "hub "+name, key)
	c.user = true
	return c, nil
}

// Remove takes a hub made by NewHub away: its viewers end, its stream is closed.
// It returns whether the console showed it (the caller then gives the console to
// another client).
func (m *Mux) Remove(c *Client) (wasFocused bool) {
	c.EndViewers("hub %s removed", c.Hub)
	m.mu.Lock()
	for i, o := range m.clients {
		if o == c {
			m.clients = append(m.clients[:i:i], m.clients[i+1:]...)
			break
		}
	}
	if m.focus == c {
		m.focus = nil
		wasFocused = true
	}
	master, keys := c.master, c.keys
	c.master, c.keys = nil, nil
	m.mu.Unlock()
	if keys != nil {
		keys.Close()
	}
	if master != nil {
		master.Close()
	}
	return wasFocused
}

// ByTTY returns the client whose pty is the terminal dev (a stat's Rdev), or nil:
// `hub attach` from the console's own admin shell then moves the console instead
// of nesting a client in it.
func (m *Mux) ByTTY(dev uint64) *Client {
	n, ok := ptsNumber(dev)
	if !ok {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.clients {
		if c.ptyNum == n && c.master != nil {
			return c
		}
	}
	return nil
}

// ptsNumber gives N of /dev/pts/N from its device number (major 136 to 143).
func ptsNumber(dev uint64) (int, bool) {
	maj, minor := unix.Major(dev), unix.Minor(dev)
	if maj < 136 || maj > 143 {
		return 0, false
	}
	return int(maj-136)<<20 | int(minor), true
}
