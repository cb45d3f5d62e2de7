// Package bootvar holds ants' boot variables: the kernel command line and boot.conf
// parsers, the table of known variables, the layering of their sources, and /env.
package bootvar

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Param is one word of a kernel command line or one line of a boot.conf.
type Param struct {
	Key      string
	Value    string
	HasValue bool // KEY=VALUE rather than a bare word
}

// spaces are the bytes that separate the words of a kernel command line: the
// kernel's isspace() on ASCII.
const spaces = " \t\n\v\f\r"

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// Word gives the parameter back as a command line word, quoted when needed.
func (p Param) Word() string {
	if !p.HasValue {
		return p.Key
	}
	v := p.Value
	if v == "" || strings.ContainsAny(v, spaces) {
		v = `"` + v + `"`
	}
	return p.Key + "=" + v
}

// checkName says why name is not a variable name. A name is made of letters,
// digits, '_', '.' and '-', and does not start with '.' or '-': it is a file of
// /env that ReadEnv sees, and a word that needs no quoting. Bytes from 0x80 up
// are taken as letters: names are bytes, not decoded.
func checkName(name string) error {
	if name == "" {
		return errors.New("a name cannot be empty")
	}
	if c := name[0]; c == '.' || c == '-' {
		return fmt.Errorf("a name cannot start with %q", rune(c))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 0x80 || c == '_' || c == '.' || c == '-' ||
			(c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			return fmt.Errorf("a name cannot hold %q", rune(c))
		}
	}
	return nil
}

// ParseCmdline splits a kernel command line the way the kernel does (words separated by
// white space, double quotes group, and are removed), stopping at "--", after which the
// words belong to init. It returns the parameters and a problem per malformed word.
// The line is taken as bytes: what is not UTF-8 is kept as it is.
func ParseCmdline(line string) ([]Param, []error) {
	var params []Param
	var errs []error
	words, unbalanced := splitWords(line)
	if unbalanced {
		errs = append(errs, fmt.Errorf("kernel command line: a double quote is not closed; read to the end of the line"))
	}
	for _, w := range words {
		if w == "--" {
			break
		}
		k, v, has := strings.Cut(w, "=")
		if k == "" {
			errs = append(errs, fmt.Errorf("kernel command line: %q has no name before '='; ignored", w))
			continue
		}
		if err := checkName(k); err != nil {
			errs = append(errs, fmt.Errorf("kernel command line: %q: %v; ignored", w, err))
			continue
		}
		params = append(params, Param{Key: k, Value: v, HasValue: has})
	}
	return params, errs
}

// splitWords follows the kernel's next_arg: words are separated by isspace() bytes,
// and a double quote toggles quoting anywhere in a word and is dropped.
func splitWords(line string) (words []string, unbalanced bool) {
	var cur strings.Builder
	inWord, inQuote := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"':
			inQuote = !inQuote
			inWord = true
		case !inQuote && isSpace(c):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, inQuote
}

// ParseConf reads a boot.conf: KEY=VALUE lines, bare flag words (ro, rootwait), blank
// lines and # comments. A value may be in single or double quotes. name is used in
// messages, which give file:line.
func ParseConf(r io.Reader, name string) ([]Param, []error) {
	var params []Param
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, has := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if k == "" {
			errs = append(errs, fmt.Errorf("%s:%d: %q has no name before '='; ignored", name, n, line))
			continue
		}
		if err := checkName(k); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %q is not NAME=VALUE: %v; ignored", name, n, line, err))
			continue
		}
		if !has {
			if kn, ok := Lookup(k); !ok || kn.Kind != Flag {
				errs = append(errs, fmt.Errorf("%s:%d: %q is not NAME=VALUE; ignored", name, n, line))
				continue
			}
		}
		v = strings.TrimSpace(v)
		if v != "" && (v[0] == '"' || v[0] == '\'') {
			if len(v) < 2 || v[len(v)-1] != v[0] {
				errs = append(errs, fmt.Errorf("%s:%d: the quote in %q is not closed; ignored", name, n, line))
				continue
			}
			v = v[1 : len(v)-1]
		}
		params = append(params, Param{Key: k, Value: v, HasValue: has})
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s:%d: %v", name, n+1, err))
	}
	return params, errs
}
