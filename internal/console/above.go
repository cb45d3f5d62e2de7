package console

import (
	"bytes"
	"io"
)

// Lines above the prompt. PID 1's log, and the boot scripts while they run behind
// the admin prompt (SetThrough), print whole lines on the consoles whatever client
// has the focus. A line must not leave that client's screen broken: the mux clears
// the client's unfinished line (its prompt and what was typed), writes the lines,
// and prints the unfinished line again, as its program left it, so the cursor is
// where the program thinks it is. This is what line editors do for asynchronous
// messages (linenoise's hide/show); here the mux does it for every client, from
// the client's backlog.

// maxRedraw bounds the unfinished line the mux prints again; a longer one (a
// full-screen program's output has few newlines) is left alone.
const maxRedraw = 1024

// maxThroughLine bounds a line of a through client waiting for its newline.
const maxThroughLine = 4096

// unfinished returns the focused client's output since its last newline, to print
// again after a line above it; nil when there is none or it cannot be printed
// again as it is (too long, or it moves the cursor to an absolute place or clears
// the screen: a full-screen program). m.mu is held.
func (c *Client) unfinished() []byte {
	backlog := c.backlog.bytes()
	i := bytes.LastIndexByte(backlog, '\n')
	tail := backlog[i+1:]
	if len(tail) == 0 || len(tail) > maxRedraw {
		return nil
	}
	// CSI sequences that do not only act on the current line: cursor position
	// (H, f), up and down (A, B), erase in display (J), scroll region (r).
	for j := 0; j+1 < len(tail); j++ {
		if tail[j] != 0x1b || tail[j+1] != '[' {
			continue
		}
		k := j + 2
		for k < len(tail) && (tail[k] >= '0' && tail[k] <= '9' || tail[k] == ';' || tail[k] == '?') {
			k++
		}
		if k < len(tail) && bytes.IndexByte([]byte("HfABJr"), tail[k]) >= 0 {
			return nil
		}
	}
	return append([]byte(nil), tail...)
}

// Above writes whole lines on the consoles above the focused client's unfinished
// line (see the top of this file). b should end with a newline; one is added if
// not. It does not wait for a console (the outs are queues).
func (m *Mux) Above(b []byte) {
	if len(b) == 0 {
		return
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	m.aboveLocked(b)
}

// aboveLocked is Above with m.wmu held.
func (m *Mux) aboveLocked(b []byte) {
	m.mu.Lock()
	var tail []byte
	atStart := true // the cursor is at a line's start
	if f := m.focus; f != nil {
		tail = f.unfinished()
		bl := f.backlog.bytes()
		atStart = len(bl) == 0 || bl[len(bl)-1] == '\n'
	}
	outs := m.outs
	m.mu.Unlock()
	msg := make([]byte, 0, len(b)+len(tail)+8)
	switch {
	case tail != nil:
		msg = append(msg, "\r\x1b[K"...) // the line's start, the line cleared
	case !atStart:
		msg = append(msg, "\r\n"...) // a line not to print again: below it
	}
	msg = append(msg, b...)
	if b[len(b)-1] != '\n' {
		msg = append(msg, "\r\n"...)
	}
	msg = append(msg, tail...)
	for _, w := range outs {
		w.Write(msg)
	}
}

// LogWriter returns a writer for PID 1's log: each Write is whole lines, put
// above the focused client's unfinished line.
func (m *Mux) LogWriter() io.Writer { return aboveWriter{m} }

type aboveWriter struct{ m *Mux }

func (w aboveWriter) Write(b []byte) (int, error) {
	w.m.Above(b)
	return len(b), nil
}

// SetThrough says whether the client's output reaches the consoles while it does
// not have the focus: line by line, above the focused client's unfinished line.
// The boot scripts run so behind the admin prompt. A line not yet ended waits
// (it is shown with the rest of the client's output when the client gets the
// focus); turning it off shows no more lines.
func (c *Client) SetThrough(on bool) {
	c.mux.wmu.Lock()
	defer c.mux.wmu.Unlock()
	c.mux.mu.Lock()
	defer c.mux.mu.Unlock()
	c.through = on
	if !on {
		c.partial = nil
	}
}

// throughLocked handles output of a through client without the focus: complete
// lines go above the focused client's line; the rest waits as unseen output.
// m.wmu and m.mu are held; it returns with m.mu released.
func (m *Mux) throughLocked(c *Client, b []byte) {
	c.partial = append(c.partial, b...)
	i := bytes.LastIndexByte(c.partial, '\n')
	if i < 0 && len(c.partial) > maxThroughLine {
		i = len(c.partial) - 1 // a line too long to wait for: shown as it is
	}
	var lines []byte
	if i >= 0 {
		lines = append([]byte(nil), c.partial[:i+1]...)
		c.partial = append(c.partial[:0], c.partial[i+1:]...)
	}
	c.unseen = len(c.partial)
	m.mu.Unlock()
	if len(lines) > 0 {
		m.aboveLocked(lines)
	}
}

// Used says whether someone at the console has used the client: typed into it,
// or moved the console to it with the escape key (what PID 1 sends it and the
// focus changes PID 1 makes do not count). It stays so when a new program is
// attached: a choice made before the admin shell's first program started (^] a
// at the first banner) is a choice all the same.
func (c *Client) Used() bool {
	c.mux.mu.Lock()
	defer c.mux.mu.Unlock()
	return c.used
}
