package bootvar

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// kv, bare: short Param constructors for the tables.
func kv(k, v string) Param { return Param{Key: k, Value: v, HasValue: true} }
func bare(k string) Param  { return Param{Key: k} }

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		line string
		want []Param
	}{
		{"", nil},
		{"   \t\n ", nil},
		{"ro", []Param{bare("ro")}},
		{"ro quiet root=/dev/vda1", []Param{bare("ro"), bare("quiet"), kv("root", "/dev/vda1")}},
		{"  leading   and\ttrailing  ", []Param{bare("leading"), bare("and"), bare("trailing")}},
		// Tabs, newlines, carriage returns, vertical tabs and form feeds separate words.
		{"a\tb\nc\r\nd\re", []Param{bare("a"), bare("b"), bare("c"), bare("d"), bare("e")}},
		{"a\vb\fc \v\f d=\"x\vy\fz\"", []Param{bare("a"), bare("b"), bare("c"), kv("d", "x\vy\fz")}},
		{"sysname=gnot\n", []Param{kv("sysname", "gnot")}},
		// Values.
		{"a=b=c", []Param{kv("a", "b=c")}},
		{"a=", []Param{kv("a", "")}},
		{"console=ttyS0,115200n8", []Param{kv("console", "ttyS0,115200n8")}},
		{"root=LABEL=root", []Param{kv("root", "LABEL=root")}},
		// Quotes group words and are dropped.
		{`key="a b"`, []Param{kv("key", "a b")}},
		{`"key=a b"`, []Param{kv("key", "a b")}},
		{`a=""`, []Param{kv("a", "")}},
		{`ants.initargs="-s  single" ro`, []Param{kv("ants.initargs", "-s  single"), bare("ro")}},
		{"a=\"x\ty\nz\"", []Param{kv("a", "x\ty\nz")}},
		{`x="a"b"c d"`, []Param{kv("x", "abc d")}},
		{`"ro"`, []Param{bare("ro")}},
		{`a="" b`, []Param{kv("a", ""), bare("b")}},
		// Names: letters, digits, '_', '.', '-'; bytes from 0x80 up are kept as they are.
		{"a_b.c-d=1 A9=2 9a=3 _=4 a.=5 \xc3\xa9t\xc3\xa9=6", []Param{kv("a_b.c-d", "1"), kv("A9", "2"), kv("9a", "3"), kv("_", "4"), kv("a.", "5"), kv("\xc3\xa9t\xc3\xa9", "6")}},
		// "--" ends the kernel's words; the rest is for init.
		{"root=/dev/vda1 -- single -s", []Param{kv("root", "/dev/vda1")}},
		{"-- ro", nil},
		{"ro --", []Param{bare("ro")}},
		{`ro "--" rw`, []Param{bare("ro")}},
		{"ro\t--\nrw", []Param{bare("ro")}},
		{`a="x -- y" b`, []Param{kv("a", "x -- y"), bare("b")}},
	}
	for _, tt := range tests {
		got, errs := ParseCmdline(tt.line)
		if len(errs) != 0 {
			t.Errorf("ParseCmdline(%q): unexpected errors:%s", tt.line, errText(errs))
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCmdline(%q) = %#v, want %#v", tt.line, got, tt.want)
		}
	}
}

func TestParseCmdlineErrors(t *testing.T) {
	tests := []struct {
		line string
		want []Param
		errs []string // one substring per wanted error, in order
	}{
		{"=x", nil, []string{`"=x" has no name before '='`}},
		{"=", nil, []string{`"=" has no name before '='`}},
		{"ro =x quiet", []Param{bare("ro"), bare("quiet")}, []string{`"=x"`}},
		{"=a =b", nil, []string{`"=a"`, `"=b"`}},
		{`""`, nil, []string{`""`}},
		{`"=a b"`, nil, []string{`"=a b" has no name`}},
		{"a/b=1 c", []Param{bare("c")}, []string{`"a/b=1": a name cannot hold '/'`}},
		{"/x", nil, []string{`"/x"`}},
		{"a\x00b=1", nil, []string{"cannot hold"}},
		{"a=/dev/vda1", []Param{kv("a", "/dev/vda1")}, nil}, // '/' in a value is fine
		// Names are letters, digits, '_', '.', '-', and do not start with '.' or '-'.
		{`"a b"=c`, nil, []string{`"a b=c": a name cannot hold ' '`}},
		{`"a b=1" c`, []Param{bare("c")}, []string{`"a b=1": a name cannot hold ' '`}},
		{".=x ..=y zzz=1", []Param{kv("zzz", "1")}, []string{`".=x": a name cannot start with '.'; ignored`, `"..=y": a name cannot start with '.'; ignored`}},
		{".x=1 .. .", nil, []string{`".x=1": a name cannot start with '.'`, `"..": a name`, `".": a name`}},
		{"-x=1 a=1", []Param{kv("a", "1")}, []string{`"-x=1": a name cannot start with '-'`}},
		{"--x a=-- ---", []Param{kv("a", "--")}, []string{`"--x": a name cannot start with '-'`, `"---": a name cannot start with '-'`}}, // not "--"
		{"a:b=1 a$=2 a\\b c*", nil, []string{`"a:b=1": a name cannot hold ':'`, `"a$=2": a name cannot hold '$'`, `"a\\b": a name cannot hold '\\'`, `"c*": a name cannot hold '*'`}},
		{`'x'=2 a,b=1`, nil, []string{`"'x'=2": a name cannot hold '\''`, `"a,b=1": a name cannot hold ','`}},
		// An unbalanced quote reads to the end of the line.
		{`a="b c`, []Param{kv("a", "b c")}, []string{"a double quote is not closed"}},
		{`ro a="b c -- d`, []Param{bare("ro"), kv("a", "b c -- d")}, []string{"not closed"}},
		{`"`, nil, []string{"not closed", `"" has no name`}},
		{`a="b" "`, []Param{kv("a", "b")}, []string{"not closed", `"" has no name`}},
		{`"=x`, nil, []string{"not closed", `"=x" has no name`}},
	}
	for _, tt := range tests {
		got, errs := ParseCmdline(tt.line)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCmdline(%q) = %#v, want %#v", tt.line, got, tt.want)
		}
		if len(errs) != len(tt.errs) {
			t.Errorf("ParseCmdline(%q): %d errors, want %d:%s", tt.line, len(errs), len(tt.errs), errText(errs))
			continue
		}
		for i, e := range errs {
			if !strings.Contains(e.Error(), tt.errs[i]) {
				t.Errorf("ParseCmdline(%q): error %q, want it to say %q", tt.line, e, tt.errs[i])
			}
			if !strings.HasPrefix(e.Error(), "kernel command line: ") {
				t.Errorf("ParseCmdline(%q): error %q does not say where it is", tt.line, e)
			}
		}
	}
}

// The kernel's next_arg separates words at isspace(), which holds '\v' and '\f' too.
func TestParseCmdlineVerticalTabFormFeed(t *testing.T) {
	for _, line := range []string{"ro\vquiet", "ro\fquiet"} {
		got, errs := ParseCmdline(line)
		want := []Param{bare("ro"), bare("quiet")}
		if len(errs) != 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseCmdline(%q) = %#v, %v; want %#v", line, got, errs, want)
		}
	}
}

// The kernel hands the command line over as bytes; ParseCmdline should too.
func TestParseCmdlineNotUTF8(t *testing.T) {
	line := "root=LABEL=\xe9t\xe9 a\xff=1"
	want := []Param{kv("root", "LABEL=\xe9t\xe9"), kv("a\xff", "1")}
	got, errs := ParseCmdline(line)
	if len(errs) != 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseCmdline(%q) = %#v, %v; want %#v", line, got, errs, want)
	}
}

func TestParamWord(t *testing.T) {
	tests := []struct {
		p    Param
		want string
	}{
		{bare("ro"), "ro"},
		{Param{Key: "ro", Value: "ignored"}, "ro"},
		{kv("a", "b"), "a=b"},
		{kv("a", ""), `a=""`},
		{kv("a", "b c"), `a="b c"`},
		{kv("a", "b\tc"), "a=\"b\tc\""},
		{kv("a", "b\nc"), "a=\"b\nc\""},
		{kv("root", "LABEL=root"), "root=LABEL=root"},
		{kv("venti", "tcp!fs!564"), "venti=tcp!fs!564"},
	}
	for _, tt := range tests {
		if got := tt.p.Word(); got != tt.want {
			t.Errorf("%#v.Word() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// Word gives back a word that ParseCmdline reads as the same Param.
func TestParamWordRoundTrip(t *testing.T) {
	for _, p := range []Param{
		bare("ro"), bare("rootwait"), kv("a", ""), kv("a", "b"), kv("a", "b c"),
		kv("a", " lead and trail "), kv("a", "x\ty\nz"), kv("a", "b=c d"),
		kv("console", "ttyS0,115200n8"), kv("a", "--"), kv("ants.initargs", "-s -- x"),
	} {
		got, errs := ParseCmdline(p.Word())
		if len(errs) != 0 || len(got) != 1 || got[0] != p {
			t.Errorf("ParseCmdline(%q) = %#v, %v; want %#v", p.Word(), got, errs, p)
		}
	}
}

// Word quotes a value holding any byte ParseCmdline splits at.
func TestParamWordCarriageReturn(t *testing.T) {
	for _, v := range []string{"b\rc", "b\vc", "b\fc", "\r", "\v", "\f", " \t\n\v\f\r"} {
		p := kv("a", v)
		got, errs := ParseCmdline(p.Word())
		if len(errs) != 0 || len(got) != 1 || got[0] != p {
			t.Errorf("ParseCmdline(%q) = %#v, %v; want %#v", p.Word(), got, errs, p)
		}
	}
}

func TestParseConf(t *testing.T) {
	const conf = `# boot.conf for gnot
sysname=gnot

   # an indented comment
	
export venti=tcp!10.0.0.2!17034
root="/dev/vda1"
ants.initargs='-s single'
ro
export rootwait
rootflags = "noatime,nodiratime"
   ants.aname=/usr/glenda   
empty=
quoted=""
squoted=''
a=b=c
inline=x # not a comment
inner="say 'hi'"
spaced="  keep  "
console=ttyS0,115200
console=tty0
export  ants.break=mount
`
	want := []Param{
		kv("sysname", "gnot"),
		kv("venti", "tcp!10.0.0.2!17034"),
		kv("root", "/dev/vda1"),
		kv("ants.initargs", "-s single"),
		bare("ro"),
		bare("rootwait"),
		kv("rootflags", "noatime,nodiratime"),
		kv("ants.aname", "/usr/glenda"),
		kv("empty", ""),
		kv("quoted", ""),
		kv("squoted", ""),
		kv("a", "b=c"),
		kv("inline", "x # not a comment"),
		kv("inner", "say 'hi'"),
		kv("spaced", "  keep  "),
		kv("console", "ttyS0,115200"),
		kv("console", "tty0"),
		kv("ants.break", "mount"),
	}
	got, errs := ParseConf(strings.NewReader(conf), "boot.conf")
	if len(errs) != 0 {
		t.Errorf("ParseConf: unexpected errors:%s", errText(errs))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseConf:\n got %#v\nwant %#v", got, want)
	}
}

func TestParseConfSmall(t *testing.T) {
	tests := []struct {
		text string
		want []Param
	}{
		{"", nil},
		{"\n\n\n", nil},
		{"# only a comment", nil},
		{"#sysname=x", nil},
		{"a=b", []Param{kv("a", "b")}}, // no final newline
		{"a=b\r\nc=d\r\n", []Param{kv("a", "b"), kv("c", "d")}}, // CRLF
		{"ro\nrw\nrootwait", []Param{bare("ro"), bare("rw"), bare("rootwait")}},
		{"ro=1", []Param{kv("ro", "1")}},
		{"a=\"x\"y\"", []Param{kv("a", `x"y`)}},
		{"a='x\"'", []Param{kv("a", `x"`)}},
		{"a=x\"", []Param{kv("a", `x"`)}}, // only a leading quote opens one
		{"a\t=\tb", []Param{kv("a", "b")}},
		{"a=" + strings.Repeat("v", 100000), []Param{kv("a", strings.Repeat("v", 100000))}},
	}
	for _, tt := range tests {
		got, errs := ParseConf(strings.NewReader(tt.text), "f")
		if len(errs) != 0 {
			t.Errorf("ParseConf(%q): unexpected errors:%s", tt.text, errText(errs))
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseConf(%q) = %#v, want %#v", tt.text, got, tt.want)
		}
	}
}

func TestParseConfErrors(t *testing.T) {
	tests := []struct {
		text string
		want []Param
		errs []string // substrings of each error, in order
	}{
		{"quiet", nil, []string{`boot.conf:1: "quiet" is not NAME=VALUE`}},
		{"sysname=a\nquiet\nro", []Param{kv("sysname", "a"), bare("ro")}, []string{`boot.conf:2: "quiet"`}},
		{"# c\n\nsplash", nil, []string{`boot.conf:3: "splash" is not NAME=VALUE`}},
		{"root", nil, []string{`boot.conf:1: "root" is not NAME=VALUE`}}, // a Value variable is not a flag
		{"export", nil, []string{`boot.conf:1: "export" is not NAME=VALUE`}},
		{"=x", nil, []string{`boot.conf:1: "=x" has no name before '='`}},
		{"  = x", nil, []string{`boot.conf:1: "= x" has no name`}},
		{"export =x", nil, []string{`boot.conf:1: "=x" has no name`}},
		{"a b=c", nil, []string{`boot.conf:1: "a b=c" is not NAME=VALUE`}},
		{"a\tb=c", nil, []string{`is not NAME=VALUE`}},
		{"a/b=c", nil, []string{`boot.conf:1: "a/b=c" is not NAME=VALUE`}},
		{".=x", nil, []string{`boot.conf:1: ".=x" is not NAME=VALUE: a name cannot start with '.'; ignored`}},
		{"..=x", nil, []string{`boot.conf:1: "..=x" is not NAME=VALUE: a name cannot start with '.'`}},
		{".x=1", nil, []string{`boot.conf:1: ".x=1" is not NAME=VALUE`}},
		{"-x=1", nil, []string{`boot.conf:1: "-x=1" is not NAME=VALUE: a name cannot start with '-'`}},
		{"a\x00b=1", nil, []string{`boot.conf:1: "a\x00b=1" is not NAME=VALUE: a name cannot hold '\x00'`}},
		{"a\vb=1", nil, []string{`a name cannot hold '\v'`}},
		{"a:b=1", nil, []string{`a name cannot hold ':'`}},
		{"export .. = 1", nil, []string{`boot.conf:1: ".. = 1" is not NAME=VALUE`}},
		{`"a"=c`, nil, []string{`is not NAME=VALUE`}},
		{`'a'=c`, nil, []string{`is not NAME=VALUE`}},
		{"sysname gnot", nil, []string{`"sysname gnot" is not NAME=VALUE`}},
		{`a="b`, nil, []string{`boot.conf:1: the quote in "a=\"b" is not closed`}},
		{`a='b`, nil, []string{`boot.conf:1: the quote in "a='b" is not closed`}},
		{`a="b'`, nil, []string{`is not closed`}},
		{`a='b"`, nil, []string{`is not closed`}},
		{"a=1\nb=\"x\nc=3", []Param{kv("a", "1"), kv("c", "3")}, []string{`boot.conf:2: the quote in "b=\"x" is not closed`}},
		{"x\ny\nz=1\n=w", []Param{kv("z", "1")}, []string{"boot.conf:1:", "boot.conf:2:", "boot.conf:4:"}},
		// A line longer than the scanner's 1MB buffer stops the reading.
		{"a=1\nb=" + strings.Repeat("v", 2<<20) + "\nc=3", []Param{kv("a", "1")}, []string{"boot.conf:2: bufio.Scanner: token too long"}},
	}
	for _, tt := range tests {
		got, errs := ParseConf(strings.NewReader(tt.text), "boot.conf")
		short := tt.text
		if len(short) > 40 {
			short = short[:40] + "..."
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseConf(%q) = %#v, want %#v", short, got, tt.want)
		}
		if len(errs) != len(tt.errs) {
			t.Errorf("ParseConf(%q): %d errors, want %d:%s", short, len(errs), len(tt.errs), errText(errs))
			continue
		}
		for i, e := range errs {
			if !strings.Contains(e.Error(), tt.errs[i]) {
				t.Errorf("ParseConf(%q): error %q, want it to say %q", short, e, tt.errs[i])
			}
			if !strings.HasPrefix(e.Error(), "boot.conf:") {
				t.Errorf("ParseConf(%q): error %q does not start with file:line", short, e)
			}
		}
	}
}

func TestParseConfLoneQuote(t *testing.T) {
	for _, text := range []string{`a="`, `a='`, `a = "`, "a=\"  ", "a='\r\n"} {
		got, errs := ParseConf(strings.NewReader(text), "boot.conf")
		if len(got) != 0 || findErr(errs, "boot.conf:1:", "not closed") == nil {
			t.Errorf("ParseConf(%q) = %#v, %v; want no params and an unclosed-quote error", text, got, errs)
		}
	}
}

const asciiSpace = " \t\n\v\f\r"

func FuzzParseCmdline(f *testing.F) {
	for _, s := range []string{
		"", "ro quiet", `root=/dev/vda1 ants.initargs="-s single" -- init args`,
		`"key=a b"`, "=x", `a="b`, "a\tb\nc\r", "console=tty0 console=ttyS0,115200",
		"a/b=1", "--", `"--"`, `x="a"b"c d"`, "ro\vquiet",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		params, errs := ParseCmdline(line)
		for _, p := range params {
			if p.Key == "" || strings.ContainsAny(p.Key, "=/\x00") || checkName(p.Key) != nil {
				t.Fatalf("ParseCmdline(%q): bad key %q", line, p.Key)
			}
			if !strings.Contains(line, `"`) && (!strings.Contains(line, p.Key) || !strings.Contains(line, p.Value)) {
				t.Fatalf("ParseCmdline(%q): %#v is not from the line's bytes", line, p)
			}
			if !p.HasValue && p.Value != "" {
				t.Fatalf("ParseCmdline(%q): bare word %q with value %q", line, p.Key, p.Value)
			}
		}
		for _, e := range errs {
			if !strings.HasPrefix(e.Error(), "kernel command line: ") {
				t.Fatalf("ParseCmdline(%q): error %q does not say where it is", line, e)
			}
		}
		if strings.Contains(line, `"`) || strings.Contains(line, "--") {
			return
		}
		// No quotes: every word is a parameter or an error, and none holds white space.
		if n := len(strings.FieldsFunc(line, func(r rune) bool { return strings.ContainsRune(asciiSpace, r) })); len(params)+len(errs) != n {
			t.Fatalf("ParseCmdline(%q): %d params and %d errors from %d words", line, len(params), len(errs), n)
		}
		for _, p := range params {
			if strings.ContainsAny(p.Key, asciiSpace) || strings.ContainsAny(p.Value, asciiSpace) {
				t.Fatalf("ParseCmdline(%q): white space in %#v", line, p)
			}
			// And the word comes back as itself.
			got, errs := ParseCmdline(p.Word())
			if len(errs) != 0 || len(got) != 1 || got[0] != p {
				t.Fatalf("ParseCmdline(%q): %#v.Word() = %q reads back as %#v, %v", line, p, p.Word(), got, errs)
			}
		}
	})
}

func FuzzParseConf(f *testing.F) {
	for _, s := range []string{
		"", "# comment\n\nsysname=gnot\nro\n", "export venti=tcp!fs!564", `root="/dev/vda1"`,
		"a='b c'", "quiet", "=x", `a="b`, `a="`, "a b=c", "a=b\r\n", "export  x = 'y'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		params, errs := ParseConf(strings.NewReader(text), "boot.conf")
		lines := strings.Count(text, "\n") + 1
		if len(params)+len(errs) > lines {
			t.Fatalf("ParseConf(%q): %d params and %d errors from %d lines", text, len(params), len(errs), lines)
		}
		for _, e := range errs {
			msg := e.Error()
			rest, ok := strings.CutPrefix(msg, "boot.conf:")
			num, _, _ := strings.Cut(rest, ":")
			if n, err := strconv.Atoi(num); !ok || err != nil || n < 1 || n > lines+1 {
				t.Fatalf("ParseConf(%q): error %q does not start with boot.conf:LINE:", text, msg)
			}
		}
		for _, p := range params {
			if p.Key == "" || p.Key != strings.TrimSpace(p.Key) || strings.ContainsAny(p.Key, " \t\n/\"'=") || checkName(p.Key) != nil {
				t.Fatalf("ParseConf(%q): bad key %q", text, p.Key)
			}
			if !p.HasValue {
				if k, ok := Lookup(p.Key); !ok || k.Kind != Flag || p.Value != "" {
					t.Fatalf("ParseConf(%q): bare word %#v is not a flag", text, p)
				}
			}
			if strings.Contains(p.Value, "\n") {
				t.Fatalf("ParseConf(%q): newline in the value of %#v", text, p)
			}
		}
		// Whatever is read can be applied.
		s := NewSet()
		s.Apply(params, "boot.conf")
	})
}
