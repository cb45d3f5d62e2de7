package bootvar

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestRecordRoundTrip: the record keeps every variable with every layer, so the
// set read back gives the same values, sources and offers.
func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "boot.conf"), "sysname=gnot\nventi=tcp!a!1\nconsole=ttyS0\nconsole=ttyS1\nmy.var='a b'\n")
	s, _ := Load(`venti=ask ro init="" bad\x=1 console=tty0 quiet`, conf)
	path := filepath.Join(dir, "run", "vars.json")
	if err := s.WriteRecord(path); err != nil {
		t.Fatal(err)
	}
	r, err := ReadRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Names(), s.Names()) {
		t.Errorf("names %q, want %q", r.Names(), s.Names())
	}
	for _, n := range s.Names() {
		if r.Value(n) != s.Value(n) || r.Source(n) != s.Source(n) || r.Offer(n) != s.Offer(n) {
			t.Errorf("%s: %q from %q offering %q; want %q from %q offering %q",
				n, r.Value(n), r.Source(n), r.Offer(n), s.Value(n), s.Source(n), s.Offer(n))
		}
	}
	if !reflect.DeepEqual(r.Record(), s.Record()) {
		t.Errorf("record %+v, want %+v", r.Record(), s.Record())
	}
	for _, w := range []struct{ name, value, src, offer string }{
		{"venti", Ask, FromCmdline, "tcp!a!1"},
		{"sysname", "gnot", conf, "gnot"},
		{"init", "", FromCmdline, ""},
		{"ants.onrootexit", "shell", FromDefault, "shell"},
		{"console", "tty0", FromCmdline, "tty0"},
	} {
		if v, src, o := r.Value(w.name), r.Source(w.name), r.Offer(w.name); v != w.value || src != w.src || o != w.offer {
			t.Errorf("%s = %q from %q offering %q, want %q from %q offering %q", w.name, v, src, o, w.value, w.src, w.offer)
		}
	}
	if !r.HasSource("venti", conf) || !r.HasSource("venti", FromCmdline) || r.HasSource("sysname", FromCmdline) {
		t.Errorf("HasSource: venti from %s and the command line, sysname not from the command line: %+v", conf, r.Record())
	}
	// The file is JSON a person can read: name, value, source.
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"name": "venti",`) || !strings.Contains(string(b), `"source": "kernel command line"`) {
		t.Errorf("record:\n%s", b)
	}
	if _, err := os.Stat(path + ".tmp"); err == nil {
		t.Errorf("%s.tmp left", path)
	}
}

func TestReadRecordErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := ReadRecord(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("ReadRecord(missing) = %v, want not exist", err)
	}
	bad := writeFile(t, filepath.Join(dir, "bad.json"), "{not json")
	if _, err := ReadRecord(bad); err == nil || !strings.HasPrefix(err.Error(), bad+": ") {
		t.Errorf("ReadRecord(bad) = %v", err)
	}
	// A variable without layers has its value and source as its one layer.
	one := writeFile(t, filepath.Join(dir, "one.json"), `[{"name":"sysname","value":"x","source":"console"}]`)
	s, err := ReadRecord(one)
	if err != nil || s.Value("sysname") != "x" || s.Source("sysname") != FromConsole {
		t.Errorf("ReadRecord(one) = %+v, %v", s.Record(), err)
	}
}

func TestAskedAtBoot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, _ := Load("venti=ask root=/dev/vda1 sysname=ask")
	path := filepath.Join(dir, "vars.json")
	if err := s.WriteRecord(path); err != nil {
		t.Fatal(err)
	}
	got, err := AskedAtBoot(path, "root", "venti")
	if err != nil || !reflect.DeepEqual(got, []string{"venti"}) {
		t.Errorf("AskedAtBoot = %q, %v; want venti", got, err)
	}
	if got, err := AskedAtBoot(filepath.Join(dir, "missing"), "venti"); err == nil || got != nil {
		t.Errorf("AskedAtBoot(missing) = %q, %v; want an error", got, err)
	}
}

// TestApplyUnder: a conf applied under the command line offers its value under
// the command line's "ask", and never wins over it.
func TestApplyUnder(t *testing.T) {
	t.Parallel()
	s, _ := Load("venti=ask sysname=cl console=tty0")
	params, errs := ParseConf(strings.NewReader("venti=tcp!h!5\nsysname=host\nroot=/dev/vdb\nro\nventi=tcp!h!6\nants.tmpfs=0\n"), "host.conf")
	errs = append(errs, s.ApplyUnder(params, "host.conf", FromCmdline)...)
	if len(errs) != 1 || findErr(errs, "host.conf", "ants.tmpfs", "ignored") == nil {
		t.Errorf("errors:%s\nwant one about ants.tmpfs", errText(errs))
	}
	for _, w := range []struct{ name, value, src, offer string }{
		{"venti", Ask, FromCmdline, "tcp!h!6"},
		{"sysname", "cl", FromCmdline, "cl"},
		{"root", "/dev/vdb", "host.conf", "/dev/vdb"},
		{"ro", "1", "host.conf", "1"},
		{"ants.tmpfs", "50%", FromDefault, "50%"},
	} {
		if v, src, o := s.Value(w.name), s.Source(w.name), s.Offer(w.name); v != w.value || src != w.src || o != w.offer {
			t.Errorf("%s = %q from %q offering %q, want %q from %q offering %q", w.name, v, src, o, w.value, w.src, w.offer)
		}
	}
	// The same as Load with the conf in its place.
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "host.conf"), "venti=tcp!h!5\nsysname=host\n")
	l, _ := Load("venti=ask sysname=cl", filepath.Join(dir, "none.conf"), conf)
	u, _ := Load("venti=ask sysname=cl", filepath.Join(dir, "none.conf"))
	params, _ = ParseConf(strings.NewReader("venti=tcp!h!5\nsysname=host\n"), conf)
	u.ApplyUnder(params, conf, FromCmdline)
	if !reflect.DeepEqual(u.Record(), l.Record()) {
		t.Errorf("ApplyUnder %+v\nLoad %+v", u.Record(), l.Record())
	}
	// On a zero set, on top.
	var z Set
	z.ApplyUnder(params, conf, FromCmdline)
	if z.Value("venti") != "tcp!h!5" || z.Source("venti") != conf {
		t.Errorf("zero set: %+v", z.Record())
	}
}
