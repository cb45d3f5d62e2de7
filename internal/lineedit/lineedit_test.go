package lineedit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

const prompt = "> "

// Keys as a terminal sends them.
const (
	up     = "\x1b[A"
	down   = "\x1b[B"
	right  = "\x1b[C"
	left   = "\x1b[D"
	home   = "\x1b[H"
	end    = "\x1b[F"
	home1  = "\x1b[1~"
	end4   = "\x1b[4~"
	home7  = "\x1b[7~"
	end8   = "\x1b[8~"
	homeO  = "\x1bOH"
	endO   = "\x1bOF"
	delKey = "\x1b[3~"
	bs     = "\x7f"
)

// bsN is n backspaces as the editor echoes them to move left.
func bsN(n int) string { return strings.Repeat("\b", n) }

// recorder records every Write as its own chunk.
type recorder struct {
	writes [][]byte
}

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, append([]byte(nil), p...))
	return len(p), nil
}

func (r *recorder) String() string { return string(bytes.Join(r.writes, nil)) }

// readOne runs one ReadLine on input and returns the line, echo and error.
func readOne(in io.Reader) (string, string, error) {
	var out bytes.Buffer
	e := New(in, &out)
	line, err := e.ReadLine(prompt)
	return line, out.String(), err
}

func TestReadLineKeys(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
		echo    string // everything written, prompt included
	}{
		// Plain typing: each character echoed as itself, Enter as \r\n.
		{"cr", "abc\r", "abc", nil, "> abc\r\n"},
		{"lf", "abc\n", "abc", nil, "> abc\r\n"},
		{"crlf", "abc\r\n", "abc", nil, "> abc\r\n"},
		{"empty line", "\r", "", nil, "> \r\n"},
		{"spaces kept", "  a b  \r", "  a b  ", nil, ">   a b  \r\n"},
		{"tab is a space", "a\tb\r", "a b", nil, "> a b\r\n"},
		{"other controls ignored", "a\x07\x00\x0fb\r", "ab", nil, "> ab\r\n"},
		{"unknown escape ignored", "a\x1b[Zb\x1bxc\r", "abc", nil, "> abc\r\n"},
		{"ctrl-arrow is an arrow", "ab\x1b[1;5Dx\r", "axb", nil, "> ab\bxb\b\r\n"},

		// Backspace.
		{"backspace at end", "ab" + bs + "\r", "a", nil, "> ab\b \b\r\n"},
		{"ctrl-h at end", "ab\x08c\r", "ac", nil, "> ab\b \bc\r\n"},
		{"backspace at start", bs + "a\r", "a", nil, "> a\r\n"},
		{"backspace all", "ab" + bs + bs + bs + "\r", "", nil, "> ab\b \b\b \b\r\n"},
		{"backspace mid-line", "abc" + left + bs + "\r", "ac", nil, "> abc\b" + "\b" + "c \b\b" + "\r\n"},

		// Moving and inserting.
		{"left then insert", "ac" + left + "b\r", "abc", nil, "> ac\bbc\b\r\n"},
		{"left at start", "a" + left + left + "b\r", "ba", nil, "> a\bba\b\r\n"},
		{"right at end", "a" + right + "\r", "a", nil, "> a\r\n"},
		{"left right", "ab" + left + right + "c\r", "abc", nil, "> ab\bbc\r\n"},
		{"home insert", "abc" + home + "x\r", "xabc", nil, "> abc\b\b\bxabc\b\b\b\r\n"},
		{"home end insert", "abc" + home + end + "x\r", "abcx", nil, "> abc\b\b\babcx\r\n"},
		{"home 1~ end 4~", "abc" + home1 + "x" + end4 + "y\r", "xabcy", nil, "> abc\b\b\bxabc\b\b\babcy\r\n"},
		{"home 7~ end 8~", "abc" + home7 + "x" + end8 + "y\r", "xabcy", nil, "> abc\b\b\bxabc\b\b\babcy\r\n"},
		{"home O end O", "abc" + homeO + "x" + endO + "y\r", "xabcy", nil, "> abc\b\b\bxabc\b\b\babcy\r\n"},
		{"ctrl-a ctrl-e", "abc\x01x\x05y\r", "xabcy", nil, "> abc\b\b\bxabc\b\b\babcy\r\n"},
		{"ctrl-b insert", "abc\x02x\r", "abxc", nil, "> abc\bxc\b\r\n"},
		{"ctrl-b ctrl-f insert", "abc\x02\x02\x06x\r", "abxc", nil, "> abc\b\bbxc\b\r\n"},
		{"ctrl-b at start", "a\x02\x02\r", "a", nil, "> a\b\r\n"},
		{"ctrl-f at end", "a\x06\r", "a", nil, "> a\r\n"},

		// Delete.
		{"delete at start", "abc" + home + delKey + "\r", "bc", nil, "> abc\b\b\bbc \b\b\b\r\n"},
		{"delete mid", "abc" + left + left + delKey + "\r", "ac", nil, "> abc\b\bc \b\b\r\n"},
		{"delete at end", "abc" + delKey + "\r", "abc", nil, "> abc\r\n"},

		// Kill keys.
		{"ctrl-k mid", "abcdef\x02\x02\x02\x0b\r", "abc", nil, "> abcdef" + bsN(3) + bsN(3) + "abc   " + bsN(3) + "\r\n"},
		{"ctrl-k at end", "abc\x0b\r", "abc", nil, "> abc" + bsN(3) + "abc\r\n"},
		{"ctrl-k at start", "abc\x01\x0b\r", "", nil, "> abc" + bsN(3) + "   " + bsN(3) + "\r\n"},
		{"ctrl-u mid", "abcdef\x02\x02\x02\x15\r", "def", nil, "> abcdef" + bsN(3) + bsN(3) + "def   " + bsN(3) + bsN(3) + "\r\n"},
		{"ctrl-u at end", "abc\x15\r", "", nil, "> abc" + bsN(3) + "   " + bsN(3) + "\r\n"},
		{"ctrl-u then type", "abc\x15x\r", "x", nil, "> abc" + bsN(3) + "   " + bsN(3) + "x\r\n"},
		{"ctrl-w word", "foo bar\x17\r", "foo ", nil, "> foo bar" + bsN(7) + "foo    " + bsN(3) + "\r\n"},
		{"ctrl-w trailing spaces", "foo bar  \x17\r", "foo ", nil, "> foo bar  " + bsN(9) + "foo      " + bsN(5) + "\r\n"},
		{"ctrl-w mid word", "foo bar\x02\x17\r", "foo r", nil, "> foo bar\b" + bsN(6) + "foo r  " + bsN(2) + "\b\r\n"},
		{"ctrl-w twice", "foo bar\x17\x17\r", "", nil, "> foo bar" + bsN(7) + "foo    " + bsN(3) + bsN(4) + "    " + bsN(4) + "\r\n"},
		{"ctrl-w at start", "foo\x01\x17\r", "foo", nil, "> foo" + bsN(3) + "foo\b\b\b\r\n"},

		// ^L redraws the prompt and the line, cursor in place.
		{"ctrl-l", "ab\x02\x0c\r", "ab", nil, "> ab\b\x1b[H\x1b[2J> ab\b\r\n"},

		// ^C and ^D.
		{"ctrl-c", "ab\x03", "", ErrInterrupt, "> ab^C\r\n"},
		{"ctrl-c empty", "\x03", "", ErrInterrupt, "> ^C\r\n"},
		{"ctrl-d empty", "\x04", "", io.EOF, "> "},
		{"ctrl-d after erasing", "a" + bs + "\x04", "", io.EOF, "> a\b \b"},
		{"ctrl-d deletes under cursor", "abc\x01\x04\r", "bc", nil, "> abc\b\b\bbc \b\b\b\r\n"},
		{"ctrl-d at end of line", "ab\x04\r", "ab", nil, "> ab\r\n"},

		// End of input.
		{"eof empty", "", "", io.EOF, "> "},
		{"eof partial line", "abc", "abc", nil, "> abc\r\n"},
		{"eof in escape", "abc\x1b[", "abc", nil, "> abc\r\n"},
		{"eof after esc", "\x1b", "", io.EOF, "> "},

		// UTF-8.
		{"utf8", "héllo\r", "héllo", nil, "> héllo\r\n"},
		{"utf8 backspace", "hé" + bs + "\r", "h", nil, "> hé\b \b\r\n"},
		{"utf8 left insert", "hé" + left + "x\r", "hxé", nil, "> hé\bxé\b\r\n"},
		{"utf8 wide", "日本\r", "日本", nil, "> 日本\r\n"},
		{"utf8 invalid byte dropped", "a\xffb\r", "ab", nil, "> ab\r\n"},
		{"utf8 four bytes", "a😀b\r", "a😀b", nil, "> a😀b\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Whether the keys come all at once or one byte a read, the line and
			// the echo are the same.
			readers := map[string]io.Reader{
				"whole":    strings.NewReader(tt.in),
				"one byte": iotest.OneByteReader(strings.NewReader(tt.in)),
			}
			for rname, r := range readers {
				line, echo, err := readOne(r)
				if line != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
					t.Errorf("%s: ReadLine(%q) = %q, %v; want %q, %v", rname, tt.in, line, err, tt.want, tt.wantErr)
				}
				if echo != tt.echo {
					t.Errorf("%s: ReadLine(%q) echoed\n\t%q\nwant\n\t%q", rname, tt.in, echo, tt.echo)
				}
			}
		})
	}
}

// A typed character is one byte out, and what was read in one go is echoed in one
// write: a paste is not echoed key by key.
func TestEchoWrites(t *testing.T) {
	tests := []struct {
		name   string
		reader func(string) io.Reader
		in     string
		writes []string
	}{
		{"paste", func(s string) io.Reader { return strings.NewReader(s) }, "abc\r", []string{"> ", "abc\r\n"}},
		{"typed", func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }, "abc\r", []string{"> ", "a", "b", "c", "\r\n"}},
		{"typed backspace", func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }, "ab" + bs + "\r", []string{"> ", "a", "b", "\b \b", "\r\n"}},
		{"typed utf8", func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }, "é\r", []string{"> ", "é", "\r\n"}},
		{"typed arrow", func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }, "a" + left + "\r", []string{"> ", "a", "\b", "\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			e := New(tt.reader(tt.in), &rec)
			if _, err := e.ReadLine(prompt); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range rec.writes {
				got = append(got, string(w))
			}
			if !reflect.DeepEqual(got, tt.writes) {
				t.Errorf("writes %q, want %q", got, tt.writes)
			}
		})
	}
}

type result struct {
	line string
	err  error
}

// readAll calls ReadLine until io.EOF (at most limit times) and returns every result.
func readAll(e *Editor, limit int) []result {
	var rs []result
	for i := 0; i < limit; i++ {
		line, err := e.ReadLine(prompt)
		rs = append(rs, result{line, err})
		if err == io.EOF {
			break
		}
	}
	return rs
}

func TestReadLineSequence(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []result
		echo    string
		history []string
	}{
		{"crlf is one enter", "a\r\nb\r\n", []result{{"a", nil}, {"b", nil}, {"", io.EOF}}, "> a\r\n> b\r\n> ", []string{"a", "b"}},
		{"cr cr is two enters", "a\r\rb\r", []result{{"a", nil}, {"", nil}, {"b", nil}, {"", io.EOF}}, "> a\r\n> \r\n> b\r\n> ", []string{"a", "b"}},
		{"lf lf is two enters", "a\n\nb\n", []result{{"a", nil}, {"", nil}, {"b", nil}, {"", io.EOF}}, "> a\r\n> \r\n> b\r\n> ", []string{"a", "b"}},
		{"crlf crlf", "\r\n\r\n", []result{{"", nil}, {"", nil}, {"", io.EOF}}, "> \r\n> \r\n> ", nil},
		{"lf after another key is enter", "a\rb\x02\nc\r", []result{{"a", nil}, {"b", nil}, {"c", nil}, {"", io.EOF}}, "> a\r\n> b\b\r\n> c\r\n> ", []string{"a", "b", "c"}},
		{"ctrl-c clears the next line", "ab\x03cd\r", []result{{"", ErrInterrupt}, {"cd", nil}, {"", io.EOF}}, "> ab^C\r\n> cd\r\n> ", []string{"cd"}},
		{"ctrl-c not in history", "ab\x03\x10\r", []result{{"", ErrInterrupt}, {"", nil}, {"", io.EOF}}, "> ab^C\r\n> \r\n> ", nil},
		{"eof partial then eof", "abc", []result{{"abc", nil}, {"", io.EOF}}, "> abc\r\n> ", []string{"abc"}},
		{"ctrl-d ends", "a\r\x04b\r", []result{{"a", nil}, {"", io.EOF}}, "> a\r\n> ", []string{"a"}},
		{"duplicates stored once", "a\ra\rb\ra\r", []result{{"a", nil}, {"a", nil}, {"b", nil}, {"a", nil}, {"", io.EOF}}, "> a\r\n> a\r\n> b\r\n> a\r\n> ", []string{"a", "b", "a"}},
		{"blank lines not stored", "a\r  \r\r\tb\r", []result{{"a", nil}, {"  ", nil}, {"", nil}, {" b", nil}, {"", io.EOF}}, "> a\r\n>   \r\n> \r\n>  b\r\n> ", []string{"a", " b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			e := New(strings.NewReader(tt.in), &out)
			got := readAll(e, len(tt.want)+3)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("lines %v, want %v", got, tt.want)
			}
			if out.String() != tt.echo {
				t.Errorf("echo\n\t%q\nwant\n\t%q", out.String(), tt.echo)
			}
			if !reflect.DeepEqual(e.History, tt.history) {
				t.Errorf("History %q, want %q", e.History, tt.history)
			}
		})
	}
}

func TestHistory(t *testing.T) {
	tests := []struct {
		name    string
		history []string
		in      string
		want    string
		echo    string // after the prompt
		after   []string
	}{
		{"up", []string{"one", "two"}, up + "\r", "two", "two\r\n", []string{"one", "two"}},
		{"ctrl-p", []string{"one", "two"}, "\x10\r", "two", "two\r\n", []string{"one", "two"}},
		{"up up", []string{"one", "two"}, up + up + "\r", "one", "two" + bsN(3) + "one\r\n", []string{"one", "two", "one"}},
		{"up past the top", []string{"one", "two"}, up + up + up + up + "\r", "one", "two" + bsN(3) + "one\r\n", []string{"one", "two", "one"}},
		{"down at the bottom", []string{"one"}, "x" + down + "\x0e\r", "x", "x\r\n", []string{"one", "x"}},
		{"up empty history", nil, up + "\x10a\r", "a", "a\r\n", []string{"a"}},
		{"back to the typed line", []string{"one", "two"}, "par" + up + up + down + down + "\r", "par",
			"par" + bsN(3) + "two" + bsN(3) + "one" + bsN(3) + "two" + bsN(3) + "par\r\n", []string{"one", "two", "par"}},
		{"back to the typed line with ctrl-p ctrl-n", []string{"one", "two"}, "par\x10\x10\x0e\x0e\r", "par",
			"par" + bsN(3) + "two" + bsN(3) + "one" + bsN(3) + "two" + bsN(3) + "par\r\n", []string{"one", "two", "par"}},
		{"back to an empty line", []string{"one"}, up + down + "\r", "", "one" + bsN(3) + "   " + bsN(3) + "\r\n", []string{"one"}},
		{"longer and shorter", []string{"a-long-line"}, "x" + up + down + "\r", "x",
			"x\ba-long-line" + bsN(11) + "x" + strings.Repeat(" ", 10) + bsN(10) + "\r\n", []string{"a-long-line", "x"}},
		{"typed line comes back with the cursor at its end", []string{"one"}, "abc\x01" + up + down + "x\r", "abcx",
			"abc" + bsN(3) + "one" + bsN(3) + "abcx\r\n", []string{"one", "abcx"}},
		{"edit a history line", []string{"one"}, up + bs + "e\r", "one", "one\b \be\r\n", []string{"one"}},
		{"edit a history line then enter", []string{"one"}, up + "s\r", "ones", "ones\r\n", []string{"one", "ones"}},
		{"up on the same last line", []string{"one"}, up + "\r", "one", "one\r\n", []string{"one"}},
		{"utf8 history", []string{"héllo"}, "ab" + up + "\r", "héllo", "ab\b\bhéllo\r\n", []string{"héllo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			e := New(strings.NewReader(tt.in), &out)
			e.History = append([]string(nil), tt.history...)
			line, err := e.ReadLine(prompt)
			if err != nil || line != tt.want {
				t.Errorf("ReadLine = %q, %v; want %q", line, err, tt.want)
			}
			if want := prompt + tt.echo; out.String() != want {
				t.Errorf("echo\n\t%q\nwant\n\t%q", out.String(), want)
			}
			if !reflect.DeepEqual(e.History, tt.after) {
				t.Errorf("History %q, want %q", e.History, tt.after)
			}
		})
	}
}

// History is browsed from the lines typed before, on the same editor.
func TestHistoryAcrossLines(t *testing.T) {
	var out bytes.Buffer
	e := New(strings.NewReader("first\rsecond\r"+up+up+"\r"+up+"\r"), &out)
	want := []result{{"first", nil}, {"second", nil}, {"first", nil}, {"first", nil}, {"", io.EOF}}
	got := readAll(e, 10)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lines %v, want %v", got, want)
	}
	if wantH := []string{"first", "second", "first"}; !reflect.DeepEqual(e.History, wantH) {
		t.Errorf("History %q, want %q", e.History, wantH)
	}
}

func TestMaxHistory(t *testing.T) {
	lines := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "%d\r", i)
		}
		return b.String()
	}
	tests := []struct {
		max       int
		typed     int
		wantLen   int
		wantFirst string
	}{
		{1, 3, 1, "2"},
		{2, 3, 2, "1"},
		{3, 3, 3, "0"},
		{10, 3, 3, "0"},
		{0, 499, 499, "0"},
		{0, 500, 500, "0"},
		{0, 501, 500, "1"},
		{0, 600, 500, "100"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("max%d_typed%d", tt.max, tt.typed), func(t *testing.T) {
			e := New(strings.NewReader(lines(tt.typed)), io.Discard)
			e.MaxHistory = tt.max
			readAll(e, tt.typed+2)
			if len(e.History) != tt.wantLen {
				t.Fatalf("len(History) = %d, want %d", len(e.History), tt.wantLen)
			}
			if e.History[0] != tt.wantFirst {
				t.Errorf("History[0] = %q, want %q", e.History[0], tt.wantFirst)
			}
			if last := fmt.Sprint(tt.typed - 1); e.History[len(e.History)-1] != last {
				t.Errorf("last history line %q, want %q", e.History[len(e.History)-1], last)
			}
		})
	}
}

// screen follows what a terminal shows of one ReadLine's echo: a single row.
// It reports the row at the first \r\n, and whether the cursor ever moved left
// into the prompt.
func screen(echo, prompt string) (row string, ended bool, intoPrompt bool) {
	cells := []rune{}
	cur := 0
	clear := []rune("\x1b[H\x1b[2J")
	rs := []rune(echo)
	np := len([]rune(prompt))
	at := func(i int, s []rune) bool {
		if len(rs)-i < len(s) {
			return false
		}
		for j, r := range s {
			if rs[i+j] != r {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(rs); i++ {
		switch {
		case at(i, clear):
			cells, cur = cells[:0], 0
			i += len(clear) - 1
		case at(i, []rune("\r\n")):
			return string(cells), true, intoPrompt
		case rs[i] == '\b':
			if cur > 0 {
				cur--
			}
			if cur < np {
				intoPrompt = true
			}
		default:
			if cur < len(cells) {
				cells[cur] = rs[i]
			} else {
				cells = append(cells, rs[i])
			}
			cur++
		}
	}
	return string(cells), false, intoPrompt
}

func FuzzReadLine(f *testing.F) {
	for _, s := range []string{
		"abc\r", "abc\r\n", "a\rb\nc\r\n", "ab\x7f\x7fc\r", "ac" + left + "b\r",
		"abc" + home + "x" + end + "y\r", "abc" + home1 + delKey + end4 + "\r",
		"abc\x01\x05\x02\x06\x0b\x15\x17\r", "ab\x03cd\r", "\x04", "ab\x01\x04\r",
		"one\rtwo\r" + up + up + down + "x\r" + "\x10\x0e\r", "héllo\r", "日本" + left + "x\r",
		"\x1b", "\x1b[", "\x1b[1;5D", "\x1bO", "a\xff\xfeb\r", "\x0c", "foo bar  \x17\x17\r",
		"\t\t\r", "a\x1b[3~\x1b[99~\x1b[;;;A\r",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		e := New(bytes.NewReader(in), &out)
		e.MaxHistory = 5
		for i := 0; i <= len(in)+1; i++ {
			out.Reset()
			line, err := e.ReadLine(prompt)
			if strings.ContainsAny(line, "\r\n") {
				t.Fatalf("ReadLine on %q returned %q with a line end", in, line)
			}
			if err == io.EOF {
				if line != "" {
					t.Fatalf("ReadLine on %q returned %q with io.EOF", in, line)
				}
				return
			}
			if err == ErrInterrupt {
				if line != "" {
					t.Fatalf("ReadLine on %q returned %q with ErrInterrupt", in, line)
				}
				continue
			}
			if err != nil {
				t.Fatalf("ReadLine on %q: %v", in, err)
			}
			// The terminal shows the prompt and the line returned.
			row, ended, intoPrompt := screen(out.String(), prompt)
			if !ended {
				t.Fatalf("ReadLine on %q returned %q but echoed no \\r\\n: %q", in, line, out.String())
			}
			if intoPrompt {
				t.Fatalf("ReadLine on %q: echo %q moves the cursor into the prompt", in, out.String())
			}
			if strings.TrimRight(row, " ") != strings.TrimRight(prompt+line, " ") {
				t.Fatalf("ReadLine on %q returned %q but the screen shows %q (echo %q)", in, line, row, out.String())
			}
			if len(e.History) > 5 {
				t.Fatalf("History grew to %d > MaxHistory", len(e.History))
			}
			for _, h := range e.History {
				if strings.ContainsAny(h, "\r\n") || strings.TrimSpace(h) == "" {
					t.Fatalf("History holds %q", h)
				}
			}
		}
		t.Fatalf("ReadLine on %q never reached io.EOF", in)
	})
}

// A negative MaxHistory is not documented; it must not make ReadLine panic.
func TestNegativeMaxHistory(t *testing.T) {
	e := New(strings.NewReader("a\r"), io.Discard)
	e.MaxHistory = -1
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("ReadLine panicked: %v", r)
		}
	}()
	if line, err := e.ReadLine(prompt); line != "a" || err != nil {
		t.Errorf("ReadLine = %q, %v", line, err)
	}
}
