// Package console is the console multiplexer of PID 1: it owns the real console(s)
// and gives each client (the boot runner, the admin shell, the root system, the
// hubs of hub new) a pty of its own. One client has the focus and talks to the
// console; every client's output is kept in a backlog (hub.go), and what the
// console did not show is shown when the client gets the focus back. An escape key
// (Ctrl-] by default) and a command key switch the focus, whatever the clients are
// doing: the mux is goroutines in PID 1 and never waits for a client.
package console

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultEscape is Ctrl-], as in telnet.
const DefaultEscape = 0x1d

// ParseEscape reads an escape key written ^X (or a single control character).
func ParseEscape(s string) (byte, error) {
	switch {
	case len(s) == 2 && s[0] == '^':
		c := s[1]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c < '@' || c > '_' {
			return 0, fmt.Errorf("%q: after ^ want a letter or one of @[\\]^_", s)
		}
		if c == 'M' || c == 'J' || c == 'H' || c == '@' {
			return 0, fmt.Errorf("%q is Enter, Backspace or NUL; choose another key", s)
		}
		return c - '@', nil
	case len(s) == 1 && s[0] < 0x20 && s[0] != '\r' && s[0] != '\n':
		return s[0], nil
	}
	return 0, fmt.Errorf("%q is not a control key; write it as ^X, for instance ^]", s)
}

// KeyName writes a control key as ^X.
func KeyName(b byte) string {
	if b < 0x20 {
		return "^" + string(rune(b+'@'))
	}
	return string(rune(b))
}

// RingSize is how much of its output a client keeps (its backlog): what the
// console shows when the client gets the focus back, and what `hub log` prints.
const RingSize = 64 << 10

// Client is one program on the console, and a hub (hub.go): its output goes to
// the consoles while it has the focus, to its backlog always, and to every
// viewer attached from elsewhere (hub attach).
type Client struct {
	Name string // "admin shell", "root console"
	Key  byte   // its command key after the escape: 'a', 'r'; 0 for none
	Hub  string // its hub name: "admin", "root"

	mux    *Mux
	master io.ReadWriteCloser // the pty master (or any stream in tests)
	// keys queues what is typed for master (newKeys: waits StallWait at most), so
	// that a program that does not read its terminal (a hung root's shell) holds
	// up neither the console's input nor its escape key. keysTold is the count of
	// dropped keys last told on the consoles, keysToldAt when (typeKeys).
	keys       *Queue
	keysTold   int
	keysToldAt time.Time
	backlog    ring          // the last RingSize bytes of output
	unseen     int           // bytes written since the console last showed it
	spoke      chan struct{} // closed at the first output of the attached stream
	hubState
	// hadFocus: the attached program has had the console since it was attached, so
	// someone may have typed into it; used: someone at the console typed into the
	// client or chose it with the escape key, whatever program it had (Used).
	hadFocus bool
	used     bool
	// through: its lines reach the consoles without the focus (above.go); partial
	// is its line not yet ended.
	through bool
	partial []byte
}

// Mux is the console multiplexer.
type Mux struct {
	// wmu orders what reaches the consoles: a focus change's notice and replay,
	// notices, and the focused client's output, each whole. Taken before mu.
	wmu     sync.Mutex
	mu      sync.Mutex
	outs    []io.Writer
	clients []*Client
	focus   *Client
	escape  byte
	size    unix.Winsize // of the ptys made from now on; zero: DefaultSize
}

// DefaultSize is the window of a pty when no console reports one (a serial line
// reports 0x0): 80x24, which pagers and editors want.
var DefaultSize = unix.Winsize{Row: 24, Col: 80}

// SetSize sets the window size of the ptys made from now on (NewPTY): the
// consoles' own, such as a VGA text console's 80x25. A zero size means
// DefaultSize.
func (m *Mux) SetSize(rows, cols uint16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.size = unix.Winsize{Row: rows, Col: cols}
}

// Size is the window size NewPTY gives.
func (m *Mux) Size() unix.Winsize {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.size.Row == 0 || m.size.Col == 0 {
		return DefaultSize
	}
	return m.size
}

// ConsoleSize gives the window all the consoles can show, from each one's
// TIOCGWINSZ: the smallest rows and columns among those that report a size (a VT
// does; a serial line reports 0x0 and is left out). Zero when none does.
func ConsoleSize(sizes []unix.Winsize) (rows, cols uint16) {
	for _, ws := range sizes {
		if ws.Row == 0 || ws.Col == 0 {
			continue
		}
		if rows == 0 || ws.Row < rows {
			rows = ws.Row
		}
		if cols == 0 || ws.Col < cols {
			cols = ws.Col
		}
	}
	return rows, cols
}

// New returns a mux writing to outs with the given escape key. The mux writes to
// outs from its input and client goroutines, and must never wait for a console:
// give it a Queue for each (NewQueue).
func New(outs []io.Writer, escape byte) *Mux {
	if escape == 0 {
		escape = DefaultEscape
	}
	return &Mux{outs: outs, escape: escape}
}

// Escape returns the escape key.
func (m *Mux) Escape() byte { return m.escape }

// Client returns the client with the key, creating it; its hub name is the first
// word of name ("admin shell": admin).
func (m *Mux) Client(name string, key byte) *Client {
	hub, _, _ := strings.Cut(name, " ")
	return m.ClientHub(hub, name, key)
}

// ClientHub returns the client with the key, creating it as hub.
func (m *Mux) ClientHub(hub, name string, key byte) *Client {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.clients {
		if c.Key == key {
			return c
		}
	}
	return m.addLocked(hub, name, key)
}

func (m *Mux) addLocked(hub, name string, key byte) *Client {
	c := &Client{Name: name, Key: key, Hub: hub, mux: m, hubState: hubState{ptyNum: -1, started: time.Now()}}
	m.clients = append(m.clients, c)
	sort.SliceStable(m.clients, func(i, j int) bool { return keyOrder(m.clients[i]) < keyOrder(m.clients[j]) })
	return c
}

// keyOrder sorts the console's clients by key: the console's own (letters), the
// hubs hub new made (digits), those without a key last.
func keyOrder(c *Client) int {
	switch {
	case c.Key == 0:
		return 1024
	case c.Key >= '0' && c.Key <= '9':
		return 512 + int(c.Key)
	}
	return int(c.Key)
}

// Attach connects a stream (a pty master) to the client, replacing an earlier one,
// and copies its output until it ends.
func (c *Client) Attach(master io.ReadWriteCloser) {
	spoke := make(chan struct{})
	keys := newKeys(master)
	c.mux.mu.Lock()
	old, oldKeys := c.master, c.keys
	c.master, c.keys = master, keys
	c.keysTold = 0
	c.spoke = spoke
	c.hadFocus = c.mux.focus == c
	c.mux.mu.Unlock()
	if oldKeys != nil {
		oldKeys.Close()
	}
	if old != nil {
		old.Close()
	}
	go c.copyOut(master, spoke)
}

// KeysQueued bounds the keys waiting for a client's program, beyond what its
// pty holds (about 68 KiB): a paste of 128 KiB into a program that reads it.
const KeysQueued = 128 << 10

// keysNoticeEvery is how often the mux says at most that a client drops keys.
const keysNoticeEvery = 5 * time.Second

// newKeys is a client's key queue: a Write returns once the program's pty took
// the keys, as a write to it would, or after StallWait when it does not take
// them; then writes return at once (queued or dropped) until it takes them again.
func newKeys(master io.Writer) *Queue {
	return newQueue(master, KeysQueued, func(int) string { return "" }) // the notice goes to the consoles (typeKeys)
}

// typeKeys queues b for the client's program, and says on the consoles (at most
// every keysNoticeEvery) that keys were dropped because it does not read them.
func (c *Client) typeKeys(b []byte) {
	c.mux.mu.Lock()
	q, master := c.keys, c.master
	c.mux.mu.Unlock()
	if q == nil {
		return
	}
	if h, ok := master.(heater); ok {
		h.Heat(HotWait) // its echo comes soon: read it without the scheduler
	}
	q.Write(b)
	n := q.Dropped()
	c.mux.mu.Lock()
	tell := n > c.keysTold && time.Since(c.keysToldAt) >= keysNoticeEvery
	if tell {
		c.keysTold, c.keysToldAt = n, time.Now()
	}
	c.mux.mu.Unlock()
	if tell {
		c.mux.Notice("%s does not read its keys: %d bytes dropped; %s ? for help", c.Name, n, KeyName(c.mux.escape))
	}
}

// HadFocus says whether the program attached last has had the console at any time
// (so that keys may have been typed into it).
func (c *Client) HadFocus() bool {
	c.mux.mu.Lock()
	defer c.mux.mu.Unlock()
	return c.hadFocus
}

// Spoke returns a channel closed once the stream attached last has written
// something (a shell, its prompt); nil before any Attach.
func (c *Client) Spoke() <-chan struct{} {
	c.mux.mu.Lock()
	defer c.mux.mu.Unlock()
	return c.spoke
}

func (c *Client) copyOut(r io.ReadWriteCloser, spoke chan struct{}) {
	buf := make([]byte, 4096)
	idle := 10 * time.Millisecond
	for {
		n, err := r.Read(buf)
		if n > 0 {
			c.mux.output(c, buf[:n])
			if spoke != nil {
				close(spoke)
				spoke = nil
			}
			idle = 10 * time.Millisecond
		}
		if err == nil {
			continue
		}
		// A pty master reads EIO while no one has the slave open: between a
		// getty's vhangup() and its open of the console again, or after the
		// client's program exited. Keep reading while this is the client's pty.
		if !errors.Is(err, syscall.EIO) || !c.attached(r) {
			return
		}
		time.Sleep(idle)
		if idle < 500*time.Millisecond {
			idle *= 2
		}
	}
}

func (c *Client) attached(r io.ReadWriteCloser) bool {
	c.mux.mu.Lock()
	defer c.mux.mu.Unlock()
	return c.master == r
}

// Send writes b to the client's program as if typed; it waits StallWait at
// most for a program that does not read its keys (newKeys).
func (c *Client) Send(b []byte) { c.typeKeys(b) }

// NewPTY makes a pty for the client, of the mux's Size, and attaches its master;
// the caller gives the returned slave to the child (as its controlling terminal)
// and closes it after starting the child.
func (c *Client) NewPTY() (*os.File, error) {
	master, slave, err := OpenPTYSize(c.mux.Size())
	if err != nil {
		return nil, err
	}
	n := -1
	if u, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN); err == nil {
		n = int(u)
	}
	c.mux.mu.Lock()
	c.ptyNum = n
	c.mux.mu.Unlock()
	c.Attach(Direct(master))
	return slave, nil
}

// OpenPTY opens a new pty pair with an 80x24 window (a serial console reports none,
// and pagers want one).
func OpenPTY() (master, slave *os.File, err error) {
	return OpenPTYSize(DefaultSize)
}

// OpenPTYSize opens a new pty pair with the given window.
func OpenPTYSize(ws unix.Winsize) (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %v", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("pty number: %v", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	slave, err = os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("open %s: %v", name, err)
	}
	unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &ws)
	return master, slave, nil
}

// output handles bytes a client wrote: to its backlog and its viewers, and to the
// consoles if it has the focus (else they are unseen until it has).
func (m *Mux) output(c *Client, b []byte) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	m.mu.Lock()
	c.record(b)
	if m.focus != c {
		if c.through {
			m.throughLocked(c, b) // above.go
			return
		}
		c.unseen += len(b)
		m.mu.Unlock()
		return
	}
	outs := m.outs
	m.mu.Unlock()
	for _, w := range outs {
		w.Write(b)
	}
}

// Notice writes a line of the mux's own on the consoles, above the focused
// client's unfinished line (Above).
func (m *Mux) Notice(format string, args ...any) {
	m.Above([]byte("[ants: " + fmt.Sprintf(format, args...) + "]\r\n"))
}

// Focus gives c the console and shows what it printed while it had not.
func (m *Mux) Focus(c *Client) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	m.mu.Lock()
	if m.focus == c {
		m.mu.Unlock()
		return
	}
	m.focus = c
	c.hadFocus = true
	pending, lost := c.backlog.bytes(), 0
	if c.unseen < len(pending) {
		pending = pending[len(pending)-c.unseen:]
	} else {
		lost = c.unseen - len(pending)
	}
	pending = append([]byte(nil), pending...)
	c.unseen = 0
	c.partial = nil // a through client's unended line: in pending
	outs := m.outs
	m.mu.Unlock()
	msg := fmt.Sprintf("\r\n[ants: %s; %s ? for help]\r\n", c.Name, KeyName(m.escape))
	if lost > 0 {
		msg += fmt.Sprintf("[ants: %d bytes of earlier output lost]\r\n", lost)
	}
	for _, w := range outs {
		io.WriteString(w, msg)
		w.Write(pending)
	}
}

// Focused returns the client with the focus.
func (m *Mux) Focused() *Client {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.focus
}

// Help is the one-line help of the escape key.
func (m *Mux) Help() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for _, c := range m.clients {
		if c.Key != 0 {
			keys = append(keys, fmt.Sprintf("%c %s", c.Key, c.Name))
		}
	}
	e := KeyName(m.escape)
	return fmt.Sprintf("%s then: %s, l list, ? help, %s sends %s", e, strings.Join(keys, ", "), e, e)
}

func (m *Mux) list() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for _, c := range m.clients {
		mark := " "
		if c == m.focus {
			mark = "*"
		}
		key := byte(' ')
		if c.Key != 0 {
			key = c.Key
		}
		fmt.Fprintf(&b, "%s %c %-13s %s, %d bytes unseen%s\r\n", mark, key, c.Name, c.stateLocked(), min(c.unseen, len(c.backlog.bytes())), c.viewersLocked())
	}
	return b.String()
}

// Input reads one console's keys for ever: bytes go to the focused client, except
// the escape key and the command key after it.
//
// While keys come, r (if it is a File) and the focused client's pty are hot
// (File.Heat): their reads wait outside Go's scheduler.
func (m *Mux) Input(r io.Reader) error {
	buf := make([]byte, 256)
	esc := false
	h, _ := r.(heater)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if h != nil {
				h.Heat(HotWait)
			}
			esc = m.keys(buf[:n], esc)
		}
		if err != nil {
			return err
		}
	}
}

// keys handles a chunk of input; esc says whether the escape key came last.
func (m *Mux) keys(b []byte, esc bool) bool {
	start := 0
	for i, c := range b {
		if !esc {
			if c == m.escape {
				m.send(b[start:i])
				esc = true
			}
			continue
		}
		esc = false
		start = i + 1
		m.command(c)
	}
	if !esc {
		m.send(b[start:])
	}
	return esc
}

func (m *Mux) command(c byte) {
	switch c {
	case m.escape:
		m.send([]byte{c})
	case 'l', 'L':
		m.Notice("consoles:\r\n%s", strings.TrimRight(m.list(), "\r\n"))
	case '?', 'h':
		m.Notice("%s", m.Help())
	default:
		m.mu.Lock()
		var target *Client
		for _, cl := range m.clients {
			if cl.Key == c || cl.Key == c+('a'-'A') {
				target = cl
			}
		}
		m.mu.Unlock()
		if target == nil {
			m.Notice("no console on %q; %s", string(rune(c)), m.Help())
			return
		}
		m.mu.Lock()
		target.used = true
		already := m.focus == target
		m.mu.Unlock()
		if already {
			// Chosen again (the prompt came first, the key was pressed anyway):
			// the same notice, and the line it was on.
			m.Notice("%s; %s ? for help", target.Name, KeyName(m.escape))
			return
		}
		m.Focus(target)
	}
}

func (m *Mux) send(b []byte) {
	if len(b) == 0 {
		return
	}
	m.mu.Lock()
	c := m.focus
	if c != nil {
		c.used = true
	}
	m.mu.Unlock()
	if c != nil {
		c.typeKeys(b)
	}
}
