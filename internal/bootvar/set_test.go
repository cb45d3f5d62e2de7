package bootvar

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestNewSetDefaults(t *testing.T) {
	s := NewSet()
	for name, want := range map[string]string{
		"init":            "/sbin/init",
		"ants.onrootexit": "shell",
		"ants.escape":     "^]",
		"ants.tmpfs":      "50%",
	} {
		got, ok := s.Get(name)
		if !ok || got != want {
			t.Errorf("NewSet: %s = %q, %v; want %q", name, got, ok, want)
		}
		if src := s.Source(name); src != FromDefault {
			t.Errorf("NewSet: source of %s = %q, want %q", name, src, FromDefault)
		}
		if s.Offer(name) != want {
			t.Errorf("NewSet: Offer(%s) = %q, want %q", name, s.Offer(name), want)
		}
	}
	for _, name := range []string{"venti", "sysname", "ro", "console", "nosuch"} {
		if v, ok := s.Get(name); ok || v != "" || s.Value(name) != "" || s.Source(name) != "" || s.Offer(name) != "" {
			t.Errorf("NewSet: %s is set to %q (source %q)", name, v, s.Source(name))
		}
	}
	if got, want := s.Names(), []string{"init", "ants.onrootexit", "ants.escape", "ants.watchdog", "ants.onroothang", "ants.hangafter", "ants.tmpfs", "ants.rootpriv", "ants.rootmem", "ants.rootpids"}; !reflect.DeepEqual(got, want) {
		t.Errorf("NewSet().Names() = %q, want %q", got, want)
	}
	if w := s.CmdlineWords(); len(w) != 0 {
		t.Errorf("NewSet().CmdlineWords() = %q, want none: defaults are left out", w)
	}
}

func TestSetLayers(t *testing.T) {
	s := NewSet()
	s.Set("venti", "tcp!a!1", "conf")
	s.Set("venti", "tcp!b!1", "conf") // same source: replaces
	s.Set("venti", Ask, FromCmdline)
	if v := s.Value("venti"); v != Ask {
		t.Errorf("venti = %q, want ask", v)
	}
	if src := s.Source("venti"); src != FromCmdline {
		t.Errorf("source = %q", src)
	}
	if o := s.Offer("venti"); o != "tcp!b!1" {
		t.Errorf("Offer(venti) = %q, want tcp!b!1", o)
	}
	s.Set("venti", "tcp!c!1", FromConsole)
	if v, o := s.Value("venti"), s.Offer("venti"); v != "tcp!c!1" || o != "tcp!c!1" {
		t.Errorf("after the console: venti = %q, offer %q", v, o)
	}
	// Only "ask" on every layer: nothing to offer.
	s.Set("sysname", Ask, "conf")
	s.Set("sysname", Ask, FromCmdline)
	if o := s.Offer("sysname"); o != "" {
		t.Errorf("Offer(sysname) = %q, want \"\"", o)
	}
	// An empty value is a value.
	s.Set("root", "", FromCmdline)
	if v, ok := s.Get("root"); !ok || v != "" {
		t.Errorf("root = %q, %v", v, ok)
	}
}

func TestNames(t *testing.T) {
	s := NewSet()
	for _, n := range []string{"zeta", "venti", "alpha", "ants.x", "sysname", "ro"} {
		s.Set(n, "1", FromCmdline)
	}
	want := []string{"sysname", "ro", "init", "venti", "ants.onrootexit", "ants.escape", "ants.watchdog", "ants.onroothang", "ants.hangafter", "ants.tmpfs", "ants.rootpriv", "ants.rootmem", "ants.rootpids", "alpha", "ants.x", "zeta"}
	if got := s.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		name    string
		cmdline string
		want    map[string]string // "" value with unset: see unset
		unset   []string
		errs    []string // substrings of the wanted errors, each matched to one error
	}{
		{
			name:    "flags become 1",
			cmdline: "ro rootwait rw=1 ro=yes",
			want:    map[string]string{"ro": "1", "rootwait": "1", "rw": "1"},
		},
		{
			name:    "flag with a false value is refused",
			cmdline: "ro=0 rw=no rootwait=",
			want:    map[string]string{"rootwait": "1"},
			unset:   []string{"ro", "rw"},
			errs:    []string{`ro is a bare word; "ro=0" ignored`, `rw is a bare word; "rw=no" ignored`},
		},
		{
			name:    "bare unknown words are not ours",
			cmdline: "quiet splash loglevel=3 ants.bare",
			want:    map[string]string{"loglevel": "3"},
			unset:   []string{"quiet", "splash", "ants.bare"},
		},
		{
			name:    "unknown ants names are warned about and kept",
			cmdline: "ants.brek=mount ants.onrootexit=reboot",
			want:    map[string]string{"ants.brek": "mount", "ants.onrootexit": "reboot"},
			errs:    []string{"kernel command line: unknown variable ants.brek"},
		},
		{
			name:    "unknown other names are kept quietly",
			cmdline: "foo=bar BOOT_IMAGE=/vmlinuz empty=",
			want:    map[string]string{"foo": "bar", "BOOT_IMAGE": "/vmlinuz", "empty": ""},
		},
		{
			name:    "bad values are refused and the default kept",
			cmdline: "ants.onrootexit=halt ants.tmpfs=lots rootdelay=soon sysname=a/b",
			want:    map[string]string{"ants.onrootexit": "shell", "ants.tmpfs": "50%"},
			unset:   []string{"rootdelay", "sysname"},
			errs: []string{
				`kernel command line: ants.onrootexit: "halt" is not one of shell, restart, poweroff, reboot; ignored`,
				`ants.tmpfs: "lots"`, `rootdelay: "soon"`, `sysname: "a/b"`,
			},
		},
		{
			name:    "ask is always accepted",
			cmdline: "venti=ask ants.onrootexit=ask rootdelay=ask",
			want:    map[string]string{"venti": Ask, "ants.onrootexit": Ask, "rootdelay": Ask},
		},
		{
			name:    "consoles accumulate",
			cmdline: "console=tty0 console=ttyS0,115200n8 console=hvc0",
			want:    map[string]string{"console": "tty0 ttyS0,115200n8 hvc0"},
		},
		{
			name:    "last one wins",
			cmdline: "sysname=a sysname=b init=/bin/sh init=/bin/rc",
			want:    map[string]string{"sysname": "b", "init": "/bin/rc"},
		},
		{
			name:    "parse errors are reported",
			cmdline: `=x sysname=gnot`,
			want:    map[string]string{"sysname": "gnot"},
			errs:    []string{`"=x" has no name`},
		},
		{
			name:    "words after -- are init's",
			cmdline: "sysname=gnot -- sysname=other ro",
			want:    map[string]string{"sysname": "gnot"},
			unset:   []string{"ro"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, errs := Load(tt.cmdline)
			for k, v := range tt.want {
				if got, ok := s.Get(k); !ok || got != v {
					t.Errorf("%s = %q, %v; want %q", k, got, ok, v)
				}
			}
			for _, k := range tt.unset {
				if got, ok := s.Get(k); ok {
					t.Errorf("%s = %q, want it unset", k, got)
				}
			}
			if len(errs) != len(tt.errs) {
				t.Errorf("%d errors, want %d:%s", len(errs), len(tt.errs), errText(errs))
			}
			for _, want := range tt.errs {
				if findErr(errs, want) == nil {
					t.Errorf("no error says %q:%s", want, errText(errs))
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	base := writeFile(t, filepath.Join(dir, "boot.conf"), `# base
sysname=fromconf
root=/dev/vda1
venti=tcp!10.0.0.2!17034
ro
console=ttyS0
console=ttyS1
ants.initargs='-s single'
ip=dhcp
`)
	local := writeFile(t, filepath.Join(dir, "local.conf"), `root=/dev/vda2
export rootflags="noatime"
ip=ask
`)
	missing := filepath.Join(dir, "missing.conf")

	s, errs := Load(`sysname=fromcmdline console=tty0 venti=udp!x!1 quiet ants.aname="/usr/glenda/root fs"`, base, missing, local)

	// The only problem is the bad venti on the command line.
	if len(errs) != 1 || findErr(errs, "kernel command line", "venti", `"udp!x!1"`, "ignored") == nil {
		t.Errorf("Load errors:%s\nwant one about venti=udp!x!1", errText(errs))
	}
	want := []struct{ name, value, src string }{
		{"sysname", "fromcmdline", FromCmdline},            // command line over conf
		{"root", "/dev/vda2", local},                       // later conf over earlier
		{"rootflags", "noatime", local},                    // export, quotes
		{"venti", "tcp!10.0.0.2!17034", base},              // the bad cmdline value is not taken
		{"ro", "1", base},                                  // flag
		{"console", "tty0", FromCmdline},                   // the command line's consoles replace the conf's
		{"ants.initargs", "-s single", base},               // single quotes
		{"ants.aname", "/usr/glenda/root fs", FromCmdline}, // double quotes
		{"ip", Ask, local},
		{"init", "/sbin/init", FromDefault},
		{"ants.onrootexit", "shell", FromDefault},
	}
	for _, w := range want {
		if v, src := s.Value(w.name), s.Source(w.name); v != w.value || src != w.src {
			t.Errorf("%s = %q from %q, want %q from %q", w.name, v, src, w.value, w.src)
		}
	}
	if o := s.Offer("ip"); o != "dhcp" {
		t.Errorf("Offer(ip) = %q, want the value under ask, dhcp", o)
	}
	if _, ok := s.Get("quiet"); ok {
		t.Errorf("quiet is set")
	}

	// The conf's own consoles accumulate.
	s, errs = Load("", base)
	if len(errs) != 0 || s.Value("console") != "ttyS0 ttyS1" {
		t.Errorf("console = %q, errors:%s; want \"ttyS0 ttyS1\"", s.Value("console"), errText(errs))
	}
}

func TestLoadMissingConf(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nosuch", "boot.conf")
	s, errs := Load("sysname=gnot", missing)
	if len(errs) != 1 || findErr(errs, missing, "cannot read") == nil {
		t.Errorf("Load with a missing first conf: errors:%s\nwant one naming %s", errText(errs), missing)
	}
	if s.Value("sysname") != "gnot" || s.Value("init") != "/sbin/init" {
		t.Errorf("Load with a missing first conf: sysname %q, init %q", s.Value("sysname"), s.Value("init"))
	}

	// Later conf files may be missing.
	first := writeFile(t, filepath.Join(dir, "boot.conf"), "sysname=conf\n")
	s, errs = Load("", first, missing, filepath.Join(dir, "also-missing"))
	if len(errs) != 0 || s.Value("sysname") != "conf" {
		t.Errorf("Load with missing later confs: sysname %q, errors:%s", s.Value("sysname"), errText(errs))
	}

	// A conf that cannot be read (here: a directory) is reported even when optional.
	s, errs = Load("", first, dir)
	if findErr(errs, dir) == nil {
		t.Errorf("Load with a directory for a conf: errors:%s\nwant one naming %s", errText(errs), dir)
	}
	if s.Value("sysname") != "conf" {
		t.Errorf("sysname = %q", s.Value("sysname"))
	}
}

func TestLoadConfErrors(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "boot.conf"), "sysname=gnot\nquiet\nventi=udp!x!1\nro=0\nants.typo=1\n")
	s, errs := Load("", conf)
	for _, want := range [][]string{
		{conf + ":2:", `"quiet"`},
		{conf + ":", "venti", `"udp!x!1"`},
		{conf + ":", "ro is a bare word"},
		{conf + ":", "unknown variable ants.typo"},
	} {
		if findErr(errs, want...) == nil {
			t.Errorf("no error says %q:%s", want, errText(errs))
		}
	}
	if len(errs) != 4 {
		t.Errorf("%d errors, want 4:%s", len(errs), errText(errs))
	}
	if s.Value("sysname") != "gnot" || s.Value("ants.typo") != "1" {
		t.Errorf("sysname %q, ants.typo %q", s.Value("sysname"), s.Value("ants.typo"))
	}
	if _, ok := s.Get("venti"); ok {
		t.Errorf("the bad venti was taken")
	}
}

func TestWriteReadEnv(t *testing.T) {
	s, errs := Load(`sysname=gnot ro venti=tcp!fs!564 ants.initargs="-s  x" foo= console=tty0 console=ttyS0`)
	if len(errs) != 0 {
		t.Fatalf("Load:%s", errText(errs))
	}
	s.Set("multi", "line one\nline two\n", FromConsole)
	dir := filepath.Join(t.TempDir(), "env") // WriteEnv makes it
	if err := s.WriteEnv(dir); err != nil {
		t.Fatalf("WriteEnv: %v", err)
	}
	want := map[string]string{}
	for _, n := range s.Names() {
		want[n] = s.Value(n)
	}
	// One file per variable, holding the value and a newline; no temporary files left.
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		files = append(files, e.Name())
	}
	wantFiles := s.Names()
	sort.Strings(wantFiles)
	if !reflect.DeepEqual(files, wantFiles) {
		t.Errorf("files %q, want %q", files, wantFiles)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "ants.initargs")); err != nil || string(b) != "-s  x\n" {
		t.Errorf("ants.initargs file = %q, %v", b, err)
	}

	got, err := ReadEnv(dir)
	if err != nil {
		t.Fatalf("ReadEnv: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadEnv:\n got %q\nwant %q", got, want)
	}

	// Written again (as after a change), and merged into a fresh set: the same values.
	s.Set("sysname", "other", FromConsole)
	if err := s.WriteEnv(dir); err != nil {
		t.Fatalf("WriteEnv again: %v", err)
	}
	got, _ = ReadEnv(dir)
	if got["sysname"] != "other" {
		t.Errorf("sysname = %q after writing again", got["sysname"])
	}
	fresh := NewSet()
	fresh.MergeEnv(got)
	for _, n := range s.Names() {
		if fresh.Value(n) != s.Value(n) {
			t.Errorf("after MergeEnv, %s = %q, want %q", n, fresh.Value(n), s.Value(n))
		}
	}
}

func TestReadEnv(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a"), "1\n")
	writeFile(t, filepath.Join(dir, "b"), "two\n\n") // only one newline is dropped
	writeFile(t, filepath.Join(dir, "c"), "")
	writeFile(t, filepath.Join(dir, "d"), "no newline")
	writeFile(t, filepath.Join(dir, ".hidden"), "x\n")
	writeFile(t, filepath.Join(dir, ".e.tmp"), "x\n")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := ReadEnv(dir)
	want := map[string]string{"a": "1", "b": "two\n", "c": "", "d": "no newline"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ReadEnv = %q, %v; want %q", got, err, want)
	}
	if _, err := ReadEnv(filepath.Join(dir, "nosuch")); err == nil {
		t.Errorf("ReadEnv of a missing directory: no error")
	}
}

func TestWriteVar(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"", "a/b", "/", "..", ".", "../x", "a\x00b", ".x", ".a.tmp", "-x", "a b", "a\nb"} {
		err := WriteVar(dir, name, "v")
		if err == nil {
			t.Errorf("WriteVar(%q): no error", name)
			continue
		}
		if !strings.Contains(err.Error(), "not a variable name") {
			t.Errorf("WriteVar(%q): error %q", name, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("refused names left files: %v", ents)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "x")); err == nil {
		t.Errorf("WriteVar wrote outside its directory")
	}
	for _, v := range []string{"first", "second", ""} {
		if err := WriteVar(dir, "ants.break", v); err != nil {
			t.Fatalf("WriteVar: %v", err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "ants.break")); err != nil || string(b) != v+"\n" {
			t.Errorf("ants.break file = %q, %v; want %q", b, err, v+"\n")
		}
	}
	if err := WriteVar(filepath.Join(dir, "nosuch"), "a", "1"); err == nil {
		t.Errorf("WriteVar into a missing directory: no error")
	}
}

// The parsers refuse the names that WriteVar refuses, and WriteEnv skips any such
// name (set some other way) and writes the others.
func TestWriteEnvBadName(t *testing.T) {
	for _, cmdline := range []string{"..=x zzz=1 sysname=gnot", ".=x zzz=1 sysname=gnot"} {
		s, _ := Load(cmdline)
		dir := t.TempDir()
		err := s.WriteEnv(dir)
		env, _ := ReadEnv(dir)
		if err != nil || env["zzz"] != "1" || env["sysname"] != "gnot" {
			t.Errorf("Load(%q).WriteEnv: %v; /env holds %q", cmdline, err, env)
		}
	}
	s, _ := Load(".x=1")
	dir := t.TempDir()
	if err := s.WriteEnv(dir); err != nil {
		t.Fatal(err)
	}
	if env, _ := ReadEnv(dir); env[".x"] != s.Value(".x") {
		t.Errorf(".x=1 from the command line does not come back from /env: %q", env)
	}

	// From a boot.conf.
	conf := writeFile(t, filepath.Join(t.TempDir(), "boot.conf"), "..=x\n.=y\na\x00b=1\n.x=2\nzzz=1\n")
	s, errs := Load("", conf)
	for _, bad := range []string{`"..=x"`, `".=y"`, `"a\x00b=1"`, `".x=2"`} {
		if findErr(errs, conf, bad, "ignored") == nil {
			t.Errorf("Load of a conf: no error names %s:%s", bad, errText(errs))
		}
	}
	dir = t.TempDir()
	if err := s.WriteEnv(dir); err != nil {
		t.Errorf("WriteEnv: %v", err)
	}
	if env, _ := ReadEnv(dir); env["zzz"] != "1" || len(env) != len(s.Names()) {
		t.Errorf("/env holds %q, want zzz=1 and the defaults", env)
	}

	// Names set directly are skipped by WriteEnv, which goes on and lists them.
	s = NewSet()
	s.Set("..", "x", FromConsole)
	s.Set("a b", "x", FromConsole)
	s.Set("a/b", "x", FromEnv)
	s.Set("zzz", "1", FromConsole)
	s.Set("sysname", "gnot", FromConsole)
	dir = t.TempDir()
	err := s.WriteEnv(dir)
	if err == nil {
		t.Fatalf("WriteEnv with bad names: no error")
	}
	for _, bad := range []string{`".."`, `"a b"`, `"a/b"`} {
		if !strings.Contains(err.Error(), bad) {
			t.Errorf("WriteEnv error %q does not name %s", err, bad)
		}
	}
	env, _ := ReadEnv(dir)
	if env["zzz"] != "1" || env["sysname"] != "gnot" || env["init"] != "/sbin/init" || len(env) != len(s.Names())-3 {
		t.Errorf("/env holds %q", env)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(env) {
		t.Errorf("/env has %d files for %d variables", len(ents), len(env))
	}
}

func TestMergeEnv(t *testing.T) {
	s, _ := Load("sysname=gnot venti=tcp!fs!564")
	s.MergeEnv(map[string]string{
		"sysname":    "gnot",      // same: stays from the command line
		"venti":      "tcp!fs!17", // changed
		"newvar":     "x",         // new
		"init":       "/sbin/init",
		"ants.tmpfs": "64m",
	})
	for _, w := range []struct{ name, value, src string }{
		{"sysname", "gnot", FromCmdline},
		{"venti", "tcp!fs!17", FromEnv},
		{"newvar", "x", FromEnv},
		{"init", "/sbin/init", FromDefault},
		{"ants.tmpfs", "64m", FromEnv},
		{"ants.onrootexit", "shell", FromDefault},
	} {
		if v, src := s.Value(w.name), s.Source(w.name); v != w.value || src != w.src {
			t.Errorf("%s = %q from %q, want %q from %q", w.name, v, src, w.value, w.src)
		}
	}
	if o := s.Offer("venti"); o != "tcp!fs!17" {
		t.Errorf("Offer(venti) = %q", o)
	}
	// MergeEnv does not check values: /env is the scripts' to write.
	s.MergeEnv(map[string]string{"venti": "not an address"})
	if s.Value("venti") != "not an address" {
		t.Errorf("venti = %q", s.Value("venti"))
	}
}

func TestCmdlineWords(t *testing.T) {
	s, errs := Load(`ro quiet sysname=gnot console=tty0 console=ttyS0,115200 ants.initargs="-s single" foo= root=/dev/vda1 zed=1 ants.escape=^A`)
	if len(errs) != 0 {
		t.Fatalf("Load:%s", errText(errs))
	}
	s.MergeEnv(map[string]string{"rw": "0", "rootwait": "yes"})
	want := []string{
		"sysname=gnot", "root=/dev/vda1", "ro", "rootwait", "console=tty0", "console=ttyS0,115200",
		"ants.escape=^A", `ants.initargs="-s single"`, "zed=1",
	}
	if got := s.CmdlineWords(); !reflect.DeepEqual(got, want) {
		t.Errorf("CmdlineWords() =\n %q\nwant\n %q", got, want)
	}
}

// roundTrip checks that the command line words of s, read into a fresh set, give s's values.
func roundTrip(t *testing.T, s *Set) {
	t.Helper()
	line := strings.Join(s.CmdlineWords(), " ")
	params, errs := ParseCmdline(line)
	fresh := NewSet()
	errs = append(errs, fresh.Apply(params, FromCmdline)...)
	if len(errs) != 0 {
		t.Errorf("reading back %q:%s", line, errText(errs))
	}
	names := map[string]bool{}
	for _, n := range append(s.Names(), fresh.Names()...) {
		names[n] = true
	}
	for n := range names {
		if a, b := s.Value(n), fresh.Value(n); a != b {
			t.Errorf("through %q: %s = %q, want %q", line, n, b, a)
		}
	}
}

func TestCmdlineWordsRoundTrip(t *testing.T) {
	for _, cmdline := range []string{
		"",
		`sysname=gnot root=/dev/vda1 ro rootwait quiet splash`,
		`ants.initargs="-s  single" ants.aname="/usr/glenda/my root" "ants.break=before mount"`,
		`console=tty0 console=ttyS0,115200n8 console=hvc0`,
		`venti=tcp!10.0.0.2!17034 ip=10.0.0.5::10.0.0.1:255.255.255.0:gnot:eth0:off interactive=yes`,
		"rootflags=\"a\tb\" foo=bar BOOT_IMAGE=/boot/vmlinuz-linux init=/bin/rc ants.onrootexit=reboot",
		`venti=ask sysname=ask ants.tmpfs=64m rootdelay=5 rw`,
		`root=LABEL=root rootfstype=ext4 x="" y=`,
	} {
		t.Run(cmdline, func(t *testing.T) {
			s, errs := Load(cmdline)
			if len(errs) != 0 {
				t.Fatalf("Load:%s", errText(errs))
			}
			roundTrip(t, s)
		})
	}

	// From a boot.conf, with the command line on top.
	dir := t.TempDir()
	conf := writeFile(t, filepath.Join(dir, "boot.conf"), "sysname=conf\nants.initargs='a b'\nrootwait\nconsole=ttyS1\nants.aname=\"x\ty\"\n")
	s, errs := Load(`sysname=cmd console=tty0 console=ttyS0`, conf)
	if len(errs) != 0 {
		t.Fatalf("Load:%s", errText(errs))
	}
	roundTrip(t, s)
}

// Values holding any byte the parser splits at, and empty values over a default
// (written NAME=""), come back.
func TestCmdlineWordsRoundTripBugs(t *testing.T) {
	for _, cmdline := range []string{"ants.initargs=\"a\rb\"", "ants.initargs=\"a\vb\fc\"", `ants.escape="" init=""`, `ants.escape= init= foo= bar=""`} {
		t.Run(cmdline, func(t *testing.T) {
			s, errs := Load(cmdline)
			if len(errs) != 0 {
				t.Fatalf("Load:%s", errText(errs))
			}
			roundTrip(t, s)
		})
	}
}
