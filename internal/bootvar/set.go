package bootvar

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Source names where a value came from, for messages and `ants env -v`.
const (
	FromDefault = "default"
	FromCmdline = "kernel command line"
	FromConsole = "console"
	FromEnv     = "/env"
)

type entry struct {
	value, src string
}

// Set holds variables with the layers of their sources: a later Set wins, and the
// values under it stay known, so an "ask" can offer the value it hides.
type Set struct {
	layers map[string][]entry
}

// NewSet returns a set holding the table's defaults.
func NewSet() *Set {
	s := &Set{layers: map[string][]entry{}}
	for _, k := range Table {
		if k.Default != "" {
			s.Set(k.Name, k.Default, FromDefault)
		}
	}
	return s
}

// Set puts value on top of name's layers. A zero Set is empty and usable.
func (s *Set) Set(name, value, src string) {
	if s.layers == nil {
		s.layers = map[string][]entry{}
	}
	l := s.layers[name]
	if n := len(l); n > 0 && l[n-1].src == src {
		l[n-1].value = value
		return
	}
	s.layers[name] = append(l, entry{value, src})
}

// Get returns the current value of name and whether it is set.
func (s *Set) Get(name string) (string, bool) {
	l := s.layers[name]
	if len(l) == 0 {
		return "", false
	}
	return l[len(l)-1].value, true
}

// Value returns the current value of name, "" when unset.
func (s *Set) Value(name string) string {
	v, _ := s.Get(name)
	return v
}

// Source says where the current value of name came from.
func (s *Set) Source(name string) string {
	l := s.layers[name]
	if len(l) == 0 {
		return ""
	}
	return l[len(l)-1].src
}

// Offer is the value an "ask" for name offers: the highest layer that is not "ask".
func (s *Set) Offer(name string) string {
	l := s.layers[name]
	for i := len(l) - 1; i >= 0; i-- {
		if l[i].value != Ask {
			return l[i].value
		}
	}
	return ""
}

// Names lists the set variables: known ones in table order, then the others sorted.
func (s *Set) Names() []string {
	var names, other []string
	for _, k := range Table {
		if _, ok := s.layers[k.Name]; ok {
			names = append(names, k.Name)
		}
	}
	for n := range s.layers {
		if !IsKnown(n) {
			other = append(other, n)
		}
	}
	sort.Strings(other)
	return append(names, other...)
}

// Apply puts params on the set as coming from src. A known variable with a value that
// fails its check is reported and left as it was. Unknown ants.* names are reported
// (likely typos) but kept, like any other variable, for scripts to use.
func (s *Set) Apply(params []Param, src string) []error {
	var errs []error
	for _, p := range params {
		k, known := Lookup(p.Key)
		v := p.Value
		if known && k.Kind == Flag {
			if p.HasValue && !Truth(v) && v != "" {
				errs = append(errs, fmt.Errorf("%s: %s is a bare word; %q ignored", src, p.Key, p.Word()))
				continue
			}
			v = "1"
		} else if !p.HasValue && !known {
			// A bare word the kernel or someone else uses (quiet, splash): not ours.
			continue
		}
		if !known && strings.HasPrefix(p.Key, "ants.") {
			errs = append(errs, fmt.Errorf("%s: unknown variable %s; see docs/cmdline.md (kept for scripts)", src, p.Key))
		}
		if err := Validate(p.Key, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %v; ignored", src, p.Key, err))
			continue
		}
		if p.Key == "console" {
			// Several console= words are all consoles; keep them all.
			if old, ok := s.Get("console"); ok && s.Source("console") == src {
				v = old + " " + v
			}
		}
		s.Set(p.Key, v, src)
	}
	return errs
}

// LoadConfFile applies a boot.conf file. A missing file is no error when optional.
func (s *Set) LoadConfFile(path string, optional bool) []error {
	f, err := os.Open(path)
	if err != nil {
		if optional && os.IsNotExist(err) {
			return nil
		}
		return []error{fmt.Errorf("%s: cannot read: %v; boot goes on without it", path, unwrapPath(err))}
	}
	defer f.Close()
	params, errs := ParseConf(f, path)
	return append(errs, s.Apply(params, path)...)
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Load builds the boot variables: defaults, then each conf file (optional ones may
// be missing), then the kernel command line. Problems are returned, not fatal.
func Load(cmdline string, confs ...string) (*Set, []error) {
	s := NewSet()
	var errs []error
	for i, c := range confs {
		errs = append(errs, s.LoadConfFile(c, i > 0)...)
	}
	params, perrs := ParseCmdline(cmdline)
	errs = append(errs, perrs...)
	errs = append(errs, s.Apply(params, FromCmdline)...)
	return s, errs
}

// EnvName is a variable's name in a script's environment: dots become underscores.
func EnvName(name string) string { return strings.ReplaceAll(name, ".", "_") }

// WriteEnv writes each variable to dir/NAME, one value a file, as Plan 9's /env.
// A variable whose name is not a variable name (see WriteVar) is skipped, and so is
// one that cannot be written; the others are written all the same, and the error
// lists what was left out.
func (s *Set) WriteEnv(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var skipped []string
	var errs []error
	for _, n := range s.Names() {
		if checkName(n) != nil {
			skipped = append(skipped, strconv.Quote(n))
			continue
		}
		if err := WriteVar(dir, n, s.Value(n)); err != nil {
			errs = append(errs, err)
		}
	}
	if len(skipped) > 0 {
		errs = append(errs, fmt.Errorf("skipped %s: not variable names (letters, digits, '_', '.', '-', not starting with '.' or '-')", strings.Join(skipped, ", ")))
	}
	return errors.Join(errs...)
}

// WriteVar writes one variable to dir/NAME. name must be a variable name: letters,
// digits, '_', '.' and '-', not starting with '.' or '-' (so no '/', and nothing
// that ReadEnv skips or that could be one of WriteVar's temporary files).
func WriteVar(dir, name, value string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("%q is not a variable name: %v", name, err)
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(value+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

// ReadEnv reads every dir/NAME into a map; one trailing newline is dropped.
func ReadEnv(dir string) (map[string]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		m[e.Name()] = strings.TrimSuffix(string(b), "\n")
	}
	return m, nil
}

// MergeEnv puts values read from /env on top of the set where they differ.
func (s *Set) MergeEnv(env map[string]string) {
	for k, v := range env {
		if cur, ok := s.Get(k); !ok || cur != v {
			s.Set(k, v, FromEnv)
		}
	}
}

// CmdlineWords gives the set back as kernel command line words (ANTS' save9cfg):
// every variable with a value, known ones first; flags as bare words; defaults and
// the consoles the kernel was given are left out unless they were set. An empty
// value is left out too, unless it hides a default: then it is written NAME="".
// Names that ParseCmdline would refuse (see WriteVar) are left out.
func (s *Set) CmdlineWords() []string {
	var out []string
	for _, n := range s.Names() {
		v := s.Value(n)
		if s.Source(n) == FromDefault || checkName(n) != nil {
			continue
		}
		k, known := Lookup(n)
		switch {
		case known && k.Kind == Flag:
			if Truth(v) {
				out = append(out, n)
			}
		case v == "":
			if known && k.Default != "" {
				out = append(out, Param{Key: n, Value: v, HasValue: true}.Word())
			}
		case n == "console":
			for _, c := range strings.Fields(v) {
				out = append(out, Param{Key: n, Value: c, HasValue: true}.Word())
			}
		default:
			out = append(out, Param{Key: n, Value: v, HasValue: true}.Word())
		}
	}
	return out
}
