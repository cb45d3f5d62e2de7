package bootvar

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// RecordFile is where PID 1 keeps the record of the boot variables, beside /env:
// every variable as it read them at boot, with the layers of its sources
// (default, the image's boot.conf, the kernel command line). It is written once;
// /env is what changes at run time, and the record says where a value came from
// and what an "ask" hides.
const RecordFile = "/run/ants/vars.json"

// RecordVar is one variable of the record: its value and source at boot, and
// every layer, lowest first (the last is Value and Source).
type RecordVar struct {
	Name   string  `json:"name"`
	Value  string  `json:"value"`
	Source string  `json:"source"`
	Layers []Layer `json:"layers"`
}

// Layer is one source's value of a variable.
type Layer struct {
	Value  string `json:"value"`
	Source string `json:"source"`
}

// Record lists the set's variables (in Names order) with their layers.
func (s *Set) Record() []RecordVar {
	var r []RecordVar
	for _, n := range s.Names() {
		v := RecordVar{Name: n, Value: s.Value(n), Source: s.Source(n)}
		for _, e := range s.layers[n] {
			v.Layers = append(v.Layers, Layer{Value: e.value, Source: e.src})
		}
		r = append(r, v)
	}
	return r
}

// WriteRecord writes the set's record to path as JSON, whole or not at all.
func (s *Set) WriteRecord(path string) error {
	b, err := json.MarshalIndent(s.Record(), "", "\t")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadRecord reads a record WriteRecord wrote back into a set.
func ReadRecord(path string) (*Set, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r []RecordVar
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s := &Set{layers: map[string][]entry{}}
	for _, v := range r {
		l := v.Layers
		if len(l) == 0 {
			l = []Layer{{Value: v.Value, Source: v.Source}}
		}
		for _, e := range l {
			s.layers[v.Name] = append(s.layers[v.Name], entry{e.Value, e.Source})
		}
	}
	return s, nil
}

// AskedAtBoot names those of names whose value at boot, in the record at path,
// was "ask" (whatever the console answered since, in /env): PID 1 asks for them
// again when the root they name cannot come up.
func AskedAtBoot(path string, names ...string) ([]string, error) {
	s, err := ReadRecord(path)
	if err != nil {
		return nil, err
	}
	var asked []string
	for _, n := range names {
		if s.Value(n) == Ask {
			asked = append(asked, n)
		}
	}
	return asked, nil
}

// HasSource says whether one of name's layers came from src.
func (s *Set) HasSource(name, src string) bool {
	for _, e := range s.layers[name] {
		if e.src == src {
			return true
		}
	}
	return false
}

// ApplyUnder puts params on the set as coming from src, as Apply does, but each
// under name's first layer from above when it has one (on top otherwise): a host's
// boot.conf, read after the boot, goes under the kernel command line, which wins.
func (s *Set) ApplyUnder(params []Param, src, above string) []error {
	t := &Set{}
	errs := t.Apply(params, src)
	if s.layers == nil {
		s.layers = map[string][]entry{}
	}
	for _, n := range t.Names() {
		l := s.layers[n]
		i := slices.IndexFunc(l, func(e entry) bool { return e.src == above })
		if i < 0 {
			s.Set(n, t.Value(n), src)
			continue
		}
		if i > 0 && l[i-1].src == src {
			l[i-1].value = t.Value(n)
			continue
		}
		s.layers[n] = slices.Insert(l, i, entry{t.Value(n), src})
	}
	return errs
}
