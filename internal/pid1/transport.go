package pid1

import (
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// A 9P root's connection to its server, handed back by the root child
// (rootsys.Source.Transport), so that PID 1 can break it. A root whose server
// froze has processes in uninterruptible sleep: SIGKILL makes the 9P client send
// a Tflush and wait for the answer that never comes. Shutting the socket down
// fails every pending request at once, and the processes die.

// transportPair makes the socket pair the child hands the connection back on:
// PID 1's end and the child's (fd 3 in the child). Both nil if it cannot.
func transportPair() (mine, child *os.File) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil
	}
	return os.NewFile(uintptr(fds[0]), "transport"), os.NewFile(uintptr(fds[1]), "transport-child")
}

// transport is one start's connection, once the child has handed it back.
type transport struct {
	mu      sync.Mutex
	f       *os.File
	dropped bool
}

// take reads the child's messages on back until its end closes (the child execs
// the root's init, its end being close-on-exec, or fails): a 9P root's
// connection (one descriptor), then "exec INIT" just before the exec, for which it
// calls execs.
func (t *transport) take(back *os.File, execs func(init string)) {
	defer back.Close()
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	fd := int(back.Fd())
	for {
		n, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil || (n == 0 && oobn == 0) {
			return
		}
		if oobn > 0 {
			t.keep(oob[:oobn])
		}
		if init, ok := strings.CutPrefix(string(buf[:n]), "exec "); ok && execs != nil {
			execs(init)
		}
	}
}

// keep takes the first descriptor of a control message; the rest are closed.
func (t *transport) keep(oob []byte) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	var fds []int
	for i := range msgs {
		if got, err := unix.ParseUnixRights(&msgs[i]); err == nil {
			fds = append(fds, got...)
		}
	}
	if len(fds) == 0 {
		return
	}
	for _, extra := range fds[1:] {
		unix.Close(extra)
	}
	f := os.NewFile(uintptr(fds[0]), "9p-transport")
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dropped || t.f != nil {
		f.Close() // the root is gone already
		return
	}
	t.f = f
}

// shut shuts the connection down (both ways): every request pending on it fails,
// and every later one. True if there was one.
func (t *transport) shut() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return false
	}
	unix.Shutdown(int(t.f.Fd()), unix.SHUT_RDWR)
	return true
}

// drop closes PID 1's copy (the root is gone or abandoned).
func (t *transport) drop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dropped = true
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
}
