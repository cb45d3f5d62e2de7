package console

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// rawPTY is a pty pair with the slave raw (as a shell's line editor leaves it),
// the master wrapped by NonBlocking.
func rawPTY(t *testing.T) (*File, *os.File) {
	t.Helper()
	master, slave := rawPair(t)
	f, err := NonBlocking(master)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() }) // rawPair closes the slave
	return f, slave
}

// rawPair is a pty pair with the slave raw, both closed when the test ends.
func rawPair(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, slave, err := OpenPTY()
	if err != nil {
		t.Skipf("no ptys here: %v", err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	if _, err := term.MakeRaw(int(slave.Fd())); err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// within runs fn and fails the test if it takes longer than d.
func within(t *testing.T, what string, d time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still waiting after %v", what, d)
	}
}

// TestFileTryWriteNeverWaits: a program that does not read its pty fills it; then
// TryWrite takes nothing and returns at once, and a Queue in front of the file
// returns from Write within its StallWait. Once the program reads, the drainer
// delivers the rest, in order.
func TestFileTryWriteNeverWaits(t *testing.T) {
	f, slave := rawPTY(t)
	chunk := bytes.Repeat([]byte("k"), 4096)
	var sent bytes.Buffer
	within(t, "filling the pty with TryWrite", 10*time.Second, func() {
		for i := 0; i < 1000; i++ {
			n, err := f.TryWrite(chunk)
			if err != nil {
				t.Errorf("TryWrite: %v", err)
				return
			}
			sent.Write(chunk[:n])
			if n == 0 {
				return
			}
		}
		t.Errorf("the pty took 4 MB and never filled")
	})
	if sent.Len() == 0 {
		t.Fatal("the pty took nothing")
	}
	q := newKeys(f)
	q.wait = 50 * time.Millisecond
	within(t, "Queue.Write to the full pty", 5*time.Second, func() { q.Write([]byte("tail")) })
	sent.WriteString("tail")
	got := make([]byte, 0, sent.Len())
	buf := make([]byte, 8192)
	within(t, "reading it all back", 20*time.Second, func() {
		for len(got) < sent.Len() {
			n, err := slave.Read(buf)
			if err != nil {
				t.Errorf("reading the slave: %v", err)
				return
			}
			got = append(got, buf[:n]...)
		}
	})
	if !bytes.Equal(got, sent.Bytes()) {
		t.Errorf("read %d bytes back, not the %d written in order", len(got), sent.Len())
	}
}

// TestFileReadsColdAndHot: a Read waits until the program writes, cold (in
// poll(2) through the runtime) and hot (raw waits of hotSlice, across several
// of them), and ends with EIO once the program's side is closed, hot or cold.
func TestFileReadsColdAndHot(t *testing.T) {
	for _, hot := range []bool{false, true} {
		f, slave := rawPTY(t)
		if hot {
			f.Heat(time.Minute)
		}
		buf := make([]byte, 64)
		go func() {
			time.Sleep(3 * hotSlice)
			slave.Write([]byte("echo"))
		}()
		within(t, "a Read", 10*time.Second, func() {
			n, err := f.Read(buf)
			if err != nil || string(buf[:n]) != "echo" {
				t.Errorf("hot %v: Read = %q, %v; want \"echo\"", hot, buf[:n], err)
			}
		})
		go func() {
			time.Sleep(3 * hotSlice)
			slave.Close()
		}()
		within(t, "a Read after the slave is closed", 10*time.Second, func() {
			if _, err := f.Read(buf); !errors.Is(err, syscall.EIO) {
				t.Errorf("hot %v: Read after close = %v, want EIO", hot, err)
			}
		})
	}
}

// TestHeatEnds: a File made hot for a short while goes cold by itself: a Read
// still waiting after it takes the runtime's wait and returns when data comes.
func TestHeatEnds(t *testing.T) {
	f, slave := rawPTY(t)
	f.Heat(2 * hotSlice)
	go func() {
		time.Sleep(20 * hotSlice)
		slave.Write([]byte("late"))
	}()
	buf := make([]byte, 64)
	within(t, "a Read past the heat", 10*time.Second, func() {
		if n, err := f.Read(buf); err != nil || string(buf[:n]) != "late" {
			t.Errorf("Read = %q, %v", buf[:n], err)
		}
	})
}

// tryStall is a line that takes room bytes at once (TryWrite) and, for the
// drainer, stalls as stallWriter does.
type tryStall struct {
	*stallWriter
	mu     sync.Mutex
	room   int
	direct bytes.Buffer
}

func (s *tryStall) TryWrite(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(len(b), s.room)
	s.room -= n
	s.direct.Write(b[:n])
	return n, nil
}

func (s *tryStall) setRoom(n int) {
	s.mu.Lock()
	s.room = n
	s.mu.Unlock()
}

// TestQueueWritesDirectlyAndKeepsOrder: with room on the line, Write writes in the
// caller (the drainer writes nothing); what the line does not take goes to the
// drainer, and while that waits, later writes queue behind it even when the line
// has room again.
func TestQueueWritesDirectlyAndKeepsOrder(t *testing.T) {
	w := &tryStall{stallWriter: newStall(), room: 100}
	q := NewQueue(w, 1000)
	q.wait = 20 * time.Millisecond
	returns(t, q, "one")
	if got := w.direct.String(); got != "one" {
		t.Fatalf("direct writes %q, want \"one\"", got)
	}
	w.setRoom(2)
	returns(t, q, "two") // "tw" now, "o" queued: the drainer is held in Write
	if got := w.next(t); got != "o" {
		t.Fatalf("the drainer wrote %q, want the rest \"o\"", got)
	}
	w.setRoom(100)
	returns(t, q, "three") // behind the "o": queued, not direct
	if got := w.direct.String(); got != "onetw" {
		t.Errorf("direct writes %q while the drainer waited, want \"onetw\"", got)
	}
	w.release <- struct{}{}
	if got := w.next(t); got != "three" {
		t.Errorf("the drainer wrote %q, want \"three\"", got)
	}
	w.release <- struct{}{}
	within(t, "the queue empties", 5*time.Second, func() {
		for {
			q.mu.Lock()
			idle := len(q.buf) == 0 && !q.draining && q.written == q.queued
			q.mu.Unlock()
			if idle {
				return
			}
			time.Sleep(time.Millisecond)
		}
	})
	returns(t, q, "four")
	if got := w.direct.String(); got != "onetwfour" {
		t.Errorf("direct writes %q once the queue was empty, want \"onetwfour\"", got)
	}
}

// TestHotTerminal: a shell's terminal (the slave, blocking, shared with its
// commands) reads a key cold, then the next one after a hot wait across several
// raw polls, and ends when the other side goes while it waits hot. The file stays
// blocking.
func TestHotTerminal(t *testing.T) {
	master, slave := rawPair(t)
	h := NewHotTerminal(slave)
	buf := make([]byte, 16)
	for i, key := range []string{"a", "b"} {
		go func() {
			time.Sleep(3 * hotSlice)
			master.Write([]byte(key))
		}()
		within(t, "a key", 10*time.Second, func() {
			if n, err := h.Read(buf); err != nil || string(buf[:n]) != key {
				t.Errorf("key %d: Read = %q, %v; want %q", i, buf[:n], err, key)
			}
		})
		if i == 0 && time.Now().UnixNano() >= h.hot.Load() {
			t.Fatal("not hot after a key")
		}
	}
	go func() {
		time.Sleep(3 * hotSlice)
		master.Close()
	}()
	within(t, "a Read once the other side is gone", 10*time.Second, func() {
		if _, err := h.Read(buf); err == nil {
			t.Error("Read after the master closed: no error")
		}
	})
	fl, err := unix.FcntlInt(slave.Fd(), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_NONBLOCK != 0 {
		t.Errorf("the terminal's flags %#x, %v: want it blocking", fl, err)
	}
}

// epollTargets is the descriptors in this process's epoll sets (the Go runtime's
// netpoller is one), from /proc/self/fdinfo.
func epollTargets(t *testing.T) map[int]bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	targets := map[int]bool{}
	sets := 0
	for _, e := range ents {
		if l, _ := os.Readlink("/proc/self/fd/" + e.Name()); l != "anon_inode:[eventpoll]" {
			continue
		}
		b, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue
		}
		sets++
		for _, line := range strings.Split(string(b), "\n") {
			var fd int
			if _, err := fmt.Sscanf(line, "tfd: %d", &fd); err == nil {
				targets[fd] = true
			}
		}
	}
	if sets == 0 {
		t.Fatal("no epoll set in this process: the test cannot see Go's netpoller")
	}
	return targets
}

// TestFileOutOfNetpoller: a wrapped pty master is not in Go's netpoller, so that
// its keys and echoes wake no thread of PID 1 in epoll_pwait (NonBlocking), while
// the os.File it came from was; the original is closed, and the File still reads
// and writes.
func TestFileOutOfNetpoller(t *testing.T) {
	master, slave := rawPair(t)
	var ofd int
	rc, _ := master.SyscallConn()
	rc.Control(func(fd uintptr) { ofd = int(fd) })
	if !epollTargets(t)[ofd] {
		t.Fatalf("the pty master from os.OpenFile (fd %d) is not in the netpoller: the check below proves nothing", ofd)
	}
	f, err := NonBlocking(master)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var nfd int
	f.rc.Control(func(fd uintptr) { nfd = int(fd) })
	if targets := epollTargets(t); targets[nfd] {
		t.Errorf("the File's descriptor %d is in the netpoller (epoll targets %v)", nfd, targets)
	}
	if _, err := master.Write([]byte("x")); err == nil {
		t.Error("the os.File given to NonBlocking still writes: it should be closed")
	}
	if fl, err := unix.FcntlInt(uintptr(nfd), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Errorf("the File's descriptor flags %#x, %v: want O_NONBLOCK", fl, err)
	}
	if _, err := slave.Write([]byte("echo")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	within(t, "reading the echo", 5*time.Second, func() {
		n, err := f.Read(buf)
		if err != nil || string(buf[:n]) != "echo" {
			t.Errorf("Read: %q, %v", buf[:n], err)
		}
	})
	if n, err := f.TryWrite([]byte("k")); n != 1 || err != nil {
		t.Errorf("TryWrite: %d, %v", n, err)
	}
	within(t, "reading the key on the slave", 5*time.Second, func() {
		n, err := slave.Read(buf)
		if err != nil || string(buf[:n]) != "k" {
			t.Errorf("slave Read: %q, %v", buf[:n], err)
		}
	})
}
