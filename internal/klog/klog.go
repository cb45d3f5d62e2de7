// Package klog writes the boot log: each line stamped with the kernel's uptime, so the
// boot reads as a story with timings, to the console and to /run/ants/boot.log.
package klog

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Uptime is the time since boot, the clock the kernel stamps its own messages with.
func Uptime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// Log writes stamped lines to a console and a file.
type Log struct {
	mu sync.Mutex
	// Console may be nil. Lines are written to it under the log's lock, so it must
	// not block: PID 1 gives it a console.Queue.
	Console io.Writer
	File    io.Writer // may be nil
	Prefix  string    // "ants", "boot"
	// CRLF ends console lines with \r\n, for a console in raw mode (PID 1's).
	CRLF bool
	Now  func() time.Duration
}

// New returns a log with the given prefix writing to console.
func New(prefix string, console io.Writer) *Log {
	return &Log{Console: console, Prefix: prefix, Now: Uptime}
}

// OpenFile appends the log to path (creating it), in addition to the console.
func (l *Log) OpenFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.File = f
	l.mu.Unlock()
	return nil
}

// Stamp formats an uptime as the kernel does: [   1.234567] but in milliseconds.
func Stamp(d time.Duration) string {
	return fmt.Sprintf("[%8.3f]", d.Seconds())
}

// Printf writes one stamped line to the console and the file.
func (l *Log) Printf(format string, args ...any) {
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	l.Line(msg)
}

// Line writes a stamped message; a multi-line message gets a stamp per line.
func (l *Log) Line(msg string) {
	now := Uptime
	if l.Now != nil {
		now = l.Now
	}
	stamp := Stamp(now())
	var b strings.Builder
	for _, line := range strings.Split(msg, "\n") {
		b.WriteString(stamp)
		b.WriteString(" ")
		if l.Prefix != "" {
			b.WriteString(l.Prefix)
			b.WriteString(": ")
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Console != nil {
		if l.CRLF {
			io.WriteString(l.Console, strings.ReplaceAll(b.String(), "\n", "\r\n"))
		} else {
			io.WriteString(l.Console, b.String())
		}
	}
	if l.File != nil {
		io.WriteString(l.File, b.String())
	}
}

// Step logs the start of a step and returns a function that logs its end with the
// time it took: "mounted the admin tmpfs (12 ms)".
func (l *Log) Step(what string) func(err error) {
	start := time.Now()
	return func(err error) {
		ms := time.Since(start).Milliseconds()
		if err != nil {
			l.Printf("%s failed after %d ms: %v", what, ms, err)
			return
		}
		l.Printf("%s (%d ms)", what, ms)
	}
}

// SetConsole replaces the console the log writes to (it must not block either).
func (l *Log) SetConsole(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Console = w
}
