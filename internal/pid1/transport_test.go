package pid1

import (
	"io"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The child's connection comes back on the socket pair, and breaking it ends the
// connection at once: the server's side reads EOF, as the kernel's 9P client
// fails its requests.
func TestTransportHandBackAndBreak(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	f, _ := c.(*net.TCPConn).File()
	c.Close()

	in := &Init{root: newRootSys()}
	in.root.gen, in.root.state = 1, rootRunning
	mine, child := transportPair()
	if mine == nil {
		t.Fatal("no socket pair")
	}
	done := make(chan struct{})
	go func() { in.takeTransport(mine, 1); close(done) }()
	if err := unix.Sendmsg(int(child.Fd()), []byte("9p"), unix.UnixRights(int(f.Fd())), nil, 0); err != nil {
		t.Fatal(err)
	}
	child.Close()
	f.Close() // the child's copy; PID 1's keeps the connection up
	<-done
	if in.root.transport == nil {
		t.Fatal("no transport kept")
	}
	server.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := server.Read(make([]byte, 1)); err == io.EOF {
		t.Fatal("the connection ended while PID 1 held it")
	}
	if !in.breakTransport() {
		t.Fatal("breakTransport found none")
	}
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := server.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after breakTransport the server reads %v, want EOF", err)
	}
	in.root.mu.Lock()
	in.root.dropTransport()
	in.root.mu.Unlock()
	if in.breakTransport() {
		t.Errorf("a dropped transport was broken again")
	}
}

// A child that execs without handing anything back (a disk root) leaves nothing;
// a late hand-back for an earlier start is closed.
func TestTransportNoneOrStale(t *testing.T) {
	in := &Init{root: newRootSys()}
	in.root.gen, in.root.state = 2, rootRunning
	mine, child := transportPair()
	child.Close()
	in.takeTransport(mine, 2)
	if in.root.transport != nil {
		t.Fatal("a transport from nothing")
	}
	mine, child = transportPair()
	r, w, _ := os.Pipe()
	defer r.Close()
	unix.Sendmsg(int(child.Fd()), []byte("9p"), unix.UnixRights(int(w.Fd())), nil, 0)
	w.Close()
	child.Close()
	in.takeTransport(mine, 1) // gen 1 is gone
	if in.root.transport != nil {
		t.Fatal("a stale start's transport was kept")
	}
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the stale descriptor was not closed: %v", err)
	}
}
