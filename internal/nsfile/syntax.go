// Package nsfile is the text form of a Linux mount namespace, in the manner of Plan 9's
// namespace files and ns(1): one operation a line (bind, mount, unmount, cd), printed
// from /proc/PID/mountinfo (FromMountinfo, Print) and applied inside a process's
// mount namespace (Apply, Applier). docs/ns.md describes the syntax.
//
// Quoting: a word is written bare when it is made only of printable ASCII other than
// blank, ', #, \ and $ and does not begin with '-'; any other word is written between
// single quotes, where ” stands for a quote and a backslash starts an escape: \\ \n
// \t \r and \xHH (any byte, which is how control characters and bytes that are not
// UTF-8 are written). Outside quotes a backslash is an ordinary character. A quoted
// word is never taken for a flag. Words may join quoted and bare parts ('a b'/c).
package nsfile

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Op is one line of a namespace file.
type Op struct {
	Line int    // line number in the parsed text (1-based); 0 when made otherwise
	Text string // the line as written, blanks around it trimmed

	// Cmd is "bind", "mount", "unmount" or "cd"; "" for a comment line, whose text
	// (without the leading "# ") is Comment.
	Cmd     string
	Comment string

	Recursive bool   // bind -r
	Before    bool   // -b: union, NEW (or the mounted tree) before OLD
	After     bool   // -a: union, NEW after OLD
	Create    bool   // -c: union is writable (an upper dir in a tmpfs)
	Lazy      bool   // unmount -l
	Type      string // mount -t
	Opts      string // -o, comma-separated (flags such as ro and file system data)
	Prop      string // -p: shared, slave, private, unbindable (or slave,shared)

	Src  string // bind NEW, mount SRC, unmount NEW (may be empty), cd DIR
	Dst  string // OLD: the target
	Spec string // mount SPEC (9P aname)
}

// SyntaxError is a line that does not parse.
type SyntaxError struct {
	Line int
	Text string
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Text, e.Msg)
}

// Quote returns s as one word of the syntax.
func Quote(s string) string {
	if bare(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		c := s[i]
		switch {
		case c == '\'':
			b.WriteString("''")
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError && n <= 1, c < 0x20, c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
			n = 1
		case r >= 0x80 && r <= 0x9f: // C1 controls
			for j := 0; j < n; j++ {
				fmt.Fprintf(&b, `\x%02x`, s[i+j])
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	b.WriteByte('\'')
	return b.String()
}

func bare(s string) bool {
	if s == "" || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '\'' || c == '#' || c == '\\' || c == '$' {
			return false
		}
	}
	return true
}

// Format returns op as one line (no newline).
func Format(op Op) string {
	if op.Cmd == "" {
		if op.Comment == "" {
			return "#"
		}
		return "# " + strings.NewReplacer("\n", `\n`).Replace(op.Comment)
	}
	w := []string{op.Cmd}
	if op.Recursive {
		w = append(w, "-r")
	}
	if op.Before {
		w = append(w, "-b")
	}
	if op.After {
		w = append(w, "-a")
	}
	if op.Create {
		w = append(w, "-c")
	}
	if op.Lazy {
		w = append(w, "-l")
	}
	if op.Type != "" {
		w = append(w, "-t", Quote(op.Type))
	}
	if op.Opts != "" {
		w = append(w, "-o", Quote(op.Opts))
	}
	if op.Prop != "" {
		w = append(w, "-p", Quote(op.Prop))
	}
	if op.Cmd == "unmount" || op.Cmd == "cd" {
		if op.Src != "" {
			w = append(w, Quote(op.Src))
		}
	} else {
		w = append(w, Quote(op.Src))
	}
	if op.Cmd != "cd" {
		w = append(w, Quote(op.Dst))
	}
	if op.Spec != "" {
		w = append(w, Quote(op.Spec))
	}
	return strings.Join(w, " ")
}

// FormatAll returns the ops as text, one a line.
func FormatAll(ops []Op) string {
	var b strings.Builder
	for _, op := range ops {
		b.WriteString(Format(op))
		b.WriteByte('\n')
	}
	return b.String()
}

// Parse parses a namespace file. getenv, when not nil, expands $name and ${name} in
// the unquoted parts of words (Plan 9's newns does so); a $ is then literal only
// inside quotes. Comment and blank lines give no Op unless keepComments.
func Parse(text string, getenv func(string) string, keepComments bool) ([]Op, error) {
	var ops []Op
	for i, line := range strings.Split(text, "\n") {
		op, err := ParseLine(line, getenv)
		if err != nil {
			err.(*SyntaxError).Line = i + 1
			return ops, err
		}
		op.Line = i + 1
		if op.Cmd == "" && (!keepComments || op.Text == "") {
			continue
		}
		ops = append(ops, op)
	}
	return ops, nil
}

type word struct {
	s      string
	quoted bool
}

// lex splits a line into words; a word beginning with an unquoted # ends the line.
func lex(line string, getenv func(string) string) ([]word, string, error) {
	var ws []word
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
			i++
		}
		if i >= len(line) {
			return ws, "", nil
		}
		if line[i] == '#' {
			return ws, line[i:], nil
		}
		var b strings.Builder
		quoted := false
		for i < len(line) && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' {
			c := line[i]
			switch {
			case c == '\'':
				quoted = true
				i++
				for {
					if i >= len(line) {
						return nil, "", fmt.Errorf("unterminated quote")
					}
					c := line[i]
					if c == '\'' {
						if i+1 < len(line) && line[i+1] == '\'' {
							b.WriteByte('\'')
							i += 2
							continue
						}
						i++
						break
					}
					if c == '\\' {
						if i+1 >= len(line) {
							return nil, "", fmt.Errorf("unterminated quote")
						}
						switch line[i+1] {
						case '\\':
							b.WriteByte('\\')
						case 'n':
							b.WriteByte('\n')
						case 't':
							b.WriteByte('\t')
						case 'r':
							b.WriteByte('\r')
						case '\'':
							b.WriteByte('\'')
						case 'x':
							if i+3 >= len(line) || unhex(line[i+2]) < 0 || unhex(line[i+3]) < 0 {
								return nil, "", fmt.Errorf(`bad \x escape`)
							}
							b.WriteByte(byte(unhex(line[i+2])<<4 | unhex(line[i+3])))
							i += 2
						default:
							return nil, "", fmt.Errorf(`unknown escape \%c`, line[i+1])
						}
						i += 2
						continue
					}
					b.WriteByte(c)
					i++
				}
			case c == '$' && getenv != nil:
				j := i + 1
				var name string
				if j < len(line) && line[j] == '{' {
					k := strings.IndexByte(line[j:], '}')
					if k < 0 {
						return nil, "", fmt.Errorf("unterminated ${")
					}
					name = line[j+1 : j+k]
					i = j + k + 1
				} else {
					for j < len(line) && (line[j] == '_' || line[j] >= 'a' && line[j] <= 'z' || line[j] >= 'A' && line[j] <= 'Z' || line[j] >= '0' && line[j] <= '9') {
						j++
					}
					name = line[i+1 : j]
					i = j
				}
				if name == "" {
					return nil, "", fmt.Errorf("bad variable reference")
				}
				b.WriteString(getenv(name))
			default:
				b.WriteByte(c)
				i++
			}
		}
		ws = append(ws, word{b.String(), quoted})
	}
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// flags each command takes: letter -> takes a value.
var cmdFlags = map[string]map[byte]bool{
	"bind":    {'r': false, 'a': false, 'b': false, 'c': false, 'o': true, 'p': true},
	"mount":   {'a': false, 'b': false, 'c': false, 't': true, 'o': true, 'p': true},
	"unmount": {'l': false},
	"cd":      {},
}

// ParseLine parses one line. The returned error is a *SyntaxError (Line 0).
func ParseLine(line string, getenv func(string) string) (Op, error) {
	text := strings.TrimSpace(line)
	op := Op{Text: text}
	fail := func(f string, a ...any) (Op, error) {
		return Op{Text: text}, &SyntaxError{Text: text, Msg: fmt.Sprintf(f, a...)}
	}
	ws, comment, err := lex(line, getenv)
	if err != nil {
		return fail("%v", err)
	}
	if len(ws) == 0 {
		op.Comment = strings.TrimSpace(strings.TrimPrefix(comment, "#"))
		return op, nil
	}
	if ws[0].quoted {
		return fail("unknown operation %s", Quote(ws[0].s))
	}
	op.Cmd = ws[0].s
	fl, ok := cmdFlags[op.Cmd]
	if !ok {
		return fail("unknown operation %s", Quote(op.Cmd))
	}
	ws = ws[1:]
	for len(ws) > 0 && !ws[0].quoted && strings.HasPrefix(ws[0].s, "-") && ws[0].s != "-" {
		a := ws[0].s
		ws = ws[1:]
		if a == "--" {
			break
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			takes, ok := fl[c]
			if !ok {
				return fail("%s: unknown flag -%c", op.Cmd, c)
			}
			if takes {
				v := a[j+1:]
				if v == "" {
					if len(ws) == 0 {
						return fail("%s: flag -%c needs a value", op.Cmd, c)
					}
					v = ws[0].s
					ws = ws[1:]
				}
				switch c {
				case 't':
					op.Type = v
				case 'o':
					op.Opts = v
				case 'p':
					if !validProp(v) {
						return fail("%s: bad propagation %s", op.Cmd, Quote(v))
					}
					op.Prop = v
				}
				break
			}
			switch c {
			case 'r':
				op.Recursive = true
			case 'a':
				op.After = true
			case 'b':
				op.Before = true
			case 'c':
				op.Create = true
			case 'l':
				op.Lazy = true
			}
		}
	}
	if op.Before && op.After {
		return fail("%s: -a and -b together", op.Cmd)
	}
	args := make([]string, len(ws))
	for i, w := range ws {
		args[i] = w.s
	}
	switch op.Cmd {
	case "bind":
		if len(args) != 2 {
			return fail("usage: bind [-abcr] [-o OPTS] [-p PROP] NEW OLD")
		}
		op.Src, op.Dst = args[0], args[1]
	case "mount":
		if len(args) != 2 && len(args) != 3 {
			return fail("usage: mount [-abc] [-t TYPE] [-o OPTS] [-p PROP] SRC OLD [SPEC]")
		}
		op.Src, op.Dst = args[0], args[1]
		if len(args) == 3 {
			op.Spec = args[2]
		}
	case "unmount":
		switch len(args) {
		case 1:
			op.Dst = args[0]
		case 2:
			op.Src, op.Dst = args[0], args[1]
		default:
			return fail("usage: unmount [-l] [NEW] OLD")
		}
	case "cd":
		if len(args) != 1 {
			return fail("usage: cd DIR")
		}
		op.Src = args[0]
	}
	if op.Cmd != "cd" && op.Dst == "" || op.Cmd != "unmount" && op.Src == "" && op.Cmd != "mount" {
		return fail("%s: empty path", op.Cmd)
	}
	return op, nil
}

func validProp(p string) bool {
	switch p {
	case "shared", "slave", "private", "unbindable", "slave,shared",
		"rshared", "rslave", "rprivate", "runbindable":
		return true
	}
	return false
}
