package console

import (
	"io"
	"strings"
	"testing"
	"time"
)

// stallWriter is a console line that stalls: each Write hands its bytes to the
// test on got and returns only when the test sends on release.
type stallWriter struct {
	got     chan string
	release chan struct{}
}

func newStall() *stallWriter {
	return &stallWriter{got: make(chan string), release: make(chan struct{})}
}

func (s *stallWriter) Write(b []byte) (int, error) {
	s.got <- string(b)
	<-s.release
	return len(b), nil
}

// next waits for the drainer's next Write (it is then blocked in it).
func (s *stallWriter) next(t *testing.T) string {
	t.Helper()
	select {
	case b := <-s.got:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("the queue wrote nothing in 10 s")
		return ""
	}
}

// returns writes q.Write(s) and fails if it blocks.
func returns(t *testing.T, q *Queue, s string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		if n, err := q.Write([]byte(s)); n != len(s) || err != nil {
			t.Errorf("Write(%d bytes) = %d, %v", len(s), n, err)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Write blocked on a stalled console")
	}
}

func TestQueueDropsWhileTheLineStallsAndSaysSo(t *testing.T) {
	w := newStall()
	q := NewQueue(w, 10)
	returns(t, q, "aaaa")
	if got := w.next(t); got != "aaaa" {
		t.Fatalf("first write %q", got)
	}
	// The drainer is stuck in the line's Write: 10 bytes wait, the rest is dropped,
	// also what would fit again after a drop (it would come before the notice).
	returns(t, q, "bbbbbbbb")
	returns(t, q, "ccccc") // 2 fit, 3 dropped
	returns(t, q, "d")
	returns(t, q, strings.Repeat("x", 1<<20))
	if n := q.Dropped(); n != 3+1+1<<20 {
		t.Errorf("Dropped() = %d, want %d", n, 3+1+1<<20)
	}
	w.release <- struct{}{}
	if got := w.next(t); got != "bbbbbbbbcc" {
		t.Errorf("after the stall: %q, want the 10 bytes queued before the drop", got)
	}
	// Queued while the drainer writes: after the notice.
	returns(t, q, "e")
	w.release <- struct{}{}
	if got, want := w.next(t), DropNotice(3+1+1<<20); got != want {
		t.Errorf("notice %q, want %q", got, want)
	}
	w.release <- struct{}{}
	if got := w.next(t); got != "e" {
		t.Errorf("after the notice: %q, want e", got)
	}
	w.release <- struct{}{}
	if !strings.Contains(DropNotice(12345), "[ants: 12345 bytes of console output dropped: the console line stalled]") {
		t.Errorf("notice %q", DropNotice(12345))
	}
}

func TestQueueKeepsOrderAndMovesToANewWriter(t *testing.T) {
	w := newStall()
	q := NewQueue(w, 100)
	returns(t, q, "one ")
	if got := w.next(t); got != "one " {
		t.Fatalf("first write %q", got)
	}
	returns(t, q, "two ")
	returns(t, q, "three ")
	w2 := newStall()
	q.SetWriter(w2)
	w.release <- struct{}{}
	if got := w2.next(t); got != "two three " {
		t.Errorf("after SetWriter: %q, want the queued bytes in order on the new writer", got)
	}
	w2.release <- struct{}{}
	if q.Dropped() != 0 {
		t.Errorf("dropped %d bytes with room to spare", q.Dropped())
	}
}

// The mux writes to the consoles through queues: a stalled console stops none of
// Focus, Notice, or a client's output reaching the other console.
func TestMuxDoesNotWaitForAStalledConsole(t *testing.T) {
	stalled := newStall()
	good := &syncBuf{}
	m := New([]io.Writer{NewQueue(stalled, 1024), NewQueue(good, 1024)}, 0)
	a := m.Client("admin shell", 'a')
	fa := newFake()
	a.Attach(fa)
	done := make(chan struct{})
	go func() {
		m.Focus(a)
		m.Notice("hello")
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the mux blocked on a stalled console")
	}
	fa.Emit("prompt% ")
	waitFor(t, "output on the good console", func() bool { return strings.Contains(good.String(), "prompt% ") })
	if s := good.String(); !strings.Contains(s, "[ants: admin shell;") || !strings.Contains(s, "[ants: hello]") {
		t.Errorf("good console: %q", s)
	}
	stalled.next(t)
}

// While the line keeps up, Write returns once the bytes are written: a caller's
// next step (reboot(2) after the last log line) comes after them.
func TestQueueWritesThroughWhileTheLineKeepsUp(t *testing.T) {
	out := &syncBuf{}
	q := NewQueue(out, 1024)
	q.wait = time.Minute
	for _, s := range []string{"one ", "two ", "three"} {
		q.Write([]byte(s))
		if got := out.String(); !strings.HasSuffix(got, s) {
			t.Fatalf("after Write(%q) returned, the line has %q", s, got)
		}
	}
	// A line that stalls costs one wait, then writes return at once.
	w := newStall()
	q = NewQueue(w, 1024)
	q.wait = time.Millisecond
	returns(t, q, "a")
	q.mu.Lock()
	stalled := q.stalled
	q.mu.Unlock()
	if !stalled {
		t.Errorf("a write that waited for a stalled line did not mark it stalled")
	}
	w.next(t)
	w.release <- struct{}{}
	returns(t, q, "b") // written or not, it returns
	if got := w.next(t); got != "b" {
		t.Errorf("after the stall: %q", got)
	}
	w.release <- struct{}{}
}
