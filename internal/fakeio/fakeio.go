// Package fakeio has the test doubles of ants' console and hub tests: a program's
// stream (what the mux writes to it is kept, Emit makes it print), a buffer safe
// for several goroutines, and a wait for a condition.
package fakeio

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"
)

// Stream stands for a program behind a pty master: Read gives what Emit printed,
// Write keeps what was typed into it.
type Stream struct {
	mu sync.Mutex
	in bytes.Buffer
	pr *io.PipeReader
	pw *io.PipeWriter
}

// NewStream returns a stream with nothing printed or typed yet.
func NewStream() *Stream {
	s := &Stream{}
	s.pr, s.pw = io.Pipe()
	return s
}

func (s *Stream) Read(b []byte) (int, error) { return s.pr.Read(b) }

func (s *Stream) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.in.Write(b)
}

// Close ends what Read gives (the program's end).
func (s *Stream) Close() error { return s.pw.Close() }

// Emit makes the program print str; it returns once the reader has taken it.
func (s *Stream) Emit(str string) { s.pw.Write([]byte(str)) }

// Got is what was typed into the program.
func (s *Stream) Got() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.in.String()
}

// Buffer is a bytes.Buffer for several goroutines.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }

func (s *Buffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Eventually waits up to about 2 s for f, failing the test with what if it never
// holds.
func Eventually(t testing.TB, what string, f func() bool) {
	t.Helper()
	for i := 0; i < 400; i++ {
		if f() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
