package pid1

import (
	"io"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The child's connection comes back on the socket pair, and shutting it ends the
// connection at once: the server's side reads EOF, as the kernel's 9P client
// fails its requests.
func TestTransportHandBackAndShut(t *testing.T) {
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

	tr := &transport{}
	mine, child := transportPair()
	if mine == nil {
		t.Fatal("no socket pair")
	}
	done := make(chan struct{})
	var execd []string
	go func() { tr.take(mine, func(init string) { execd = append(execd, init) }); close(done) }()
	if err := unix.Sendmsg(int(child.Fd()), []byte("9p"), unix.UnixRights(int(f.Fd())), nil, 0); err != nil {
		t.Fatal(err)
	}
	unix.Sendmsg(int(child.Fd()), []byte("exec /sbin/init"), nil, nil, 0)
	child.Close()
	f.Close() // the child's copy; PID 1's keeps the connection up
	<-done
	if len(execd) != 1 || execd[0] != "/sbin/init" {
		t.Errorf("exec messages %q", execd)
	}
	server.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := server.Read(make([]byte, 1)); err == io.EOF {
		t.Fatal("the connection ended while PID 1 held it")
	}
	if !tr.shut() {
		t.Fatal("shut found no connection")
	}
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := server.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after shut the server reads %v, want EOF", err)
	}
	tr.drop()
	if tr.shut() {
		t.Errorf("a dropped connection was shut again")
	}
}

// A child that execs without handing anything back (a disk root) leaves nothing;
// one handed back after the root is gone is closed.
func TestTransportNoneOrLate(t *testing.T) {
	tr := &transport{}
	mine, child := transportPair()
	child.Close()
	tr.take(mine, nil)
	if tr.shut() {
		t.Fatal("a connection from nothing")
	}
	tr = &transport{}
	tr.drop()
	mine, child = transportPair()
	r, w, _ := os.Pipe()
	defer r.Close()
	unix.Sendmsg(int(child.Fd()), []byte("9p"), unix.UnixRights(int(w.Fd())), nil, 0)
	w.Close()
	child.Close()
	tr.take(mine, nil)
	if tr.shut() {
		t.Fatal("a late descriptor was kept")
	}
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the late descriptor was not closed: %v", err)
	}
}
