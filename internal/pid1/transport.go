package pid1

import (
	"os"

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

// takeTransport waits for the child's message on back: one descriptor, or none
// when the child execs the root's init (its end is close-on-exec) or fails. The
// descriptor is kept for the root of start gen.
func (in *Init) takeTransport(back *os.File, gen int) {
	defer back.Close()
	buf := make([]byte, 16)
	oob := make([]byte, unix.CmsgSpace(4))
	fd := int(back.Fd())
	for {
		_, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil || oobn == 0 {
			return
		}
		break
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		return
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		return
	}
	for _, extra := range fds[1:] {
		unix.Close(extra)
	}
	f := os.NewFile(uintptr(fds[0]), "9p-transport")
	r := in.root
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gen != gen || r.state == rootStopped {
		f.Close()
		return
	}
	if r.transport != nil {
		r.transport.Close()
	}
	r.transport = f
}

// breakTransport shuts the root's 9P connection down (both ways): every request
// pending on it fails, and every later one. True if there was one.
func (in *Init) breakTransport() bool {
	r := in.root
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.transport == nil {
		return false
	}
	unix.Shutdown(int(r.transport.Fd()), unix.SHUT_RDWR)
	return true
}

// dropTransport closes PID 1's copy of the connection (the root is gone). r.mu
// is held.
func (r *rootSys) dropTransport() {
	if r.transport != nil {
		r.transport.Close()
		r.transport = nil
	}
}
