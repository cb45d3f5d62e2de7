package console

import (
	"io"
	"strings"
	"testing"
)

// muxOf is a mux with an admin shell (focused) and the boot scripts, each with a
// stream attached; output is given to the mux directly (m.output), so the bytes
// on the console are exact.
func muxOf(t *testing.T) (*Mux, *syncBuf, *Client, *Client) {
	out := &syncBuf{}
	m := New([]io.Writer{out}, 0)
	a := m.Client("admin shell", 'a')
	b := m.Client("boot scripts", 'b')
	a.Attach(newFake())
	b.Attach(newFake())
	m.Focus(a)
	return m, out, a, b
}

// since returns what reached the console after mark (a length of out earlier).
func since(out *syncBuf, mark int) string { return out.String()[mark:] }

func TestAboveRedrawsTheUnfinishedLine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shell string // what the focused shell printed
		log   string
		want  string // on the console after the shell's output (not to redraw: a new line)
	}{
		{"prompt", "ants% ", "[ 1.0] ants: up\r\n", "\r\x1b[K[ 1.0] ants: up\r\nants% "},
		{"typing", "ants% echo hi", "x\r\n", "\r\x1b[Kx\r\nants% echo hi"},
		{"edited: replayed as the editor left it", "ants% ecjo\b\b\bho", "x\r\n", "\r\x1b[Kx\r\nants% ecjo\b\b\bho"},
		{"after a newline: nothing to clear", "out\r\n", "x\r\n", "x\r\n"},
		{"a line without its newline gets one", "ants% ", "x", "\r\x1b[Kx\r\nants% "},
		{"only the last line", "a\r\nb\r\nants% ", "x\r\n", "\r\x1b[Kx\r\nants% "},
		{"full screen: left alone", "\x1b[2J\x1b[1;1Hmenu", "x\r\n", "\r\nx\r\n"},
		{"cursor up: left alone", "ab\x1b[A", "x\r\n", "\r\nx\r\n"},
		{"erase in line is fine", "ants% ab\x1b[K", "x\r\n", "\r\x1b[Kx\r\nants% ab\x1b[K"},
		{"too long: left alone", strings.Repeat("y", maxRedraw+1), "x\r\n", "\r\nx\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, out, a, _ := muxOf(t)
			m.output(a, []byte(tc.shell))
			mark := len(out.String())
			m.Above([]byte(tc.log))
			if got := since(out, mark); got != tc.want {
				t.Errorf("after %q, Above(%q) wrote %q; want %q", tc.shell, tc.log, got, tc.want)
			}
		})
	}
}

func TestLogWriterIsAbove(t *testing.T) {
	m, out, a, _ := muxOf(t)
	m.output(a, []byte("ants% "))
	mark := len(out.String())
	io.WriteString(m.LogWriter(), "[ 2.0] ants: x\r\n")
	if got := since(out, mark); got != "\r\x1b[K[ 2.0] ants: x\r\nants% " {
		t.Errorf("log line: %q", got)
	}
}

func TestThroughShowsWholeLinesAbove(t *testing.T) {
	m, out, a, b := muxOf(t)
	m.output(a, []byte("ants% "))
	// Without through, the boot scripts' output waits for the focus.
	m.output(b, []byte("hidden\r\n"))
	if strings.Contains(out.String(), "hidden") {
		t.Fatal("a client without the focus or through reached the console")
	}
	b.SetThrough(true)
	mark := len(out.String())
	m.output(b, []byte("net: lo o"))
	if got := since(out, mark); got != "" {
		t.Fatalf("a half line went through: %q", got)
	}
	m.output(b, []byte("nly\r\nnsfs: serv"))
	if got := since(out, mark); got != "\r\x1b[Knet: lo only\r\nants% " {
		t.Errorf("through line: %q", got)
	}
	// The unended line is the boot client's unseen output: its focus shows it
	// once, and what follows is plain focused output.
	m.Focus(b)
	mark = len(out.String())
	m.Focus(a)
	m.Focus(b)
	if s := since(out, mark); strings.Count(s, "nsfs: serv") != 0 {
		t.Errorf("shown again on a second focus: %q", s)
	}
	if !strings.Contains(out.String(), "]\r\nnsfs: serv") {
		t.Errorf("the unended line was not shown on focus: %q", out.String())
	}
	mark = len(out.String())
	m.output(b, []byte("ing\r\n"))
	if got := since(out, mark); got != "ing\r\n" {
		t.Errorf("focused through client: %q", got)
	}
	// Off: nothing more goes through.
	m.Focus(a)
	b.SetThrough(false)
	mark = len(out.String())
	m.output(b, []byte("later\r\n"))
	if got := since(out, mark); got != "" {
		t.Errorf("through off, yet %q reached the console", got)
	}
	// Lines seen through are not shown again when the boot client gets the focus.
	m.Focus(b)
	if s := out.String(); strings.Count(s, "net: lo only") != 1 || !strings.Contains(s, "later") {
		t.Errorf("console: %q", s)
	}
}

func TestThroughLongLine(t *testing.T) {
	m, out, _, b := muxOf(t)
	b.SetThrough(true)
	long := strings.Repeat("z", maxThroughLine+10)
	m.output(b, []byte(long))
	if !strings.Contains(out.String(), long) {
		t.Errorf("a line longer than %d bytes waited for its newline", maxThroughLine)
	}
}

func TestUsed(t *testing.T) {
	m, _, a, b := muxOf(t)
	if a.Used() {
		t.Fatal("used before any key")
	}
	a.Send([]byte("\r")) // PID 1's own Enter is not use
	m.Focus(b)           // nor is a focus change PID 1 makes
	m.Focus(a)
	if a.Used() || b.Used() {
		t.Fatalf("used after Send and Focus: admin %v, boot %v", a.Used(), b.Used())
	}
	m.keys([]byte("l"), false)
	if !a.Used() || b.Used() {
		t.Fatalf("after typing: admin %v, boot %v", a.Used(), b.Used())
	}
	m.keys([]byte("\x1db"), false) // chosen with the escape key
	if !b.Used() {
		t.Fatal("the escape key's choice is not use")
	}
	a.Attach(newFake()) // a new program in the client chosen: still chosen
	if !a.Used() {
		t.Fatal("the choice was lost when a program was attached")
	}
}

func TestChosenAgainSaysSo(t *testing.T) {
	m, out, a, _ := muxOf(t)
	m.output(a, []byte("ants% ec"))
	mark := len(out.String())
	m.keys([]byte("\x1da"), false)
	if got, want := since(out, mark), "\r\x1b[K[ants: admin shell; ^] ? for help]\r\nants% ec"; got != want {
		t.Errorf("^] a on the focused admin shell: %q; want %q", got, want)
	}
}
