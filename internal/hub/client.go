package hub

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ants/ants/internal/console"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

const usage = `usage: hub [list]              the hubs, with who is attached
       hub new NAME [CMD ...]    start CMD (default: an admin shell) on hub NAME
       hub attach NAME           join it (backlog first); %s then d detaches
       hub log NAME              print its backlog
       hub send NAME TEXT ...    type TEXT and Enter into it
       hub kill NAME             end a hub made by hub new
The console's own: admin (its admin shell), root (the root's console), boot.`

// Client talks to PID 1's hub socket. Its fields are for tests.
type Client struct {
	Socket string // Socket when empty
	// EscapeFile holds the escape key (ants.escape); ^] when absent.
	EscapeFile string
	Stdin      *os.File // the terminal, for attach; os.Stdin when nil
	In         io.Reader
	Out, Err   io.Writer
}

// Main runs the hub command.
func Main(args []string, stdout, stderr io.Writer) int {
	c := &Client{EscapeFile: "/env/ants.escape", Stdin: os.Stdin, In: os.Stdin, Out: stdout, Err: stderr}
	return c.Run(args)
}

// Run runs the hub command with args.
func (c *Client) Run(args []string) int {
	esc := c.escape()
	if len(args) == 0 {
		args = []string{"list"}
	}
	need := map[string]int{"list": 0, "new": 1, "attach": 1, "log": 1, "send": 1, "kill": 1}
	n, ok := need[args[0]]
	switch {
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help":
		fmt.Fprintf(c.Out, usage+"\n", console.KeyName(esc))
		return 0
	case !ok:
		fmt.Fprintf(c.Err, "hub: unknown command %q\n"+usage+"\n", args[0], console.KeyName(esc))
		return 2
	case len(args)-1 < n || (args[0] != "new" && args[0] != "send" && len(args)-1 > n):
		fmt.Fprintf(c.Err, "hub %s: wrong number of arguments\n"+usage+"\n", args[0], console.KeyName(esc))
		return 2
	}
	if n == 1 {
		if err := console.CheckHubName(args[1]); err != nil {
			fmt.Fprintf(c.Err, "hub %s: %v\n", args[0], err)
			return 2
		}
	}
	switch args[0] {
	case "list":
		return c.list()
	case "new":
		return c.simple(Request{Op: OpNew, Name: args[1], Argv: args[2:]})
	case "log":
		rep, err := c.ask(Request{Op: OpLog, Name: args[1]})
		if err != nil {
			return c.fail(args[0], err)
		}
		c.Out.Write(rep.Log)
		return 0
	case "send":
		return c.simple(Request{Op: OpSend, Name: args[1], Text: strings.Join(args[2:], " ") + "\r"})
	case "kill":
		return c.simple(Request{Op: OpKill, Name: args[1]})
	}
	return c.attach(args[1], esc)
}

func (c *Client) escape() byte {
	if c.EscapeFile != "" {
		if b, err := os.ReadFile(c.EscapeFile); err == nil {
			if k, err := console.ParseEscape(strings.TrimSpace(string(b))); err == nil {
				return k
			}
		}
	}
	return console.DefaultEscape
}

func (c *Client) fail(op string, err error) int {
	fmt.Fprintf(c.Err, "hub %s: %v\n", op, err)
	return 1
}

func (c *Client) dial() (net.Conn, error) {
	path := c.Socket
	if path == "" {
		path = Socket
	}
	conn, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("cannot reach init at %s: %v (hubs exist only in the admin namespace)", path, err)
	}
	return conn, nil
}

// exchange sends req and reads the reply on a new connection, which it returns
// with its reader (attach goes on with them).
func (c *Client) exchange(req Request) (net.Conn, *bufio.Reader, Reply, error) {
	conn, err := c.dial()
	if err != nil {
		return nil, nil, Reply{}, err
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := writeJSON(conn, req); err != nil {
		conn.Close()
		return nil, nil, Reply{}, err
	}
	br := bufio.NewReader(conn)
	// A log reply carries up to console.RingSize bytes, base64 in JSON.
	line, err := readLine(br, 4*console.RingSize+MaxRequest)
	if err != nil {
		conn.Close()
		return nil, nil, Reply{}, fmt.Errorf("reading init's reply: %v", err)
	}
	var rep Reply
	if err := json.Unmarshal(line, &rep); err != nil {
		conn.Close()
		return nil, nil, Reply{}, fmt.Errorf("init's reply: %v", err)
	}
	if rep.Error != "" {
		conn.Close()
		return nil, nil, rep, fmt.Errorf("%s", rep.Error)
	}
	conn.SetDeadline(time.Time{})
	return conn, br, rep, nil
}

func (c *Client) ask(req Request) (Reply, error) {
	conn, _, rep, err := c.exchange(req)
	if err != nil {
		return rep, err
	}
	conn.Close()
	return rep, nil
}

func (c *Client) simple(req Request) int {
	if _, err := c.ask(req); err != nil {
		return c.fail(req.Op, err)
	}
	return 0
}

func (c *Client) list() int {
	rep, err := c.ask(Request{Op: OpList})
	if err != nil {
		return c.fail("list", err)
	}
	tw := tabwriter.NewWriter(c.Out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKEY\tSTATE\tBACKLOG\tUP\tATTACHED")
	for _, h := range rep.Hubs {
		key := h.Key
		if key == "" {
			key = "-"
		}
		if h.Console {
			key += " *"
		}
		who := strings.Join(h.Viewers, ",")
		if who == "" {
			who = "-"
		}
		up := time.Since(h.Started).Round(time.Second).String()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", h.Name, key, h.State, h.Backlog, up, who)
	}
	tw.Flush()
	fmt.Fprintln(c.Out, "(* the console shows it)")
	return 0
}

// who names this client for the hub's list: the ssh client's address, or the
// terminal.
func who() string {
	if s := os.Getenv("SSH_CONNECTION"); s != "" {
		if f := strings.Fields(s); len(f) > 0 {
			return "ssh:" + f[0]
		}
	}
	if name, err := os.Readlink("/proc/self/fd/0"); err == nil && strings.HasPrefix(name, "/dev/") {
		return strings.TrimPrefix(name, "/dev/")
	}
	return fmt.Sprintf("pid%d", os.Getpid())
}

// ttyOf returns the device number of f when it is a terminal (a character
// device), else 0.
func ttyOf(f *os.File) uint64 {
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR {
		return st.Rdev
	}
	return 0
}

// TakeConsole gives the console to the hub whose pty is tty (the boot scripts'
// only; see OpFocus) and says whether the console shows it now.
func (c *Client) TakeConsole(tty *os.File) (bool, error) {
	rep, err := c.ask(Request{Op: OpFocus, TTY: ttyOf(tty)})
	return rep.Focused, err
}

func (c *Client) attach(name string, esc byte) int {
	stdin := c.Stdin
	if stdin == nil {
		stdin = os.Stdin
	}
	tty := ttyOf(stdin)
	conn, br, rep, err := c.exchange(Request{Op: OpAttach, Name: name, TTY: tty, Who: who()})
	if err != nil {
		return c.fail("attach", err)
	}
	defer conn.Close()
	if rep.Focused {
		return 0 // the console shows the hub; its escape key comes back
	}
	isTerm := term.IsTerminal(int(stdin.Fd()))
	if isTerm {
		old, err := term.MakeRaw(int(stdin.Fd()))
		if err != nil {
			return c.fail("attach", fmt.Errorf("raw mode: %v", err))
		}
		defer term.Restore(int(stdin.Fd()), old)
		fmt.Fprintf(c.Out, "[hub %s: %s d detaches, %s ? help]\r\n", name, console.KeyName(esc), console.KeyName(esc))
	}
	var once sync.Once
	detached := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		io.Copy(c.Out, br)
		close(ended)
	}()
	go func() {
		in := c.In
		if in == nil {
			in = stdin
		}
		keys := &keyFilter{esc: esc, w: conn, out: c.Out, detach: func() { once.Do(func() { close(detached) }) }, active: isTerm}
		io.Copy(keys, in)
		if !isTerm {
			// stdin ended (a script): stop typing, keep showing output until the
			// hub ends or the far side closes.
			if cw, ok := conn.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			}
			return
		}
		once.Do(func() { close(detached) })
	}()
	select {
	case <-detached:
		if isTerm {
			fmt.Fprintf(c.Out, "\r\n[hub %s: detached]\r\n", name)
		}
	case <-ended:
		if isTerm {
			fmt.Fprintf(c.Out, "\r\n[hub %s: the connection ended]\r\n", name)
		}
	}
	return 0
}

// keyFilter passes typed bytes to the hub, except the escape key and the command
// after it (when active: a terminal).
type keyFilter struct {
	esc     byte
	w       io.Writer
	out     io.Writer
	detach  func()
	active  bool
	pending bool
}

func (k *keyFilter) Write(b []byte) (int, error) {
	if !k.active {
		return k.w.Write(b)
	}
	start := 0
	for i, ch := range b {
		if !k.pending {
			if ch == k.esc {
				if _, err := k.w.Write(b[start:i]); err != nil {
					return 0, err
				}
				k.pending = true
			}
			continue
		}
		k.pending = false
		start = i + 1
		switch ch {
		case k.esc:
			k.w.Write([]byte{ch})
		case 'd', 'D', '.':
			k.detach()
			return 0, io.EOF
		default:
			e := console.KeyName(k.esc)
			fmt.Fprintf(k.out, "\r\n[hub: %s d detaches, %s %s sends %s]\r\n", e, e, e, e)
		}
	}
	if !k.pending {
		if _, err := k.w.Write(b[start:]); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}
