package console

import (
	"errors"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A File is a console device or a pty master the mux reads and writes, in
// non-blocking mode (O_NONBLOCK), so that a Queue can write to it from its
// caller's goroutine when the line keeps up (TryWrite) and hand it to its
// drainer only when the line does not take the bytes at once. That saves two
// goroutine hand-offs on every key's way and its echo's (issue 15, goal 4:
// docs/performance.md, "Writes without a hand-off"); a stalled line still stalls
// only the drainer.
//
// Read and Write block as on a blocking file, waiting in poll(2): the console's
// reader and the queue's drainer are the goroutines that may wait. Every call goes
// through the os.File's RawConn, so a Close while a Read waits defers the close
// until the Read ends, as os.File does, and a descriptor number is never used
// after it was closed and given to another file.
//
// A Read of a File made hot (Heat: the mux does it while keys come, to the
// console they come from and to the program they go to) waits in a raw poll(2),
// outside Go's scheduler, for 10 ms at a time: the goroutine keeps its P and its
// thread, and the key or echo is copied on without a wake-up of the scheduler.
// That halves what the mux adds to a key's echo again (docs/performance.md,
// "Reads without the scheduler"). It costs a P for each hot reader: PID 1 runs
// with HotReaders more than the CPUs. Once cold again (HotWait after the last
// key), a Read waits in poll(2) as any blocking call does, for ever if need be.
//
// The os.File given to NonBlocking is closed once wrapped; the File's descriptor
// is its duplicate, outside Go's netpoller (NonBlocking says why).
type File struct {
	f   *os.File
	rc  syscall.RawConn
	hot atomic.Int64 // Heat's deadline, in time.Now().UnixNano()
}

// HotWait is how long a File stays hot after the last key (Heat): a pause in
// typing longer than that makes the next key's echo take Go's scheduler again.
const HotWait = time.Second

// HotReaders is how many more Ps than CPUs PID 1 gives the Go runtime for the
// hot readers (Heat): the console keys come from and the program they go to. With
// no P to spare, a goroutine woken while both wait hot would wait for sysmon to
// preempt one of them (10 ms).
const HotReaders = 2

// hotSlice is how long one raw wait lasts: about what sysmon lets a goroutine run
// before it preempts it, so the runtime's stop-the-world and sysmon find it
// back in Go code at once (and a signal ends the wait earlier).
const hotSlice = 10 * time.Millisecond

// Heat makes f's Reads wait outside the scheduler until d from now.
func (f *File) Heat(d time.Duration) {
	f.hot.Store(time.Now().Add(d).UnixNano())
}

// heater is a reader that can be made hot (a File, or a reader around one).
type heater interface{ Heat(d time.Duration) }

// NonBlocking wraps f (a tty or a pty master the caller has done its ioctls on)
// and puts it in non-blocking mode. The File holds a duplicate of f's descriptor
// that Go's netpoller never sees, and f is closed. The File does its own waiting
// (poll(2), or the hot raw ppolls) and never parks on the netpoller, but an
// os.File opened on a device is in the runtime's epoll set all the same: each key
// and each echo then woke a thread of PID 1 out of epoll_pwait(2) for nothing, and
// that epoll's look at a tty (n_tty_poll) waits for the tty's flush work, which
// put the wake-up between the kernel's hand-off of the bytes and their reader
// (three runs of that thread a key, in an ftrace of the root's console:
// docs/performance.md, "Out of the netpoller"). On an error f is left open, maybe
// in blocking mode.
func NonBlocking(f *os.File) (*File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd := -1
	var serr error
	if err := rc.Control(func(fd uintptr) { nfd, serr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, serr
	}
	// Blocking while os.NewFile looks at it, so that it is not made pollable (it
	// shares the open file with f: f is closed below, and never read meanwhile).
	if err := unix.SetNonblock(nfd, false); err != nil {
		unix.Close(nfd)
		return nil, err
	}
	g := os.NewFile(uintptr(nfd), f.Name())
	if err := unix.SetNonblock(nfd, true); err != nil {
		g.Close()
		return nil, err
	}
	grc, err := g.SyscallConn()
	if err != nil {
		g.Close()
		return nil, err
	}
	f.Close()
	return &File{f: g, rc: grc}, nil
}

// Direct is f wrapped by NonBlocking, or f as it is where that fails (then its
// queue hands every write to its drainer, as before).
func Direct(f *os.File) io.ReadWriteCloser {
	if d, err := NonBlocking(f); err == nil {
		return d
	}
	return f
}

// Name is the file's name (/dev/ttyS0, /dev/ptmx).
func (f *File) Name() string { return f.f.Name() }

// Close closes the file (once no Read or Write is under way).
func (f *File) Close() error { return f.f.Close() }

// Read reads what is there, waiting in poll(2) until something is, as os.File's
// Read does: a read of 0 bytes is io.EOF, and errors (EIO after a hangup) come as
// read(2) gives them.
func (f *File) Read(b []byte) (int, error) {
	var n int
	var err error
	if cerr := f.rc.Read(func(fd uintptr) bool {
		for time.Now().UnixNano() < f.hot.Load() {
			if n, err = unix.Read(int(fd), b); err != unix.EAGAIN && err != unix.EINTR {
				return true
			}
			rawPoll(int(fd), unix.POLLIN, hotSlice)
		}
		n, err = retry(int(fd), unix.POLLIN, func() (int, error) { return unix.Read(int(fd), b) })
		return true
	}); cerr != nil {
		return 0, cerr
	}
	if err != nil {
		return 0, &os.PathError{Op: "read", Path: f.f.Name(), Err: err}
	}
	if n == 0 && len(b) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Write writes all of b, waiting in poll(2) while the line takes none: for a
// Queue's drainer, which may wait for ever.
func (f *File) Write(b []byte) (int, error) {
	var done int
	var err error
	if cerr := f.rc.Write(func(fd uintptr) bool {
		for done < len(b) && err == nil {
			var n int
			n, err = retry(int(fd), unix.POLLOUT, func() (int, error) { return unix.Write(int(fd), b[done:]) })
			done += n
		}
		return true
	}); cerr != nil {
		return done, cerr
	}
	if err != nil {
		return done, &os.PathError{Op: "write", Path: f.f.Name(), Err: err}
	}
	return done, nil
}

// TryWrite writes what of b the line takes now and never waits: a full line
// (EAGAIN) writes 0 bytes and no error. Another error (EIO after a hangup) is
// returned as write(2) gives it.
func (f *File) TryWrite(b []byte) (int, error) {
	var n int
	var err error
	if cerr := f.rc.Write(func(fd uintptr) bool {
		for {
			n, err = unix.Write(int(fd), b)
			if err != unix.EINTR {
				break
			}
		}
		return true
	}); cerr != nil {
		return 0, cerr
	}
	if n < 0 {
		n = 0
	}
	if errors.Is(err, unix.EAGAIN) {
		return n, nil
	}
	if err != nil {
		return n, &os.PathError{Op: "write", Path: f.f.Name(), Err: err}
	}
	return n, nil
}

// retry calls op until it does not fail with EINTR or EAGAIN, waiting in poll(2)
// for events after an EAGAIN.
func retry(fd int, events int16, op func() (int, error)) (int, error) {
	for {
		n, err := op()
		switch err {
		case nil:
			return n, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
			if _, err := unix.Poll(pfd, -1); err != nil && err != unix.EINTR {
				return 0, err
			}
		default:
			if n < 0 {
				n = 0
			}
			return n, err
		}
	}
}

// rawPoll waits up to d for events on fd by a raw ppoll(2): the goroutine keeps
// its P (no entersyscall, so no hand-off of the P and no wake-up of sysmon or of
// another thread when it returns). Whatever it returns, the caller tries its read
// again.
// It says whether fd had any event (readable, or hung up or failed).
func rawPoll(fd int, events int16, d time.Duration) bool {
	pfd := unix.PollFd{Fd: int32(fd), Events: events}
	ts := unix.NsecToTimespec(int64(d))
	n, _, errno := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	return errno == 0 && n > 0
}

// A HotTerminal reads a shell's terminal: a blocking file that the shell's
// commands share (so it stays blocking: O_NONBLOCK would be theirs too). For
// HotWait after a read that returned keys, a Read first waits for the next ones in
// raw poll(2)s of hotSlice, as a hot File does, and reads once they are there;
// then the read(2) finds them and returns at once. Cold, it reads as the file
// does. (antsh at its prompt: the admin shell's own part of a key's echo.)
type HotTerminal struct {
	f   *os.File
	rc  syscall.RawConn
	hot atomic.Int64
}

// NewHotTerminal wraps f; where it has no RawConn, Reads are f's own.
func NewHotTerminal(f *os.File) *HotTerminal {
	rc, _ := f.SyscallConn()
	return &HotTerminal{f: f, rc: rc}
}

// Read reads f, after waiting hot for input while keys come.
func (t *HotTerminal) Read(b []byte) (int, error) {
	if t.rc != nil && time.Now().UnixNano() < t.hot.Load() {
		t.rc.Control(func(fd uintptr) {
			for time.Now().UnixNano() < t.hot.Load() && !rawPoll(int(fd), unix.POLLIN, hotSlice) {
			}
		})
	}
	n, err := t.f.Read(b)
	if n > 0 {
		t.hot.Store(time.Now().Add(HotWait).UnixNano())
	}
	return n, err
}
