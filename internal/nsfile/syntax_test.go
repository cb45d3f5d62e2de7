package nsfile

import (
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

var hostile = []string{
	"/plain/path",
	"/with space",
	"/with\ttab",
	"/with\nnewline",
	"/it's",
	"''",
	`/back\slash`,
	`\`,
	"/dollar$HOME",
	"/hash#x",
	"#start",
	"-looks-like-a-flag",
	"-",
	"--",
	"/non-utf8-\xff\xfe",
	"/utf8-ü-日本",
	"/ctl-\x01\x7f",
	"/c1-\u0085",
	"/carriage\rreturn",
	" ",
	"",
	`'\x41'`,
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range hostile {
		q := Quote(s)
		if strings.ContainsAny(q, "\n\t\r") {
			t.Errorf("Quote(%q) = %q holds a raw control character", s, q)
		}
		ws, rest, err := lex(q, nil)
		if err != nil || rest != "" || len(ws) != 1 || ws[0].s != s {
			t.Errorf("lex(Quote(%q) = %s) = %+v, %q, %v", s, q, ws, rest, err)
		}
		// with expansion on, a quoted $ stays literal
		ws, _, err = lex(q, func(string) string { return "EXPANDED" })
		if err != nil || len(ws) != 1 || ws[0].s != s {
			t.Errorf("lex with getenv(Quote(%q)) = %+v, %v", s, ws, err)
		}
	}
}

func TestQuoteExamples(t *testing.T) {
	for in, want := range map[string]string{
		"/bin":           "/bin",
		"/a b":           "'/a b'",
		"it's":           "'it''s'",
		"a\nb\tc":        `'a\nb\tc'`,
		`a\b`:            `'a\\b'`,
		"\xff":           `'\xff'`,
		"-x":             "'-x'",
		"":               "''",
		"rw,lowerdir=/a": "rw,lowerdir=/a",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestParseFormatRoundTrip(t *testing.T) {
	ops := []Op{
		{Cmd: "bind", Src: "/a", Dst: "/b"},
		{Cmd: "bind", Recursive: true, Before: true, Create: true, Opts: "ro,nosuid", Prop: "shared", Src: "/a", Dst: "/b"},
		{Cmd: "bind", After: true, Src: "-a", Dst: "/b c"},
		{Cmd: "mount", Type: "9p", Opts: "trans=tcp", Src: "10.0.2.100", Dst: "/n/x", Spec: "/srv/root"},
		{Cmd: "mount", Type: "tmpfs", Src: "", Dst: "/tmp"},
		{Cmd: "mount", Before: true, Type: "overlay", Opts: `lowerdir+=/a\,b`, Prop: "slave,shared", Src: "x", Dst: "/y"},
		{Cmd: "unmount", Dst: "/b"},
		{Cmd: "unmount", Lazy: true, Src: "/a", Dst: "/b"},
		{Cmd: "cd", Src: "/root"},
	}
	for _, s := range hostile {
		if s != "" {
			ops = append(ops, Op{Cmd: "bind", Src: s, Dst: s}, Op{Cmd: "mount", Type: s, Opts: s, Src: s, Dst: s, Spec: s})
		}
	}
	for _, op := range ops {
		line := Format(op)
		got, err := ParseLine(line, nil)
		if err != nil {
			t.Errorf("ParseLine(%s): %v", line, err)
			continue
		}
		got.Text = ""
		if !reflect.DeepEqual(got, op) {
			t.Errorf("round trip of %s:\n got %+v\nwant %+v", line, got, op)
		}
	}
}

func TestParse(t *testing.T) {
	text := "# a namespace\n\nbind -b /tmp/tools /bin   # tools first\nmount -t 9p -o trans=tcp 10.0.2.100 /n/x /srv/root\nunmount -l '/a b'\n  bind -rc $HOME/x ${HOME}/y\n"
	env := func(k string) string {
		if k == "HOME" {
			return "/home/me"
		}
		return ""
	}
	ops, err := Parse(text, env, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []Op{
		{Line: 3, Text: "bind -b /tmp/tools /bin   # tools first", Cmd: "bind", Before: true, Src: "/tmp/tools", Dst: "/bin"},
		{Line: 4, Text: "mount -t 9p -o trans=tcp 10.0.2.100 /n/x /srv/root", Cmd: "mount", Type: "9p", Opts: "trans=tcp", Src: "10.0.2.100", Dst: "/n/x", Spec: "/srv/root"},
		{Line: 5, Text: "unmount -l '/a b'", Cmd: "unmount", Lazy: true, Dst: "/a b"},
		{Line: 6, Text: "bind -rc $HOME/x ${HOME}/y", Cmd: "bind", Recursive: true, Create: true, Src: "/home/me/x", Dst: "/home/me/y"},
	}
	if !reflect.DeepEqual(ops, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", ops, want)
	}
	// Without getenv, $ is literal.
	ops, err = Parse("bind $a /b", nil, false)
	if err != nil || ops[0].Src != "$a" {
		t.Errorf("Parse without env: %+v %v", ops, err)
	}
	ops, err = Parse("# c\n\nbind /a /b", nil, true)
	if err != nil || len(ops) != 2 || ops[0].Comment != "c" {
		t.Errorf("keepComments: %+v %v", ops, err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"bind /a /b\nfrob /x", "line 2: frob /x: unknown operation frob"},
		{"bind /a", "line 1: bind /a: usage: bind"},
		{"bind /a /b /c", "line 1: bind /a /b /c: usage"},
		{"\n\nbind -x /a /b", "line 3: bind -x /a /b: bind: unknown flag -x"},
		{"bind 'unterminated /b", "line 1: bind 'unterminated /b: unterminated quote"},
		{`bind '\q' /b`, `unknown escape \q`},
		{`bind '\x4' /b`, `bad \x escape`},
		{"mount -t", "flag -t needs a value"},
		{"bind -a -b /a /b", "-a and -b together"},
		{"bind -p sideways /a /b", "bad propagation sideways"},
		{"unmount", "usage: unmount"},
		{"unmount -r /a", "unknown flag -r"},
		{"'bind' /a /b", "unknown operation"},
		{"bind '' /b", "empty path"},
		{"cd", "usage: cd DIR"},
	} {
		_, err := Parse(c.text, nil, false)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", c.text, err, c.want)
		}
	}
	_, err := Parse("x ${y", func(string) string { return "" }, false)
	if err == nil || !strings.Contains(err.Error(), "unterminated ${") {
		t.Errorf("unterminated ${: %v", err)
	}
}

func TestOptFlags(t *testing.T) {
	for _, c := range []struct {
		opts  string
		flags uintptr
		data  string
	}{
		{"ro", unix.MS_RDONLY, ""},
		{"ro,rw", 0, ""},
		{"nosuid,nodev,noexec,relatime", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RELATIME, ""},
		{"remount,ro", unix.MS_REMOUNT | unix.MS_RDONLY, ""},
		{"bind", unix.MS_BIND, ""},
		{"rbind", unix.MS_BIND | unix.MS_REC, ""},
		{"defaults,size=10m,mode=755", 0, "size=10m,mode=755"},
		{"noatime,nodiratime,strictatime,lazytime,sync,dirsync", unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_STRICTATIME | unix.MS_LAZYTIME | unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC, ""},
		{"trans=tcp,port=564", 0, "trans=tcp,port=564"},
	} {
		fl, data := ParseOpts(c.opts)
		if fl != c.flags || data != c.data {
			t.Errorf("ParseOpts(%q) = %#x, %q; want %#x, %q", c.opts, fl, data, c.flags, c.data)
		}
	}
	// Every flag option and its opposite.
	for name, f := range OptFlags {
		fl, data := ParseOpts(name)
		if data != "" || (f.set && fl != f.flags) || (!f.set && fl != 0) {
			t.Errorf("ParseOpts(%q) = %#x, %q", name, fl, data)
		}
	}
	for name, f := range PropFlags {
		rec := strings.HasPrefix(name, "r")
		if rec != (f&unix.MS_REC != 0) {
			t.Errorf("PropFlags[%s] = %#x: MS_REC wrong", name, f)
		}
	}
	if got := SplitOpts(JoinOpts([]string{"a,b", `c\d`, "e"})); !reflect.DeepEqual(got, []string{"a,b", `c\d`, "e"}) {
		t.Errorf("SplitOpts(JoinOpts) = %q", got)
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Quote(s)
		if strings.ContainsAny(q, "\n\r") {
			t.Fatalf("Quote(%q) = %q has a line break", s, q)
		}
		ws, rest, err := lex(q, nil)
		if err != nil || rest != "" || len(ws) != 1 || ws[0].s != s {
			t.Fatalf("lex(Quote(%q) = %s) = %+v, %q, %v", s, q, ws, rest, err)
		}
	})
}

func FuzzOpRoundTrip(f *testing.F) {
	f.Add(uint8(0), uint8(0), "/a b", "/c'd", "ro,x=\\,y", "tmpfs", "")
	f.Add(uint8(1), uint8(0xff), "-x", "\xff\n", "", "", "spec")
	f.Add(uint8(2), uint8(3), "", "/a", "", "", "")
	f.Fuzz(func(t *testing.T, cmd, fl uint8, src, dst, opts, typ, spec string) {
		op := Op{Cmd: []string{"bind", "mount", "unmount", "cd"}[cmd%4], Src: src, Dst: dst}
		switch op.Cmd {
		case "bind", "mount":
			op.Recursive = op.Cmd == "bind" && fl&1 != 0
			op.Before, op.After = fl&2 != 0, fl&2 == 0 && fl&4 != 0
			op.Create = fl&8 != 0
			op.Opts = opts
			op.Prop = []string{"", "shared", "slave", "private", "unbindable", "slave,shared"}[int(fl>>4)%6]
			if op.Cmd == "mount" {
				op.Type, op.Spec = typ, spec
			}
		case "unmount":
			op.Lazy = fl&1 != 0
		case "cd":
			op.Dst = ""
		}
		line := Format(op)
		got, err := ParseLine(line, nil)
		valid := !(op.Cmd != "cd" && op.Dst == "" || (op.Cmd == "bind" || op.Cmd == "cd") && op.Src == "")
		if !valid {
			if err == nil {
				t.Fatalf("ParseLine(%s) of an invalid op: no error", line)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseLine(%s): %v", line, err)
		}
		got.Text = ""
		if !reflect.DeepEqual(got, op) {
			t.Fatalf("round trip of %s:\n got %+v\nwant %+v", line, got, op)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add("bind -b /a /b\nmount -t tmpfs x '/y z'\n# c\nunmount -l /b")
	f.Add("bind '\\x00' $x ${y}")
	f.Fuzz(func(t *testing.T, text string) {
		ops, err := Parse(text, func(k string) string { return "v" + k }, true)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error without line number: %v", err)
			}
			return
		}
		for _, op := range ops {
			if op.Cmd == "" {
				continue
			}
			line := Format(op)
			got, err := ParseLine(line, nil)
			if err != nil {
				t.Fatalf("reparse of %s: %v", line, err)
			}
			got.Text, got.Line, op.Text, op.Line = "", 0, "", 0
			if !reflect.DeepEqual(got, op) {
				t.Fatalf("reparse of %s:\n got %+v\nwant %+v", line, got, op)
			}
		}
	})
}
