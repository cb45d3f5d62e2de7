package kmod

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const testRelease = "6.1.0-test"

// testFiles is a small depmod output: a chain a -> b -> c-dash, e needing all three, softdeps
// through an alias with two modules, globs in aliases, a built-in module.
var testFiles = map[string]string{
	"modules.dep": `kernel/a/a.ko: kernel/b/b.ko kernel/c/c-dash.ko
kernel/b/b.ko: kernel/c/c-dash.ko
kernel/c/c-dash.ko:
kernel/d/d.ko:
kernel/crc/crcx_fast.ko:
kernel/crc/crcx-generic.ko:
kernel/p/post_mod.ko:
kernel/e/e.ko: kernel/a/a.ko kernel/b/b.ko kernel/c/c-dash.ko
kernel/f/f.ko:
kernel/l/late.ko:
kernel/n/never.ko:
kernel/z/zmod.ko.zst:
`,
	"modules.alias": `# Aliases extracted from modules themselves.
alias pci:v00001234d*sv*sd*bc*sc*i* d
alias usb:v1234p[0-2]*dc* b
alias crypto-crcx crcx_fast
alias crypto-crcx crcx_generic
alias crcx crcx-generic
alias dmi*:pn*U90/U100*: d
alias virtio:d00000002v* a
alias platform:my-dev e
alias pci:v00001234d*sv*sd*bc01sc*i* d
alias acpi:FAIL* f
alias late:dev* late
alias never:* never
alias bad]pattern c_dash
alias ghost:* ghost
`,
	"modules.softdep": `# Soft dependencies extracted from modules themselves.
softdep a pre: crypto-crcx
softdep e pre: d post: post-mod
softdep e post: nothere
softdep c-dash gcm
`,
	"modules.builtin": `kernel/x/builtin-one.ko
kernel/x/builtin_two.ko
`,
}

// writeIndex writes files into a new .../lib/modules/RELEASE directory.
func writeIndex(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lib", "modules", testRelease)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func testIndex(t testing.TB) *Index {
	t.Helper()
	ix, err := LoadIndex(writeIndex(t, testFiles))
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestLoadIndexErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error; none: no error
	}{
		{"all files", testFiles, nil},
		{"only modules.dep", map[string]string{"modules.dep": "kernel/a.ko:\n"}, nil},
		{"empty modules.dep", map[string]string{"modules.dep": ""}, nil},
		{"no modules.dep", map[string]string{"modules.alias": "alias x a\n"}, []string{"modules.dep", testRelease}},
		{"dep line without colon", map[string]string{"modules.dep": "kernel/a.ko:\nkernel/b.ko kernel/a.ko\n"},
			[]string{"modules.dep", testRelease, "line 2"}},
		{"dep line without name", map[string]string{"modules.dep": ": kernel/a.ko\n"}, []string{"modules.dep", "line 1"}},
		{"bad alias line", map[string]string{"modules.dep": "kernel/a.ko:\n", "modules.alias": "alias onlyone\n"},
			[]string{"modules.alias", testRelease, "line 1"}},
		{"bad softdep line", map[string]string{"modules.dep": "kernel/a.ko:\n", "modules.softdep": "# c\nsoftdep\n"},
			[]string{"modules.softdep", testRelease, "line 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadIndex(writeIndex(t, tt.files))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("LoadIndex: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadIndex: no error, want one with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestRelease(t *testing.T) {
	if got := testIndex(t).Release(); got != testRelease {
		t.Errorf("Release() = %q, want %q", got, testRelease)
	}
}

func TestName(t *testing.T) {
	tests := []struct{ path, want string }{
		{"kernel/fs/ext4/ext4.ko", "ext4"},
		{"kernel/fs/ext4/ext4.ko.xz", "ext4"},
		{"kernel/fs/ext4/ext4.ko.zst", "ext4"},
		{"kernel/fs/ext4/ext4.ko.gz", "ext4"},
		{"kernel/arch/x86/crypto/crc32c-intel.ko", "crc32c_intel"},
		{"kernel/drivers/scsi/BusLogic.ko", "BusLogic"},
		{"ext4.ko", "ext4"},
		{"virtio-blk", "virtio_blk"},
		{"kernel/x/y.ko.bz2", "y.ko.bz2"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Name(tt.path); got != tt.want {
			t.Errorf("Name(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestPath(t *testing.T) {
	ix := testIndex(t)
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"a", "kernel/a/a.ko", true},
		{"c-dash", "kernel/c/c-dash.ko", true},
		{"c_dash", "kernel/c/c-dash.ko", true},
		{"crcx-generic", "kernel/crc/crcx-generic.ko", true},
		{"zmod", "kernel/z/zmod.ko.zst", true},
		{"builtin_one", "", false},
		{"nope", "", false},
		{"crypto-crcx", "", false}, // an alias, not a module
	}
	for _, tt := range tests {
		got, ok := ix.Path(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Path(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBuiltin(t *testing.T) {
	ix := testIndex(t)
	tests := []struct {
		name string
		want bool
	}{
		{"builtin_one", true},
		{"builtin-one", true},
		{"builtin-two", true},
		{"a", false},
		{"nope", false},
	}
	for _, tt := range tests {
		if got := ix.Builtin(tt.name); got != tt.want {
			t.Errorf("Builtin(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	ix := testIndex(t)
	tests := []struct {
		name string
		want []string
	}{
		{"a", []string{"a"}},
		{"c-dash", []string{"c_dash"}},
		{"c_dash", []string{"c_dash"}},
		{"crypto-crcx", []string{"crcx_fast", "crcx_generic"}},
		{"crypto_crcx", []string{"crcx_fast", "crcx_generic"}},
		{"crcx", []string{"crcx_generic"}},
		{"platform:my-dev", []string{"e"}},
		{"platform:my_dev", []string{"e"}},
		{"pci:v00001234d00000001sv00000000sd00000000bc01sc00i00", []string{"d"}}, // two patterns, one module
		{"builtin-one", []string{"builtin_one"}},
		{"ghost:1", []string{"ghost"}}, // aliases are taken as they are
		{"nope", nil},
		{"bad]pattern", nil}, // dropped, as depmod does
		{"", nil},
	}
	for _, tt := range tests {
		if got := ix.Resolve(tt.name); !slices.Equal(got, tt.want) {
			t.Errorf("Resolve(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestMatchAlias(t *testing.T) {
	ix := testIndex(t)
	tests := []struct {
		modalias string
		want     []string
	}{
		{"pci:v00001234d00005678sv00001234sd00000001bc01sc00i00", []string{"d"}},
		{"pci:v00001234d00005678sv00001234sd00000001bc01sc00i00\n", []string{"d"}},
		{"pci:v00005678d00001234sv00001234sd00000001bc01sc00i00", nil},
		{"usb:v1234p1ABCdc00", []string{"b"}},
		{"usb:v1234p3ABCdc00", nil},
		{"dmi:bvnLENOVO:bvrX:pnU90/U100:rvnY:", []string{"d"}}, // '*' spans '/'
		{"dmi:bvnLENOVO:pnU91/U100:", nil},
		{"virtio:d00000002v00001AF4", []string{"a"}},
		{"virtio:d00000003v00001AF4", nil},
		{"platform:my-dev", []string{"e"}},
		{"a", nil}, // a module name is no modalias
		{"", nil},
	}
	for _, tt := range tests {
		if got := ix.MatchAlias(tt.modalias); !slices.Equal(got, tt.want) {
			t.Errorf("MatchAlias(%q) = %q, want %q", tt.modalias, got, tt.want)
		}
	}
}

func TestDeps(t *testing.T) {
	ix := testIndex(t)
	tests := []struct {
		name string
		want []string
	}{
		{"a", []string{"c_dash", "b"}},
		{"b", []string{"c_dash"}},
		{"c-dash", []string{}},
		{"e", []string{"c_dash", "b", "a"}},
		{"builtin_one", nil},
		{"nope", nil},
	}
	for _, tt := range tests {
		got := ix.Deps(tt.name)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Deps(%q) = %q, want %q", tt.name, got, tt.want)
		}
		checkOrder(t, ix, got)
	}
}

// checkOrder fails unless each module comes after all its dependencies that are present.
func checkOrder(t *testing.T, ix *Index, names []string) {
	t.Helper()
	pos := map[string]int{}
	for i, n := range names {
		pos[n] = i
	}
	for i, n := range names {
		for _, d := range ix.Deps(n) {
			if j, ok := pos[d]; ok && j > i {
				t.Errorf("%s (at %d) comes before its dependency %s (at %d)", n, i, d, j)
			}
		}
	}
}

func TestClosure(t *testing.T) {
	ix := testIndex(t)
	p := func(names ...string) []string {
		var out []string
		for _, n := range names {
			path, ok := ix.Path(n)
			if !ok {
				t.Fatalf("no path for %s", n)
			}
			out = append(out, path)
		}
		return out
	}
	tests := []struct {
		names   []string
		want    []string
		wantErr []string
	}{
		{nil, nil, nil},
		{[]string{"c-dash"}, p("c_dash"), nil},
		{[]string{"b"}, p("c_dash", "b"), nil},
		{[]string{"a"}, p("crcx_fast", "crcx_generic", "c_dash", "b", "a"), nil},
		{[]string{"e"}, p("d", "c_dash", "b", "crcx_fast", "crcx_generic", "a", "e", "post_mod"), nil},
		{[]string{"b", "a", "b"}, p("c_dash", "b", "crcx_fast", "crcx_generic", "a"), nil},
		{[]string{"builtin-one", "d"}, p("d"), nil},
		{[]string{"crypto-crcx"}, p("crcx_fast", "crcx_generic"), nil},
		{[]string{"zmod"}, p("zmod"), nil},
		{[]string{"nope"}, nil, []string{"module nope not found for kernel " + testRelease}},
		{[]string{"a", "nope", "ghost:1"}, nil, []string{"module nope not found", "module ghost:1 not found"}},
	}
	for _, tt := range tests {
		got, err := ix.Closure(tt.names)
		if len(tt.wantErr) > 0 {
			if err == nil {
				t.Errorf("Closure(%q): no error, want %q", tt.names, tt.wantErr)
				continue
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Closure(%q): error %q does not contain %q", tt.names, err, w)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("Closure(%q): %v", tt.names, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Closure(%q) =\n  %q\nwant\n  %q", tt.names, got, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"", "", true},
		{"", "a", false},
		{"a", "", false},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"pci:v00001af4*", "pci:v00001AF4d", false}, // case matters
		{"*", "", true},
		{"*", "a/b", true},
		{"**", "ab", true},
		{"a*b", "a/x/b", true},
		{"a*b", "a/x/bc", false},
		{"*", ".hidden", true},
		{"*a*b*c*", "xaybzc", true},
		{"*a*b*c*", "xaybz", false},
		{"?", "", false},
		{"?", "/", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"[0-2]", "1", true},
		{"[0-2]", "3", false},
		{"[!0-2]", "3", true},
		{"[^0-2]", "1", false},
		{"[0-9A-E]", "C", true},
		{"[0-9A-E]", "F", false},
		{"[bs]", "s", true},
		{"[c-a]", "b", false},
		{"[a-]", "-", true},
		{"[-a]", "-", true},
		{"[]]", "]", true},
		{"[]a]", "a", true},
		{"[!]]", "]", false},
		{"[!]]", "a", true},
		{"[[]", "[", true},
		{"[*]", "*", true},
		{"[*]", "a", false},
		{"[\\]]", "]", true},
		{"[[:digit:]]x", "5x", true},
		{"[[:digit:]]x", "ax", false},
		{"[[:xdigit:]]", "G", false},
		{"[[:upper:][:digit:]]", "Q", true},
		{"[![:alpha:]]", "1", true},
		{"[[:bogus:]]", "b", false},
		{"[", "[", true},
		{"[abc", "[abc", true},
		{"[abc", "a", false},
		{"[]", "[]", true},
		{"[[", "[[", true}, // glibc: an unterminated set is a '[', even once it matched
		{"[[=a=]]", "a", true},
		{"[[.a.]]", "a", true},
		{"[[.ab.]]", "a", false},
		{"[.ab.]", "a", true},
		{"[[:Upper:]]", "U", false}, // no class name: a set of "[:Uper" and then "]"
		{"[[:Upper:]]", ":]", true},
		{"[*-", "[a--", false}, // a range running into the end matches nothing
		{"\\*", "*", true},
		{"\\*", "a", false},
		{"\\a", "a", true},
		{"a\\", "a\\", false},
		{"*\\", "x", false},
		{"usb:v13FDp3940d0[0-2]*dc*", "usb:v13FDp3940d0100dc00", true},
		{"usb:v13FDp3940d0[0-2]*dc*", "usb:v13FDp3940d0300dc00", false},
		{"pci:v00001AF4d*sv*sd*bc*sc*i*", "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00", true},
		{"dmi*:svn*SAMSUNG*:pn*300V3Z/300V4Z/300V5Z*:", "dmi:bvnP:svnSAMSUNGELECTRONICSCO.,LTD.:pn300V3Z/300V4Z/300V5Z:", true},
		{"virtio:d00000002v*", "virtio:d00000002v00001AF4", true},
		{"virtio:d00000002v*", "virtio:d00000012v00001AF4", false},
	}
	for _, tt := range tests {
		if got := match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestNormalizeAlias(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"platform:leds-gpio", "platform:leds_gpio", true},
		{"usb:v1234p[0-2]*-x", "usb:v1234p[0-2]*_x", true},
		{"a[x-]b-c", "a[x-]b_c", true},
		{"plain", "plain", true},
		{"bad]", "bad]", false},
		{"bad[", "bad[", false},
	}
	for _, tt := range tests {
		got, ok := normalizeAlias(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("normalizeAlias(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// realIndex is the Debian kernel the image is built from, if it has been unpacked.
const realIndex = "../../build/kernel/lib/modules/6.1.0-56-amd64"

func TestRealIndex(t *testing.T) {
	if _, err := os.Stat(filepath.Join(realIndex, "modules.dep")); err != nil {
		t.Skipf("no unpacked Debian kernel at %s: %v", realIndex, err)
	}
	ix, err := LoadIndex(realIndex)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Release() != "6.1.0-56-amd64" {
		t.Errorf("Release() = %q", ix.Release())
	}
	paths, err := ix.Closure([]string{"ext4", "9p", "9pnet_fd", "virtio_blk", "virtio_pci"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("closure: %q", paths)
	pos := map[string]int{}
	for i, p := range paths {
		if _, dup := pos[p]; dup {
			t.Errorf("%s twice in the closure", p)
		}
		pos[p] = i
	}
	for _, want := range []string{
		"kernel/fs/ext4/ext4.ko",
		"kernel/fs/jbd2/jbd2.ko",
		"kernel/fs/mbcache.ko",
		"kernel/crypto/crc32c_generic.ko",
		"kernel/net/9p/9pnet.ko",
		"kernel/net/9p/9pnet_fd.ko",
		"kernel/fs/9p/9p.ko",
		"kernel/drivers/block/virtio_blk.ko",
		"kernel/drivers/virtio/virtio_pci.ko",
		"kernel/drivers/virtio/virtio.ko",
		"kernel/drivers/virtio/virtio_ring.ko",
	} {
		if _, ok := pos[want]; !ok {
			t.Errorf("closure lacks %s", want)
		}
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = Name(p)
	}
	checkOrder(t, ix, names)
	// ext4 and jbd2 have "pre: crypto-crc32c": a crc32c before them.
	before := func(a, b string) {
		t.Helper()
		if pa, pb := pos[a], pos[b]; pa >= pb {
			t.Errorf("%s (at %d) not before %s (at %d)", a, pa, b, pb)
		}
	}
	before("kernel/crypto/crc32c_generic.ko", "kernel/fs/jbd2/jbd2.ko")
	before("kernel/fs/jbd2/jbd2.ko", "kernel/fs/ext4/ext4.ko")
	before("kernel/fs/mbcache.ko", "kernel/fs/ext4/ext4.ko")
	before("kernel/net/9p/9pnet.ko", "kernel/fs/9p/9p.ko")
	before("kernel/net/9p/9pnet.ko", "kernel/net/9p/9pnet_fd.ko")

	if got := ix.MatchAlias("virtio:d00000002v00001AF4"); !slices.Equal(got, []string{"virtio_blk"}) {
		t.Errorf("MatchAlias(virtio block) = %q, want [virtio_blk]", got)
	}
	if got := ix.MatchAlias("pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00"); !slices.Contains(got, "virtio_pci") {
		t.Errorf("MatchAlias(virtio PCI block) = %q, want virtio_pci among them", got)
	}
	if got := ix.Resolve("crypto-crc32c"); !slices.Contains(got, "crc32c_generic") {
		t.Errorf("Resolve(crypto-crc32c) = %q, want crc32c_generic among them", got)
	}
	// A DMI alias with '/' in it, matched by a modalias with '/' in it.
	if got := ix.MatchAlias("dmi:bvnAmerican:bvr1:bd10/22/2015:svnX:pnY:rvnAMICorporation:rnAptioCRB:"); len(got) == 0 {
		t.Errorf("MatchAlias(DMI with /) matched nothing")
	}
}

func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"pci:v00001AF4d*sv*sd*bc*sc*i*", "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00"},
		{"usb:v13FDp3940d0[0-2]*dc*", "usb:v13FDp3940d0100dc00"},
		{"[!]]", "]"}, {"[[:digit:]", "1"}, {"[a-\\", "a"}, {"\\", ""}, {"*[", "x["}, {"[\\", "\\"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		got := match(pattern, name)
		prefix := literalPrefix(pattern)
		if prefix == pattern && got != (pattern == name) {
			t.Errorf("match(%q, %q) = %v for a literal pattern", pattern, name, got)
		}
		// MatchAlias skips patterns whose literal prefix the string lacks.
		if got && !strings.HasPrefix(name, prefix) {
			t.Errorf("match(%q, %q) but %q lacks the prefix %q", pattern, name, name, prefix)
		}
		if !match("*", name) || !match(strings.Repeat("?", len(name)), name) {
			t.Errorf("* or ?... do not match %q", name)
		}
	})
}

func FuzzParseDep(f *testing.F) {
	f.Add([]byte(testFiles["modules.dep"]))
	f.Add([]byte("a.ko: b.ko\nb.ko: a.ko\n"))
	f.Add([]byte("x/y.ko: y.ko\n\n# c\n:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix := newIndex("/lib/modules/6.1.0-fuzz")
		if err := ix.parseDep(data); err != nil {
			return
		}
		for name := range ix.paths {
			deps := ix.Deps(name)
			seen := map[string]bool{}
			for _, d := range deps {
				if d == name || seen[d] {
					t.Errorf("Deps(%q) = %q: has itself or a duplicate", name, deps)
				}
				seen[d] = true
				if _, ok := ix.paths[d]; !ok {
					t.Errorf("Deps(%q) has %q, which has no path", name, d)
				}
			}
			paths, err := ix.Closure([]string{name})
			if err != nil {
				t.Errorf("Closure(%q): %v", name, err)
			}
			if len(paths) != len(deps)+1 {
				t.Errorf("Closure(%q) = %q, deps %q", name, paths, deps)
			}
		}
	})
}
