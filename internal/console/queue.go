package console

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// QueueSize is how much console output waits for a stalled line before more is
// dropped: at 115200 baud about 23 s of text.
const QueueSize = 256 << 10

// Queue is a writer to a console that never blocks its caller: writes go to a
// bounded buffer that one goroutine drains into the console file. A console line
// can stall for ever (a serial line with flow control held, a VGA console whose
// output is stopped with Ctrl-S): PID 1's log and the mux must not stall with it.
// When the buffer is full, bytes are dropped and counted until the goroutine has
// taken what is queued; after that comes one line saying how many were lost.
//
// While the line keeps up, a Write returns once its bytes are written (as a write
// to the file would), so that what the caller does next comes after them: PID 1's
// last log line before reboot(2) reaches the line. A Write waits StallWait at
// most; after one that waited that long, the line counts as stalled and writes
// return at once until the queue is empty again.
//
// A writer that can write without waiting (a File, whose TryWrite takes what the
// line takes now) is written from the caller's goroutine while the queue is empty
// and its drainer idle; only what the line does not take at once is queued. The
// bytes are on the line when Write returns either way, but without a hand-off to
// the drainer and back: two goroutine switches less for every key and every echo
// through the mux (docs/performance.md, "Writes without a hand-off").
//
// Give PID 1's log and the mux the same Queue for a console device, so that their
// output stays in order.
type Queue struct {
	mu      sync.Mutex
	w       io.Writer
	buf     []byte // waiting for the drainer
	limit   int
	lost    int // dropped since the drainer last took buf
	total   int // dropped ever
	pending chan struct{}
	// queued and written count bytes since the start; progress is closed (and
	// made anew) each time the drainer has written something.
	queued, written int64
	stalled         bool
	progress        chan struct{}
	// draining: the drainer has taken bytes (or a loss) it has not yet written;
	// a direct write waits for it to end, as it would behind them.
	draining bool
	wait     time.Duration // StallWait; tests change it
	// notice is the line written after n dropped bytes (DropNotice).
	notice func(n int) string
	// closed: Close was called; finished is closed when the drainer has
	// written the last of it and ended.
	closed   bool
	finished chan struct{}
}

// tryWriter is a writer that writes what it can without waiting (File.TryWrite).
type tryWriter interface {
	TryWrite(b []byte) (int, error)
}

// StallWait is how long a Write waits for the line before it counts as stalled.
const StallWait = 100 * time.Millisecond

// NewQueue returns a queue of limit bytes in front of w and starts its drainer.
func NewQueue(w io.Writer, limit int) *Queue { return newQueue(w, limit, DropNotice) }

// newQueue is NewQueue with the line written after dropped bytes.
func newQueue(w io.Writer, limit int, notice func(n int) string) *Queue {
	if limit <= 0 {
		limit = QueueSize
	}
	q := &Queue{w: w, limit: limit, pending: make(chan struct{}, 1), progress: make(chan struct{}), wait: StallWait,
		notice: notice, finished: make(chan struct{})}
	go q.drain()
	return q
}

// NewStream returns a queue for a reader that is not a console line (a hub's
// client over a socket): its writes never wait, notice writes the line about n
// dropped bytes, and Close ends it.
func NewStream(w io.Writer, limit int, notice func(n int) string) *Queue {
	q := NewQueue(w, limit)
	q.wait = 0
	q.notice = notice
	return q
}

// Close stops the queue once what is queued is written: later writes are
// dropped. The channel is closed when the drainer has ended.
func (q *Queue) Close() <-chan struct{} {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		select {
		case q.pending <- struct{}{}:
		default:
		}
	}
	q.mu.Unlock()
	return q.finished
}

// Write queues b and returns at once; it never fails. What does not fit is
// dropped. The queue is then full, so everything after is dropped too until the
// drainer takes it, and the line about the loss sits where the loss is.
func (q *Queue) Write(b []byte) (int, error) {
	total := len(b)
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return total, nil
	}
	if tw, ok := q.w.(tryWriter); ok && len(q.buf) == 0 && q.lost == 0 && !q.draining {
		// Nothing before b is waiting: write what the line takes now, here.
		n, err := tw.TryWrite(b)
		if err != nil {
			n = len(b) // a failing line loses it, as the drainer's writes do
		}
		q.queued += int64(n)
		q.written += int64(n)
		if n == len(b) {
			q.mu.Unlock()
			return total, nil
		}
		b = b[n:] // the rest waits for the line, as below
	}
	keep := len(b)
	if room := q.limit - len(q.buf); keep > room {
		keep = room
	}
	q.buf = append(q.buf, b[:keep]...)
	if keep < len(b) {
		q.lost += len(b) - keep
		q.total += len(b) - keep
		q.stalled = true
	}
	q.queued += int64(keep)
	target, stalled, progress, wait := q.queued, q.stalled, q.progress, q.wait
	q.mu.Unlock()
	if keep == 0 {
		return total, nil
	}
	select {
	case q.pending <- struct{}{}:
	default:
	}
	if stalled || wait <= 0 {
		return total, nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-progress:
		case <-timer.C:
			q.mu.Lock()
			if q.written < target {
				q.stalled = true
			}
			q.mu.Unlock()
			return total, nil
		}
		q.mu.Lock()
		done := q.written >= target
		progress = q.progress
		q.mu.Unlock()
		if done {
			return total, nil
		}
	}
}

// SetWriter makes the drainer write to w from now on (a console opened again);
// what is queued goes there too.
func (q *Queue) SetWriter(w io.Writer) {
	q.mu.Lock()
	q.w = w
	q.mu.Unlock()
}

// Dropped is the number of bytes the queue has dropped since it was made.
func (q *Queue) Dropped() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.total
}

// DropNotice is the line written after n bytes were dropped.
func DropNotice(n int) string {
	return fmt.Sprintf("\r\n[ants: %d bytes of console output dropped: the console line stalled]\r\n", n)
}

func (q *Queue) drain() {
	defer close(q.finished)
	var buf []byte
	for range q.pending {
		for {
			q.mu.Lock()
			// Swap buffers: the writers fill the other one while this one is written.
			buf, q.buf = q.buf, buf[:0]
			lost, w := q.lost, q.w
			q.lost = 0
			closed := q.closed
			if len(buf) == 0 && lost == 0 {
				q.mu.Unlock()
				if closed {
					return
				}
				break
			}
			q.draining = true
			q.mu.Unlock()
			// Errors are dropped: a console that fails (EIO after a hangup) until it
			// is opened again loses its output, as a stalled one does.
			if len(buf) > 0 {
				w.Write(buf)
			}
			if lost > 0 {
				io.WriteString(w, q.notice(lost))
			}
			q.mu.Lock()
			q.written += int64(len(buf))
			q.draining = false
			if q.written == q.queued {
				q.stalled = false
			}
			close(q.progress)
			q.progress = make(chan struct{})
			q.mu.Unlock()
		}
	}
}
