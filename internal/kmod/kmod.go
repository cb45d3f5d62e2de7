// Package kmod reads what depmod wrote for a kernel release (modules.dep, modules.alias,
// modules.softdep, modules.builtin) and loads modules into the running kernel, the parts
// of modprobe that a PID 1 needs: resolve a name or a device's modalias to modules, order
// them with their dependencies, and load them with finit_module(2).
//
// Names follow kmod's rules: a module's name is its file name without the .ko suffix,
// with '-' turned into '_'; aliases and the strings matched against them get the same
// treatment outside [...] brackets (kmod's alias_normalize), so "crypto-crc32c" and
// "crypto_crc32c" are the same alias. Alias patterns are fnmatch(3) globs (flags 0), where
// '*' also matches '/', which DMI modaliases contain.
package kmod

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Index is what depmod wrote for one kernel release.
type Index struct {
	dir     string
	release string

	paths    map[string]string   // module name -> path relative to dir, from modules.dep
	deps     map[string][]string // module name -> dependency names, as listed in modules.dep
	builtin  map[string]bool     // module names from modules.builtin
	aliases  []aliasEntry        // modules.alias, in file order
	softdeps map[string]*softdep // module name -> soft dependencies (all lines merged)
}

type aliasEntry struct {
	pattern string // normalized glob
	prefix  string // the pattern's literal prefix, to skip most patterns cheaply
	module  string
}

type softdep struct {
	pre, post []string // names or aliases, as written (resolved with Resolve)
}

func newIndex(dir string) *Index {
	return &Index{
		dir:      dir,
		release:  filepath.Base(dir),
		paths:    map[string]string{},
		deps:     map[string][]string{},
		builtin:  map[string]bool{},
		softdeps: map[string]*softdep{},
	}
}

// LoadIndex reads the depmod files in dir (.../lib/modules/RELEASE): modules.dep is
// required; modules.alias, modules.softdep and modules.builtin are read if present.
func LoadIndex(dir string) (*Index, error) {
	ix := newIndex(filepath.Clean(dir))
	files := []struct {
		name     string
		required bool
		parse    func([]byte) error
	}{
		{"modules.dep", true, ix.parseDep},
		{"modules.alias", false, ix.parseAlias},
		{"modules.softdep", false, ix.parseSoftdep},
		{"modules.builtin", false, ix.parseBuiltin},
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(ix.dir, f.name))
		if err != nil {
			if !f.required && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("kmod: reading %s for kernel %s: %w", f.name, ix.release, err)
		}
		if err := f.parse(data); err != nil {
			return nil, fmt.Errorf("kmod: %s for kernel %s: %w", f.name, ix.release, err)
		}
	}
	return ix, nil
}

// Release is the kernel release the index is for: the base name of its directory.
func (ix *Index) Release() string { return ix.release }

// Name is the module name for a module file path: "kernel/fs/ext4/ext4.ko" (or .ko.xz,
// .ko.zst, .ko.gz) gives "ext4"; '-' becomes '_'. A bare name is just normalized.
func Name(path string) string {
	base := path[strings.LastIndexByte(path, '/')+1:]
	for _, suf := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if strings.HasSuffix(base, suf) {
			base = base[:len(base)-len(suf)]
			break
		}
	}
	return strings.ReplaceAll(base, "-", "_")
}

// Path is the module's file, relative to the index directory, as modules.dep has it.
func (ix *Index) Path(name string) (string, bool) {
	p, ok := ix.paths[normName(name)]
	return p, ok
}

// Builtin reports whether the module is built into the kernel (modules.builtin).
func (ix *Index) Builtin(name string) bool { return ix.builtin[normName(name)] }

// normName normalizes a module name given by a caller: '-' becomes '_'.
func normName(name string) string { return strings.ReplaceAll(name, "-", "_") }

// Resolve turns a module name or an alias into module names, as modprobe does: the module
// itself if modules.dep has it; else the modules with an alias pattern matching it, in
// modules.alias order without duplicates; else the name if the module is built in;
// else nothing.
func (ix *Index) Resolve(nameOrAlias string) []string {
	q := normalizeQuery(nameOrAlias)
	if _, ok := ix.paths[q]; ok {
		return []string{q}
	}
	if m := ix.matchAliases(q); len(m) > 0 {
		return m
	}
	if ix.builtin[q] {
		return []string{q}
	}
	return nil
}

// MatchAlias gives the modules with an alias pattern matching a device's modalias (the
// content of a /sys/devices/**/modalias file), in modules.alias order without duplicates.
func (ix *Index) MatchAlias(modalias string) []string {
	return ix.matchAliases(normalizeQuery(strings.TrimSpace(modalias)))
}

func (ix *Index) matchAliases(q string) []string {
	var out []string
	for _, a := range ix.aliases {
		if !strings.HasPrefix(q, a.prefix) || !match(a.pattern, q) {
			continue
		}
		dup := false
		for _, m := range out {
			if m == a.module {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, a.module)
		}
	}
	return out
}

// Deps gives the module's hard dependencies (from modules.dep, transitively) as names, in
// an order safe to load: each after its own dependencies. The module itself is not
// included; an unknown module has none.
func (ix *Index) Deps(name string) []string {
	n := normName(name)
	if _, ok := ix.paths[n]; !ok {
		return nil
	}
	var out []string
	ix.depOrder(n, map[string]bool{}, &out)
	return out[:len(out)-1]
}

func (ix *Index) depOrder(n string, seen map[string]bool, out *[]string) {
	if seen[n] {
		return
	}
	seen[n] = true
	// depmod lists dependents before what they depend on; walking the list backwards
	// gives modprobe's order, and the recursion keeps it safe for any list order.
	ds := ix.deps[n]
	for i := len(ds) - 1; i >= 0; i-- {
		ix.depOrder(ds[i], seen, out)
	}
	*out = append(*out, n)
}

// Closure gives the files (relative to the index directory) of the named modules (or
// aliases, through Resolve), their dependencies and their soft dependencies (pre: and
// post:, resolved through Resolve), transitively, each after what it depends on and its
// pre: soft dependencies, post: soft dependencies after their module. Built-in modules are
// left out; a name that resolves to nothing is an error.
func (ix *Index) Closure(names []string) ([]string, error) {
	w := &walker{ix: ix, state: map[string]bool{}}
	var errs []error
	for _, name := range names {
		targets := ix.known(ix.Resolve(name))
		if len(targets) == 0 {
			errs = append(errs, ix.notFound(name))
			continue
		}
		for _, t := range targets {
			w.visit(t)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	paths := make([]string, len(w.order))
	for i, n := range w.order {
		paths[i] = ix.paths[n]
	}
	return paths, nil
}

func (ix *Index) notFound(name string) error {
	return fmt.Errorf("kmod: module %s not found for kernel %s", name, ix.release)
}

// known keeps the names that are in modules.dep or built in.
func (ix *Index) known(names []string) []string {
	out := names[:0:0]
	for _, n := range names {
		if _, ok := ix.paths[n]; ok || ix.builtin[n] {
			out = append(out, n)
		}
	}
	return out
}

// walker orders modules for loading: pre: softdeps, deps, the module, post: softdeps.
type walker struct {
	ix    *Index
	state map[string]bool // visited
	order []string        // loadable modules, in load order
}

func (w *walker) visit(n string) {
	if w.state[n] {
		return
	}
	w.state[n] = true
	ix := w.ix
	if ix.builtin[n] {
		return
	}
	if _, ok := ix.paths[n]; !ok {
		return // an alias of a module depmod does not know; nothing to load
	}
	sd := ix.softdeps[n]
	if sd != nil {
		for _, s := range sd.pre {
			for _, m := range ix.Resolve(s) {
				w.visit(m)
			}
		}
	}
	ds := ix.deps[n]
	for i := len(ds) - 1; i >= 0; i-- {
		w.visit(ds[i])
	}
	w.order = append(w.order, n)
	if sd != nil {
		for _, s := range sd.post {
			for _, m := range ix.Resolve(s) {
				w.visit(m)
			}
		}
	}
}

// lines calls f with each non-blank, non-comment line and its 1-based number.
func lines(data []byte, f func(n int, line string) error) error {
	for i, l := range bytes.Split(data, []byte("\n")) {
		line := strings.TrimSpace(string(l))
		if line == "" || line[0] == '#' {
			continue
		}
		if err := f(i+1, line); err != nil {
			return err
		}
	}
	return nil
}

// parseDep reads modules.dep: "kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko ...".
func (ix *Index) parseDep(data []byte) error {
	var depPaths [][]string
	err := lines(data, func(n int, line string) error {
		p, rest, ok := strings.Cut(line, ":")
		p = strings.TrimSpace(p)
		if !ok || p == "" || strings.ContainsAny(p, " \t") {
			return fmt.Errorf("line %d: want \"path: deps...\", got %q", n, line)
		}
		name := Name(p)
		if name == "" {
			return fmt.Errorf("line %d: no module name in %q", n, p)
		}
		ds := strings.Fields(rest)
		names := make([]string, 0, len(ds))
		for _, d := range ds {
			dn := Name(d)
			if dn == "" {
				return fmt.Errorf("line %d: no module name in %q", n, d)
			}
			if dn != name {
				names = append(names, dn)
			}
		}
		if _, dup := ix.paths[name]; dup {
			return nil // the first wins, as in kmod's lookup
		}
		ix.paths[name] = p
		ix.deps[name] = names
		depPaths = append(depPaths, ds)
		return nil
	})
	if err != nil {
		return err
	}
	// A dependency without a line of its own still has a file.
	for _, ds := range depPaths {
		for _, d := range ds {
			if dn := Name(d); ix.paths[dn] == "" {
				ix.paths[dn] = d
			}
		}
	}
	return nil
}

// parseAlias reads modules.alias: "alias PATTERN MODULE".
func (ix *Index) parseAlias(data []byte) error {
	return lines(data, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "alias" {
			return fmt.Errorf("line %d: want \"alias PATTERN MODULE\", got %q", n, line)
		}
		pat, ok := normalizeAlias(f[1])
		if !ok {
			return nil // depmod leaves patterns with unmatched brackets out of its index too
		}
		ix.aliases = append(ix.aliases, aliasEntry{pattern: pat, prefix: literalPrefix(pat), module: normName(f[2])})
		return nil
	})
}

// parseSoftdep reads modules.softdep: "softdep MODULE pre: A B post: C". Words before
// any pre:/post: are ignored, as kmod does (Debian 6.1's cifs has "softdep cifs gcm").
// Several lines for one module add up (kmod itself only honours the first).
func (ix *Index) parseSoftdep(data []byte) error {
	return lines(data, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "softdep" {
			return fmt.Errorf("line %d: want \"softdep MODULE pre: ... post: ...\", got %q", n, line)
		}
		name := normName(f[1])
		sd := ix.softdeps[name]
		if sd == nil {
			sd = &softdep{}
			ix.softdeps[name] = sd
		}
		var list *[]string
		for _, w := range f[2:] {
			switch w {
			case "pre:":
				list = &sd.pre
			case "post:":
				list = &sd.post
			default:
				if list != nil {
					*list = append(*list, w)
				}
			}
		}
		return nil
	})
}

// parseBuiltin reads modules.builtin: one module path a line.
func (ix *Index) parseBuiltin(data []byte) error {
	return lines(data, func(n int, line string) error {
		if name := Name(line); name != "" {
			ix.builtin[name] = true
		}
		return nil
	})
}

// normalizeAlias is kmod's alias_normalize: '-' becomes '_' except inside [...]; a ']'
// outside brackets or an unterminated '[' makes it fail.
func normalizeAlias(s string) (string, bool) {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '-':
			if b == nil {
				b = []byte(s)
			}
			b[i] = '_'
		case ']':
			return s, false
		case '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return s, false
			}
			i += j
		}
	}
	if b == nil {
		return s, true
	}
	return string(b), true
}

// normalizeQuery normalizes a name or modalias to look up; one kmod would reject for its
// brackets is left as it is.
func normalizeQuery(s string) string {
	n, _ := normalizeAlias(s)
	return n
}

// literalPrefix is the part of a glob before its first special character.
func literalPrefix(pattern string) string {
	if i := strings.IndexAny(pattern, "*?[\\"); i >= 0 {
		return pattern[:i]
	}
	return pattern
}

// match reports whether name matches the glob pattern as glibc's fnmatch(3) with flags 0
// does in the C locale, byte by byte: '*' matches any run of bytes ('/' and a leading '.'
// included), '?' any one byte, '\' quotes the next byte, and [...] is a set: '!' or '^'
// first negates it, ']' first is itself, a-z is a range, [:digit:] a class, [=c=] and
// [.c.] the byte c. glibc's corner cases are kept: a '[' without its ']' is an ordinary
// character, unless the set already matched (then nothing matches); an unknown class name
// or a trailing '\' matches nothing.
func match(pattern, name string) bool {
	px, nx := 0, 0
	starP, starN := -1, -1 // where to resume after the last '*'
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starP, starN = px, nx
				px++
				continue
			case '?':
				if nx < len(name) {
					px++
					nx++
					continue
				}
			case '[':
				if nx < len(name) {
					switch r, width := matchBracket(pattern[px:], name[nx]); r {
					case bracketMatch:
						px += width
						nx++
						continue
					case bracketLiteral:
						if name[nx] == '[' {
							px++
							nx++
							continue
						}
					}
				}
			case '\\':
				if px+1 == len(pattern) {
					return false
				}
				if nx < len(name) && name[nx] == pattern[px+1] {
					px += 2
					nx++
					continue
				}
			default:
				if nx < len(name) && name[nx] == c {
					px++
					nx++
					continue
				}
			}
		}
		// Mismatch: let the last '*' swallow one more byte, if there is one. (Every other
		// element matches exactly one byte, so retrying from the last '*' is enough.)
		if starP >= 0 && starN < len(name) {
			starN++
			px, nx = starP+1, starN
			continue
		}
		return false
	}
	return true
}

type bracketResult int

const (
	bracketNoMatch bracketResult = iota
	bracketMatch                 // the set matched; it is width bytes of the pattern
	bracketLiteral               // no set: the '[' is an ordinary character
)

// charClassMax is glibc's CHAR_CLASS_MAX_LENGTH.
const charClassMax = 256

// matchBracket matches c against the set p starts with ('['), following glibc's
// fnmatch_loop.c for the C locale (no collation rules, byte order).
func matchBracket(p string, c byte) (bracketResult, int) {
	at := func(i int) byte { // glibc reads the pattern up to its NUL
		if i < len(p) {
			return p[i]
		}
		return 0
	}
	// collating reads "[.x.]" with i at the '.', leaving i after it; ok is false if it
	// is unterminated or not one byte long.
	collating := func(i *int) (x byte, ok bool) {
		start, n := *i, 0
		for {
			*i++
			ch := at(*i)
			if ch == '.' && at(*i+1) == ']' {
				*i += 2
				break
			}
			if ch == 0 {
				return 0, false
			}
			n++
		}
		return p[start+1], n == 1
	}
	i := 1
	negate := at(i) == '!' || at(i) == '^'
	if negate {
		i++
	}
	cc := at(i)
	i++
	for {
		elem := false   // cc is an ordinary member, perhaps the start of a range
		var cold byte   // the start of a possible range
		ranged := false // whether a '-' after this member makes a range
		switch {
		case cc == '\\':
			if at(i) == 0 {
				return bracketNoMatch, 0
			}
			cc = at(i)
			i++
			elem = true
		case cc == '[' && at(i) == ':':
			start := i
			var class []byte
			for {
				if len(class) == charClassMax {
					return bracketNoMatch, 0
				}
				i++
				ch := at(i)
				if ch == ':' && at(i+1) == ']' {
					i += 2
					break
				}
				if ch < 'a' || ch >= 'z' { // no class name: an ordinary '['
					i = start
					elem = true
					break
				}
				class = append(class, ch)
			}
			if !elem {
				known, in := inClass(string(class), c)
				if !known {
					return bracketNoMatch, 0
				}
				if in {
					return skipBracket(p, i, negate)
				}
				cc = at(i)
				i++
			}
		case cc == '[' && at(i) == '=':
			start := i
			i++
			x := at(i)
			if x == 0 || at(i+1) != '=' || at(i+2) != ']' { // no [=x=]: an ordinary '['
				i = start
				elem = true
				break
			}
			i += 3
			if c == x {
				return skipBracket(p, i, negate)
			}
			cc = at(i)
			i++
		case cc == 0:
			return bracketLiteral, 1
		case cc == '[' && at(i) == '.':
			x, ok := collating(&i)
			if !ok {
				return bracketNoMatch, 0
			}
			isRange := at(i) == '-' && at(i+1) != 0
			if !isRange && c == x {
				return skipBracket(p, i, negate)
			}
			cold, ranged = x, true
			cc = at(i)
			i++
		default:
			elem = true
		}
		if elem {
			isRange := at(i) == '-' && at(i+1) != 0 && at(i+1) != ']'
			if !isRange && c == cc {
				return skipBracket(p, i, negate)
			}
			cold, ranged = cc, true
			cc = at(i)
			i++
		}
		if ranged && cc == '-' && at(i) != ']' {
			cend := at(i)
			i++
			if cend == '[' && at(i) == '.' {
				x, ok := collating(&i)
				if !ok {
					return bracketNoMatch, 0
				}
				cend = x
			} else {
				if cend == '\\' {
					cend = at(i)
					i++
				}
				if cend == 0 {
					return bracketNoMatch, 0
				}
			}
			if cold <= c && c <= cend {
				return skipBracket(p, i, negate)
			}
			cc = at(i)
			i++
		}
		if cc == ']' {
			break
		}
	}
	if !negate {
		return bracketNoMatch, 0
	}
	return bracketMatch, i
}

// skipBracket skips the rest of a set that matched c, from i; the set's width, or no
// match if the set is ill-formed (or negated).
func skipBracket(p string, i int, negate bool) (bracketResult, int) {
	at := func(i int) byte {
		if i < len(p) {
			return p[i]
		}
		return 0
	}
	for {
		cc := at(i)
		i++
		if cc == ']' {
			break
		}
		switch {
		case cc == 0:
			return bracketLiteral, 1 // unterminated
		case cc == '\\':
			if at(i) == 0 {
				return bracketNoMatch, 0
			}
			i++
		case cc == '[' && at(i) == ':':
			start, n := i, 0
			for {
				i++
				ch := at(i)
				if n++; n == charClassMax {
					return bracketNoMatch, 0
				}
				if ch == ':' && at(i+1) == ']' {
					break
				}
				if ch < 'a' || ch >= 'z' {
					i = start - 2
					break
				}
			}
			i += 2
		case cc == '[' && at(i) == '=':
			if at(i+1) == 0 || at(i+2) != '=' || at(i+3) != ']' {
				return bracketNoMatch, 0
			}
			i += 4
		case cc == '[' && at(i) == '.':
			for {
				i++
				ch := at(i)
				if ch == 0 {
					return bracketNoMatch, 0
				}
				if ch == '.' && at(i+1) == ']' {
					break
				}
			}
			i += 2
		}
	}
	if negate {
		return bracketNoMatch, 0
	}
	return bracketMatch, i
}

// inClass tests c against a character class of the C locale; known is false for a name
// that is no class.
func inClass(class string, c byte) (known, in bool) {
	switch class {
	case "alnum":
		return true, isAlpha(c) || isDigit(c)
	case "alpha":
		return true, isAlpha(c)
	case "blank":
		return true, c == ' ' || c == '\t'
	case "cntrl":
		return true, c < 0x20 || c == 0x7f
	case "digit":
		return true, isDigit(c)
	case "graph":
		return true, 0x21 <= c && c <= 0x7e
	case "lower":
		return true, 'a' <= c && c <= 'z'
	case "print":
		return true, 0x20 <= c && c <= 0x7e
	case "punct":
		return true, 0x21 <= c && c <= 0x7e && !isAlpha(c) && !isDigit(c)
	case "space":
		return true, c == ' ' || ('\t' <= c && c <= '\r')
	case "upper":
		return true, 'A' <= c && c <= 'Z'
	case "xdigit":
		return true, isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
	}
	return false, false
}

func isAlpha(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
