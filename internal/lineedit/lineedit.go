// Package lineedit is a small line editor for a serial console: every key is echoed
// with the fewest bytes (a typed character is one byte out, never a redraw of the line),
// so typing over a 115200 baud line feels instant. It knows the keys people reach for
// at a console: arrows, Home/End, Backspace/Delete, ^A ^E ^B ^F ^K ^U ^W ^L ^C ^D, and
// a history on Up/Down.
package lineedit

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInterrupt is returned by ReadLine when ^C is typed.
var ErrInterrupt = errors.New("interrupt")

// Editor reads lines from a terminal in raw mode.
type Editor struct {
	in      *bufio.Reader
	out     io.Writer
	History []string
	// MaxHistory bounds History; 0 means 500.
	MaxHistory int

	line   []rune
	pos    int
	hist   int    // index into History while browsing; len(History) = the edited line
	saved  []rune // the edited line while browsing history
	lastCR bool
	buf    []byte
}

// New returns an editor reading keys from in and echoing to out.
func New(in io.Reader, out io.Writer) *Editor {
	return &Editor{in: bufio.NewReader(in), out: out}
}

const (
	ctrlA = 1
	ctrlB = 2
	ctrlC = 3
	ctrlD = 4
	ctrlE = 5
	ctrlF = 6
	ctrlH = 8
	tab   = 9
	lf    = 10
	ctrlK = 11
	ctrlL = 12
	cr    = 13
	ctrlN = 14
	ctrlP = 16
	ctrlU = 21
	ctrlW = 23
	esc   = 27
	del   = 127
)

type key int

const (
	keyNone key = iota
	keyUp
	keyDown
	keyLeft
	keyRight
	keyHome
	keyEnd
	keyDelete
)

// ReadLine prints prompt and returns the line typed, without its newline. It returns
// io.EOF for ^D on an empty line (or the end of input) and ErrInterrupt for ^C.
func (e *Editor) ReadLine(prompt string) (string, error) {
	e.line, e.pos = e.line[:0], 0
	e.hist = len(e.History)
	e.saved = nil
	e.buf = e.buf[:0]
	e.write(prompt)
	e.flush()
	for {
		r, err := e.readRune()
		if err != nil {
			if len(e.line) > 0 && err == io.EOF {
				e.write("\r\n")
				e.flush()
				return e.finish(), nil
			}
			return "", err
		}
		if r == lf && e.lastCR {
			e.lastCR = false
			continue
		}
		e.lastCR = r == cr
		switch r {
		case cr, lf:
			e.write("\r\n")
			e.flush()
			return e.finish(), nil
		case ctrlC:
			e.write("^C\r\n")
			e.flush()
			e.line = e.line[:0]
			return "", ErrInterrupt
		case ctrlD:
			if len(e.line) == 0 {
				e.flush()
				return "", io.EOF
			}
			e.deleteAt()
		case ctrlA:
			e.moveTo(0)
		case ctrlE:
			e.moveTo(len(e.line))
		case ctrlB:
			e.moveTo(e.pos - 1)
		case ctrlF:
			e.moveTo(e.pos + 1)
		case ctrlH, del:
			if e.pos > 0 {
				e.moveTo(e.pos - 1)
				e.deleteAt()
			}
		case ctrlK:
			e.replace(e.line[:e.pos], e.pos)
		case ctrlU:
			e.replace(append([]rune{}, e.line[e.pos:]...), 0)
		case ctrlW:
			i := e.pos
			for i > 0 && unicode.IsSpace(e.line[i-1]) {
				i--
			}
			for i > 0 && !unicode.IsSpace(e.line[i-1]) {
				i--
			}
			nl := append(append([]rune{}, e.line[:i]...), e.line[e.pos:]...)
			e.replace(nl, i)
		case ctrlL:
			e.write("\x1b[H\x1b[2J")
			e.write(prompt)
			e.write(string(e.line))
			e.back(len(e.line) - e.pos)
		case ctrlP:
			e.history(-1)
		case ctrlN:
			e.history(+1)
		case esc:
			switch e.readEscape() {
			case keyUp:
				e.history(-1)
			case keyDown:
				e.history(+1)
			case keyLeft:
				e.moveTo(e.pos - 1)
			case keyRight:
				e.moveTo(e.pos + 1)
			case keyHome:
				e.moveTo(0)
			case keyEnd:
				e.moveTo(len(e.line))
			case keyDelete:
				e.deleteAt()
			}
		case tab:
			e.insert(' ')
		default:
			if r >= ' ' && r != utf8.RuneError {
				e.insert(r)
			}
		}
		// Echo what the keys so far produced; more keys already buffered are
		// handled first, so a paste is echoed in one write.
		if e.in.Buffered() == 0 {
			e.flush()
		}
	}
}

func (e *Editor) finish() string {
	s := string(e.line)
	if strings.TrimSpace(s) != "" && (len(e.History) == 0 || e.History[len(e.History)-1] != s) {
		e.History = append(e.History, s)
		max := e.MaxHistory
		if max <= 0 {
			max = 500
		}
		if len(e.History) > max {
			e.History = e.History[len(e.History)-max:]
		}
	}
	return s
}

func (e *Editor) readRune() (rune, error) {
	r, _, err := e.in.ReadRune()
	return r, err
}

// readEscape reads the rest of an escape sequence after ESC.
func (e *Editor) readEscape() key {
	b, err := e.in.ReadByte()
	if err != nil {
		return keyNone
	}
	if b != '[' && b != 'O' {
		return keyNone
	}
	var num []byte
	for {
		c, err := e.in.ReadByte()
		if err != nil {
			return keyNone
		}
		if c >= '0' && c <= '9' || c == ';' {
			num = append(num, c)
			continue
		}
		switch c {
		case 'A':
			return keyUp
		case 'B':
			return keyDown
		case 'C':
			return keyRight
		case 'D':
			return keyLeft
		case 'H':
			return keyHome
		case 'F':
			return keyEnd
		case '~':
			switch string(num) {
			case "1", "7":
				return keyHome
			case "4", "8":
				return keyEnd
			case "3":
				return keyDelete
			}
		}
		return keyNone
	}
}

func (e *Editor) write(s string) { e.buf = append(e.buf, s...) }

func (e *Editor) flush() {
	if len(e.buf) > 0 {
		e.out.Write(e.buf)
		e.buf = e.buf[:0]
	}
}

func (e *Editor) back(n int) {
	for i := 0; i < n; i++ {
		e.write("\b")
	}
}

func (e *Editor) moveTo(p int) {
	if p < 0 || p > len(e.line) {
		return
	}
	if p < e.pos {
		e.back(e.pos - p)
	} else if p > e.pos {
		e.write(string(e.line[e.pos:p]))
	}
	e.pos = p
}

func (e *Editor) insert(r rune) {
	e.line = append(e.line, 0)
	copy(e.line[e.pos+1:], e.line[e.pos:])
	e.line[e.pos] = r
	e.write(string(e.line[e.pos:]))
	e.pos++
	e.back(len(e.line) - e.pos)
}

// deleteAt removes the character under the cursor.
func (e *Editor) deleteAt() {
	if e.pos >= len(e.line) {
		return
	}
	e.line = append(e.line[:e.pos], e.line[e.pos+1:]...)
	e.write(string(e.line[e.pos:]) + " ")
	e.back(len(e.line) - e.pos + 1)
}

// replace puts nl on the screen in place of the line, with the cursor at p.
func (e *Editor) replace(nl []rune, p int) {
	old := len(e.line)
	e.back(e.pos)
	e.write(string(nl))
	if pad := old - len(nl); pad > 0 {
		e.write(strings.Repeat(" ", pad))
		e.back(pad)
	}
	e.line = append(e.line[:0], nl...)
	e.pos = len(e.line)
	e.moveTo(p)
}

func (e *Editor) history(dir int) {
	n := e.hist + dir
	if n < 0 || n > len(e.History) {
		return
	}
	if e.hist == len(e.History) {
		e.saved = append([]rune{}, e.line...)
	}
	e.hist = n
	var nl []rune
	if n == len(e.History) {
		nl = e.saved
	} else {
		nl = []rune(e.History[n])
	}
	e.replace(append([]rune{}, nl...), len(nl))
}
