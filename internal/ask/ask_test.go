package ask

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

const help = "(Enter keeps the value in brackets; 'clear' empties it; 'sh' opens a shell)\n"

// countingReader counts the bytes read from it and the size of every read.
type countingReader struct {
	r     io.Reader
	n     int
	reads int
	big   int // reads asking for more than one byte
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	if len(p) > 1 {
		c.big++
	}
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestAsk(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		varName string
		offer   string
		in      string
		shell   func() error // nil: no Shell
		want    string
		wantErr error
		shells  int    // times Shell must have run
		out     string // after the help line
	}{
		{"enter keeps the offer", "venti", "tcp!a!1", "\n", nil, "tcp!a!1", nil, 0,
			"venti [tcp!a!1]: "},
		{"cr keeps the offer", "venti", "tcp!a!1", "\r", nil, "tcp!a!1", nil, 0,
			"venti [tcp!a!1]: "},
		{"spaces keep the offer", "venti", "tcp!a!1", "  \t \n", nil, "tcp!a!1", nil, 0,
			"venti [tcp!a!1]: "},
		{"enter with no offer", "root", "", "\n", nil, "", nil, 0,
			"root []: "},
		{"a value", "venti", "tcp!a!1", "tcp!b!2\n", nil, "tcp!b!2", nil, 0,
			"venti [tcp!a!1]: "},
		{"a value trimmed", "venti", "tcp!a!1", "  tcp!b!2 \t\n", nil, "tcp!b!2", nil, 0,
			"venti [tcp!a!1]: "},
		{"clear", "venti", "tcp!a!1", "clear\n", nil, "", nil, 0,
			"venti [tcp!a!1]: "},
		{"clear with spaces", "root", "/dev/vda1", " clear \n", nil, "", nil, 0,
			"root [/dev/vda1]: "},
		{"unknown variable takes anything", "foo", "x", "a b c\n", nil, "a b c", nil, 0,
			"foo [x]: "},
		{"sh runs the shell and asks again", "venti", "tcp!a!1", "sh\ntcp!c!3\n", func() error { return nil }, "tcp!c!3", nil, 1,
			"venti [tcp!a!1]: exit the shell to come back to venti\nventi [tcp!a!1]: "},
		{"sh twice", "root", "r", "sh\nsh\n\n", func() error { return nil }, "r", nil, 2,
			"root [r]: exit the shell to come back to root\nroot [r]: exit the shell to come back to root\nroot [r]: "},
		{"sh failing", "root", "r", "sh\n\n", func() error { return errBoom }, "r", nil, 1,
			"root [r]: exit the shell to come back to root\nshell: boom\nroot [r]: "},
		{"sh without a shell", "venti", "tcp!a!1", "sh\n\n", nil, "tcp!a!1", nil, 0,
			"venti [tcp!a!1]: no shell here; answer with a value\nventi [tcp!a!1]: "},
		{"ask refused", "venti", "tcp!a!1", "ask\ntcp!b!2\n", nil, "tcp!b!2", nil, 0,
			"venti [tcp!a!1]: venti: 'ask' is not an answer; type a value\nventi [tcp!a!1]: "},
		{"ask refused for any name", "foo", "", " ask \nx\n", nil, "x", nil, 0,
			"foo []: foo: 'ask' is not an answer; type a value\nfoo []: "},
		{"bad venti refused", "venti", "tcp!a!1", "tcp!h!notaport\ntcp!h!2\n", nil, "tcp!h!2", nil, 0,
			"venti [tcp!a!1]: venti: \"tcp!h!notaport\": port \"notaport\" is not a number; try again\nventi [tcp!a!1]: "},
		{"bad venti twice", "venti", "", "udp!h!1\nh:0\nh\n", nil, "h", nil, 0,
			"venti []: venti: \"udp!h!1\": network \"udp\" is not supported; use tcp; try again\n" +
				"venti []: venti: \"h:0\": port 0 is out of range 1-65535; try again\nventi []: "},
		{"bad sysname refused", "sysname", "old", "my/host\nnew\n", nil, "new", nil, 0,
			"sysname [old]: sysname: \"my/host\" has the character '/'; use letters, digits, '-', '_' and '.'; try again\nsysname [old]: "},

		// End of input.
		{"eof", "venti", "tcp!a!1", "", nil, "tcp!a!1", ErrNoAnswer, 0,
			"venti [tcp!a!1]: \n"},
		{"eof after a refusal", "venti", "tcp!a!1", "tcp!h!x\n", nil, "tcp!a!1", ErrNoAnswer, 0,
			"venti [tcp!a!1]: venti: \"tcp!h!x\": port \"x\" is not a number; try again\nventi [tcp!a!1]: \n"},
		{"eof after sh", "venti", "tcp!a!1", "sh\n", func() error { return nil }, "tcp!a!1", ErrNoAnswer, 1,
			"venti [tcp!a!1]: exit the shell to come back to venti\nventi [tcp!a!1]: \n"},
		{"eof ends a partial answer", "venti", "tcp!a!1", "tcp!b!2", nil, "tcp!b!2", nil, 0,
			"venti [tcp!a!1]: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			shells := 0
			a := &Asker{In: strings.NewReader(tt.in), Out: &out}
			if tt.shell != nil {
				a.Shell = func() error { shells++; return tt.shell() }
			}
			got, err := a.Ask(tt.varName, tt.offer)
			if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Ask(%q, %q) on %q = %q, %v; want %q, %v", tt.varName, tt.offer, tt.in, got, err, tt.want, tt.wantErr)
			}
			if shells != tt.shells {
				t.Errorf("Shell ran %d times, want %d", shells, tt.shells)
			}
			if want := help + tt.out; out.String() != want {
				t.Errorf("output\n\t%q\nwant\n\t%q", out.String(), want)
			}
		})
	}
}

// The value Enter keeps is checked like a typed one: a bad offer is refused.
func TestAskBadOffer(t *testing.T) {
	var out strings.Builder
	a := &Asker{In: strings.NewReader("\ntcp!h!2\n"), Out: &out}
	got, err := a.Ask("venti", "tcp!h!bad")
	if got != "tcp!h!2" || err != nil {
		t.Errorf("Ask = %q, %v; want %q, nil", got, err, "tcp!h!2")
	}
	if !strings.Contains(out.String(), "try again") {
		t.Errorf("output %q does not refuse the offer", out.String())
	}
}

func TestHelpOnce(t *testing.T) {
	var out strings.Builder
	a := &Asker{In: strings.NewReader("\n\nx\n"), Out: &out}
	if v, err := a.Ask("sysname", "a"); v != "a" || err != nil {
		t.Errorf("first Ask = %q, %v", v, err)
	}
	if v, err := a.Ask("root", ""); v != "" || err != nil {
		t.Errorf("second Ask = %q, %v", v, err)
	}
	if v, err := a.Ask("foo", "y"); v != "x" || err != nil {
		t.Errorf("third Ask = %q, %v", v, err)
	}
	if n := strings.Count(out.String(), help); n != 1 {
		t.Errorf("help printed %d times in %q, want once", n, out.String())
	}
	if want := help + "sysname [a]: root []: foo [y]: "; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}

	// A new Asker helps again.
	out.Reset()
	b := &Asker{In: strings.NewReader("\n"), Out: &out}
	b.Ask("root", "")
	if !strings.HasPrefix(out.String(), help) {
		t.Errorf("a new Asker does not print the help: %q", out.String())
	}
}

// Ask reads no further than the end of its answer: what is typed ahead stays for the
// next reader.
func TestNoOverRead(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		asks  []string // answers wanted, one Ask each
		after []int    // bytes consumed after each Ask
		rest  string   // left in the reader at the end
	}{
		{"two answers", "a\nb\n", []string{"a", "b"}, []int{2, 4}, ""},
		{"typed ahead", "a\nb\n", []string{"a"}, []int{2}, "b\n"},
		{"cr", "a\rb\r", []string{"a"}, []int{2}, "b\r"},
		{"empty answer", "\nrest", []string{"off"}, []int{1}, "rest"},
		{"refused then good", "tcp!h!x\ntcp!h!1\nmore", []string{"tcp!h!1"}, []int{16}, "more"},
		{"sh", "sh\n\nleft", []string{"off"}, []int{4}, "left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.NewReader(tt.in)
			cr := &countingReader{r: src}
			a := &Asker{In: cr, Out: io.Discard, Shell: func() error { return nil }}
			for i, want := range tt.asks {
				offer := "off"
				got, err := a.Ask("venti", offer)
				if err != nil || got != want {
					t.Errorf("Ask %d = %q, %v; want %q", i, got, err, want)
				}
				if cr.n != tt.after[i] {
					t.Errorf("after Ask %d, %d bytes read, want %d", i, cr.n, tt.after[i])
				}
			}
			if cr.big != 0 {
				t.Errorf("%d of %d reads asked for more than one byte", cr.big, cr.reads)
			}
			rest, _ := io.ReadAll(src)
			if string(rest) != tt.rest {
				t.Errorf("left %q in the reader, want %q", rest, tt.rest)
			}
		})
	}
}

// Readers that give data and an error together, or one byte at a time, or an error
// other than EOF.
func TestAskReaders(t *testing.T) {
	errRead := errors.New("read failed")
	tests := []struct {
		name    string
		in      io.Reader
		want    string
		wantErr error
	}{
		{"data with eof", iotest.DataErrReader(strings.NewReader("tcp!b!2")), "tcp!b!2", nil},
		{"line with eof", iotest.DataErrReader(strings.NewReader("tcp!b!2\n")), "tcp!b!2", nil},
		{"one byte", iotest.OneByteReader(strings.NewReader("tcp!b!2\n")), "tcp!b!2", nil},
		{"error", iotest.ErrReader(errRead), "tcp!a!1", ErrNoAnswer},
		{"error after data", io.MultiReader(strings.NewReader("tcp!b!2"), iotest.ErrReader(errRead)), "tcp!b!2", nil},
		// TimeoutReader fails its second read, in the middle of "x\n": what was
		// read is the answer.
		{"timeout mid-line", iotest.TimeoutReader(strings.NewReader("x\n")), "x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Asker{In: tt.in, Out: io.Discard}
			got, err := a.Ask("venti", "tcp!a!1")
			if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Ask = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// A console that sends \r\n for Enter (or a cooked tty given \r\n) must not answer the
// next question with the \n: "\r\n" is one Enter, as lineedit takes it.
func TestAskCRLF(t *testing.T) {

	a := &Asker{In: strings.NewReader("a\r\nb\r\n"), Out: io.Discard}
	for _, want := range []string{"a", "b"} {
		got, err := a.Ask("foo", "offer")
		if got != want || err != nil {
			t.Errorf("Ask = %q, %v; want %q", got, err, want)
		}
	}
}
