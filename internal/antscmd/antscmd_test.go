package antscmd

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ants/ants/internal/bootvar"
)

// paths are one test's own Paths, in a temp dir (root). Without a record of the
// variables (Record is never written unless a test does), the commands read
// the command line and boot.conf again, as before PID 1 wrote one.
type paths struct {
	Paths
	root string
}

func setup(t *testing.T) *paths {
	t.Helper()
	root := t.TempDir()
	p := &paths{root: root, Paths: Paths{
		EnvDir:     filepath.Join(root, "env"),
		Record:     filepath.Join(root, "run", "vars.json"),
		BootConf:   filepath.Join(root, "cfg", "boot.conf"),
		CfgDir:     filepath.Join(root, "cfg"),
		ScriptDir:  filepath.Join(root, "lib", "boot"),
		BootLog:    filepath.Join(root, "boot.log"),
		Cmdline:    filepath.Join(root, "cmdline"),
		Shell:      filepath.Join(root, "no-shell"),
		AskedAll:   filepath.Join(root, "asked-interactive"),
		ModulesDir: filepath.Join(root, "lib", "modules"),
		Sysfs:      filepath.Join(root, "sys"),
		ResolvConf: filepath.Join(root, "resolv.conf"),
	}}
	for _, d := range []string{p.EnvDir, p.CfgDir, p.ScriptDir, p.ModulesDir, p.Sysfs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, p.Cmdline, "console=ttyS0 quiet\n")
	return p
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// setVars writes variables into /env.
func (p *paths) setVars(t *testing.T, vars map[string]string) {
	t.Helper()
	for k, v := range vars {
		if err := bootvar.WriteVar(p.EnvDir, k, v); err != nil {
			t.Fatal(err)
		}
	}
}

// envVars is /env as a map.
func (p *paths) envVars(t *testing.T) map[string]string {
	t.Helper()
	m, err := bootvar.ReadEnv(p.EnvDir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// run runs Main and returns its status, stdout and stderr.
func (p *paths) run(args []string, stdin string) (int, string, string) {
	var out, errb strings.Builder
	rc := p.Main(args, strings.NewReader(stdin), &out, &errb)
	return rc, out.String(), errb.String()
}

// runBoot runs `ants boot` with /dev/null for stdin. As in PID 1, stdin is an
// *os.File: the shell interpreter copies any other reader into a pipe from a
// goroutine of its own, one per script, all reading the same reader.
func (p *paths) runBoot(t *testing.T) (int, string, string) {
	t.Helper()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	var out, errb strings.Builder
	rc := p.Main([]string{"boot"}, null, &out, &errb)
	return rc, out.String(), errb.String()
}

func TestMainUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		rc      int
		stdout  string // holds
		stderr  string // holds
		noUsage bool   // stderr must not hold the usage
	}{
		{"no args", nil, 2, "", "usage:\n  ants env [-l | -v]", false},
		{"unknown", []string{"frob"}, 2, "", "ants: unknown command \"frob\"\nusage:\n", false},
		{"unknown flag", []string{"-x"}, 2, "", "ants: unknown command \"-x\"\nusage:\n", false},
		{"help", []string{"help"}, 0, "usage:\n  ants env [-l | -v]", "", true},
		{"-h", []string{"-h"}, 0, "usage:", "", true},
		{"--help", []string{"--help"}, 0, "  ants boot ", "", true},
		{"env bad argument", []string{"env", "-x"}, 1, "", "ants env: unknown argument \"-x\"; usage: ants env [-l | -v]\n", true},
		{"conf no file", []string{"conf"}, 1, "", "ants conf: usage: ants conf FILE\n", true},
		{"conf two files", []string{"conf", "a", "b"}, 1, "", "ants conf: usage: ants conf FILE\n", true},
		{"conf missing file", []string{"conf", "/nonexistent-ants-test/boot.conf"}, 1, "", "ants conf: open /nonexistent-ants-test/boot.conf: no such file or directory\n", true},
		{"modprobe no names", []string{"modprobe"}, 1, "", "ants modprobe: usage: ants modprobe NAME ...\n", true},
		{"coldplug bad argument", []string{"coldplug", "-x"}, 1, "", "ants coldplug: usage: ants coldplug [-v]\n", true},
		{"coldplug two arguments", []string{"coldplug", "-v", "-v"}, 1, "", "ants coldplug: usage: ants coldplug [-v]\n", true},
		// ModulesDir is an empty temp dir: nothing can be loaded, and the message
		// says why.
		{"modprobe no modules", []string{"modprobe", "loop"}, 1, "", "no modules for the running kernel", true},
		{"coldplug no modules", []string{"coldplug"}, 1, "", "no modules for the running kernel", true},
		{"ask bad name", []string{"ask", "a/b"}, 1, "", "ants ask: \"a/b\" is not a variable name\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := setup(t)
			rc, out, errs := p.run(tt.args, "")
			if rc != tt.rc {
				t.Errorf("Main(%q) = %d, want %d; stderr %q", tt.args, rc, tt.rc, errs)
			}
			if !strings.Contains(out, tt.stdout) || (tt.stdout == "" && out != "") {
				t.Errorf("stdout %q, want it to hold %q", out, tt.stdout)
			}
			if !strings.Contains(errs, tt.stderr) || (tt.stderr == "" && errs != "") {
				t.Errorf("stderr %q, want it to hold %q", errs, tt.stderr)
			}
			if tt.noUsage && strings.Contains(errs, "usage:\n") {
				t.Errorf("stderr %q holds the usage", errs)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		vars  map[string]string
		files map[string]string // written as they are, names WriteVar refuses
		want  []string          // the words
	}{
		{"empty", nil, nil, nil},
		{"defaults left out", map[string]string{"init": "/sbin/init", "ants.tmpfs": "50%", "ants.onrootexit": "shell", "ants.escape": "^]"}, nil, nil},
		{"a changed default", map[string]string{"init": "/bin/sh", "ants.tmpfs": "25%"}, nil, []string{"init=/bin/sh", "ants.tmpfs=25%"}},
		{"an emptied default", map[string]string{"init": ""}, nil, []string{`init=""`}},
		{"flags bare", map[string]string{"ro": "1", "rootwait": "1", "rw": "0"}, nil, []string{"ro", "rootwait"}},
		{"empty value left out", map[string]string{"root": "", "foo": ""}, nil, nil},
		{"table order then sorted", map[string]string{
			"zeta": "1", "ants.break": "20-net", "sysname": "tp", "venti": "tcp!a!1", "alpha": "a b",
			"ro": "1", "init": "/sbin/init", "ants.onrootexit": "reboot",
		}, nil, []string{"sysname=tp", "ro", "venti=tcp!a!1", "ants.break=20-net", "ants.onrootexit=reboot", `alpha="a b"`, "zeta=1"}},
		{"consoles one word each", map[string]string{"console": "ttyS0,115200 tty0"}, nil, []string{"console=ttyS0,115200", "console=tty0"}},
		{"ask kept", map[string]string{"venti": "ask"}, nil, []string{"venti=ask"}},
		{"bad names left out", map[string]string{"sysname": "tp"}, map[string]string{"bad name": "x", "-x": "y", ".hidden": "z"}, []string{"sysname=tp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := setup(t)
			p.setVars(t, tt.vars)
			for k, v := range tt.files {
				write(t, filepath.Join(p.EnvDir, k), v+"\n")
			}
			rc, out, errs := p.run([]string{"env"}, "")
			if rc != 0 || errs != "" {
				t.Fatalf("ants env = %d, stderr %q", rc, errs)
			}
			if want := strings.Join(tt.want, " ") + "\n"; out != want {
				t.Errorf("ants env printed %q, want %q", out, want)
			}
			rc, out, errs = p.run([]string{"env", "-l"}, "")
			if rc != 0 || errs != "" {
				t.Fatalf("ants env -l = %d, stderr %q", rc, errs)
			}
			want := ""
			for _, w := range tt.want {
				want += w + "\n"
			}
			if out != want {
				t.Errorf("ants env -l printed %q, want %q", out, want)
			}
			// What env prints parses back to the same variables.
			params, perrs := bootvar.ParseCmdline(strings.Join(tt.want, " "))
			if len(perrs) != 0 || len(params) != len(tt.want) {
				t.Errorf("ParseCmdline(env) = %v, %v", params, perrs)
			}
		})
	}
}

func TestEnvMissingDir(t *testing.T) {
	t.Parallel()
	p := setup(t)
	p.EnvDir = filepath.Join(t.TempDir(), "missing")
	rc, out, errs := p.run([]string{"env"}, "")
	if rc != 1 || out != "" || !strings.HasPrefix(errs, "ants env: reading "+p.EnvDir+": ") {
		t.Errorf("ants env with no /env = %d, %q, %q", rc, out, errs)
	}
}

func TestAsk(t *testing.T) {
	t.Parallel()
	const help = "(Enter keeps the value in brackets; 'clear' empties it; 'sh' opens a shell)\n"
	tests := []struct {
		name    string
		cmdline string
		conf    string            // boot.conf
		host    string            // /cfg/$sysname/boot.conf, sysname=host in /env
		vars    map[string]string // /env before
		args    []string          // after "ask"
		in      string
		out     string            // stdout
		want    map[string]string // /env after: all of it
		read    int               // bytes read of in; -1: all
	}{
		{name: "typed", cmdline: "console=ttyS0 venti=ask quiet", conf: "venti=tcp!a!1\n", in: "tcp!b!2\n",
			out: help + "venti [tcp!a!1]: ", want: map[string]string{"venti": "tcp!b!2"}, read: -1},
		{name: "enter keeps the conf's value", cmdline: "venti=ask", conf: "venti=tcp!a!1\n", in: "\n",
			out: help + "venti [tcp!a!1]: ", want: map[string]string{"venti": "tcp!a!1"}, read: -1},
		{name: "clear", cmdline: "venti=ask", conf: "venti=tcp!a!1\n", in: "clear\n",
			out: help + "venti [tcp!a!1]: ", want: map[string]string{"venti": ""}, read: -1},
		{name: "bad then good", cmdline: "venti=ask", conf: "venti=tcp!a!1\n", in: "tcp!h!notaport\ntcp!h!2\n",
			out:  help + "venti [tcp!a!1]: venti: \"tcp!h!notaport\": port \"notaport\" is not a number; try again\nventi [tcp!a!1]: ",
			want: map[string]string{"venti": "tcp!h!2"}, read: -1},
		{name: "end of input keeps the offer", cmdline: "venti=ask", conf: "venti=tcp!a!1\n", in: "",
			out:  help + "venti [tcp!a!1]: \nants: venti: no answer: the console gave end of file; keeping \"tcp!a!1\"\n",
			want: map[string]string{"venti": "tcp!a!1"}, read: -1},
		{name: "no offer", cmdline: "venti=ask", in: "\n",
			out: help + "venti []: ", want: map[string]string{"venti": ""}, read: -1},
		{name: "the host's conf offers", cmdline: "venti=ask", conf: "venti=tcp!a!1\n", host: "venti=tcp!h!5\n", in: "\n",
			out: help + "venti [tcp!h!5]: ", want: map[string]string{"venti": "tcp!h!5", "sysname": "host"}, read: -1},
		{name: "ask in boot.conf", cmdline: "quiet", conf: "root=ask\n", in: "/dev/vda1\n",
			out: help + "root []: ", want: map[string]string{"root": "/dev/vda1"}, read: -1},
		{name: "several in table order, help once", cmdline: "venti=ask root=ask", conf: "root=/dev/sda1\n", in: "\ntcp!c!3\n",
			out: help + "root [/dev/sda1]: venti []: ", want: map[string]string{"root": "/dev/sda1", "venti": "tcp!c!3"}, read: -1},
		{name: "typed ahead is left", cmdline: "venti=ask", in: "tcp!c!3\nmore\n",
			out: help + "venti []: ", want: map[string]string{"venti": "tcp!c!3"}, read: 8},
		{name: "answered already", cmdline: "venti=ask", conf: "venti=tcp!a!1\n", vars: map[string]string{"venti": "tcp!x!9"}, in: "tcp!b!2\n",
			out: "", want: map[string]string{"venti": "tcp!x!9"}, read: 0},
		{name: "nothing to ask", cmdline: "venti=tcp!a!1", in: "x\n", out: "", want: map[string]string{}, read: 0},
		{name: "named", cmdline: "venti=tcp!a!1", args: []string{"sysname", "venti"}, in: "tp\ntcp!b!2\n",
			out: help + "sysname []: venti [tcp!a!1]: ", want: map[string]string{"sysname": "tp", "venti": "tcp!b!2"}, read: -1},
		{name: "named not known", args: []string{"my.var"}, in: "x y\n",
			out: help + "my.var []: ", want: map[string]string{"my.var": "x y"}, read: -1},
		{name: "named from /env", vars: map[string]string{"sysname": "old"}, args: []string{"sysname"}, in: "\n",
			out: help + "sysname [old]: ", want: map[string]string{"sysname": "old"}, read: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := setup(t)
			write(t, p.Cmdline, tt.cmdline+"\n")
			if tt.conf != "" {
				write(t, p.BootConf, tt.conf)
			}
			if tt.host != "" {
				p.setVars(t, map[string]string{"sysname": "host"})
				write(t, filepath.Join(p.CfgDir, "host", "boot.conf"), tt.host)
			}
			p.setVars(t, tt.vars)
			in := &countingReader{r: strings.NewReader(tt.in)}
			var out, errs strings.Builder
			rc := p.Main(append([]string{"ask"}, tt.args...), in, &out, &errs)
			if rc != 0 || errs.String() != "" {
				t.Fatalf("ants ask = %d, stderr %q", rc, errs.String())
			}
			if out.String() != tt.out {
				t.Errorf("stdout\n\t%q\nwant\n\t%q", out.String(), tt.out)
			}
			if got := p.envVars(t); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("/env = %q, want %q", got, tt.want)
			}
			if want := tt.read; want >= 0 && in.n != want {
				t.Errorf("%d bytes read, want %d", in.n, want)
			} else if want < 0 && in.n != len(tt.in) {
				t.Errorf("%d bytes read, want all %d", in.n, len(tt.in))
			}
			if _, err := os.Stat(p.AskedAll); err == nil {
				t.Errorf("%s written without interactive=yes", p.AskedAll)
			}
		})
	}
}

func TestAskNoEnvDir(t *testing.T) {
	t.Parallel()
	p := setup(t)
	p.EnvDir = filepath.Join(t.TempDir(), "missing")
	rc, _, errs := p.run([]string{"ask"}, "")
	if rc != 1 || !strings.HasPrefix(errs, "ants ask: reading "+p.EnvDir) {
		t.Errorf("ants ask with no /env = %d, %q", rc, errs)
	}
}

// interactive=yes asks for every askable variable, in table order, once: the next
// ants ask only asks for what is "ask".
func TestAskInteractive(t *testing.T) {
	t.Parallel()
	var askable []string
	for _, k := range bootvar.Table {
		if k.Ask {
			askable = append(askable, k.Name)
		}
	}
	if want := []string{"sysname", "root", "ip", "venti"}; !reflect.DeepEqual(askable, want) {
		t.Fatalf("askable variables %q; the test wants %q", askable, want)
	}
	const help = "(Enter keeps the value in brackets; 'clear' empties it; 'sh' opens a shell)\n"
	p := setup(t)
	write(t, p.Cmdline, "interactive=yes root=/dev/vda1 venti=ask\n")
	write(t, p.BootConf, "venti=tcp!a!1\nip=dhcp\n")
	rc, out, errs := p.run([]string{"ask"}, "tp\n\nnone\n\n")
	if rc != 0 || errs != "" {
		t.Fatalf("ants ask = %d, stderr %q", rc, errs)
	}
	if want := help + "sysname []: root [/dev/vda1]: ip [dhcp]: venti [tcp!a!1]: "; out != want {
		t.Errorf("stdout\n\t%q\nwant\n\t%q", out, want)
	}
	want := map[string]string{"sysname": "tp", "root": "/dev/vda1", "ip": "none", "venti": "tcp!a!1"}
	if got := p.envVars(t); !reflect.DeepEqual(got, want) {
		t.Errorf("/env = %v, want %v", got, want)
	}
	if _, err := os.Stat(p.AskedAll); err != nil {
		t.Errorf("%s not written: %v", p.AskedAll, err)
	}

	// Once asked, interactive asks no more; only what is "ask" is asked.
	p.setVars(t, map[string]string{"root": "ask"})
	rc, out, errs = p.run([]string{"ask"}, "/dev/vdb\n")
	if rc != 0 || errs != "" {
		t.Fatalf("second ants ask = %d, stderr %q", rc, errs)
	}
	if want := help + "root [/dev/vda1]: "; out != want {
		t.Errorf("second ants ask printed %q, want %q", out, want)
	}
	if got := p.envVars(t)["root"]; got != "/dev/vdb" {
		t.Errorf("/env/root = %q, want /dev/vdb", got)
	}

	// Named variables are asked, interactive or not.
	rc, out, _ = p.run([]string{"ask", "ip"}, "\n")
	if rc != 0 || out != help+"ip [none]: " {
		t.Errorf("ants ask ip = %d, %q", rc, out)
	}
}

// When the mark cannot be written (no /run/ants), interactive=yes asks everything
// each time: nothing fails.
func TestAskInteractiveNoMark(t *testing.T) {
	t.Parallel()
	p := setup(t)
	p.AskedAll = filepath.Join(p.root, "missing", "asked-interactive")
	write(t, p.Cmdline, "interactive=yes\n")
	for i := 0; i < 2; i++ {
		rc, out, errs := p.run([]string{"ask"}, "\n\n\n\n")
		if rc != 0 || errs != "" {
			t.Fatalf("ants ask = %d, stderr %q", rc, errs)
		}
		for _, n := range []string{"sysname []: ", "root []: ", "ip []: ", "venti []: "} {
			if !strings.Contains(out, n) {
				t.Errorf("run %d: %q not asked: %q", i, n, out)
			}
		}
	}
	if _, err := os.Stat(p.AskedAll); err == nil {
		t.Errorf("%s exists", p.AskedAll)
	}
}

func TestConf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cmdline string
		vars    map[string]string // /env before
		conf    string
		want    map[string]string // /env after: all of it
		out     []string          // stdout holds each
	}{
		{name: "adds", cmdline: "console=ttyS0",
			conf: "# a conf\nsysname=fromconf\nventi=tcp!c!2\nrootwait\n\nants.tmpfs=25%\nmy.var = 'a b'\n",
			want: map[string]string{"sysname": "fromconf", "venti": "tcp!c!2", "rootwait": "1", "ants.tmpfs": "25%", "my.var": "a b"}},
		{name: "the command line wins", cmdline: "venti=tcp!k!1 ro sysname=cl",
			vars: map[string]string{"venti": "tcp!k!1", "ro": "1", "sysname": "cl"},
			conf: "venti=tcp!c!2\nro\nsysname=fromconf\nrootwait\n",
			want: map[string]string{"venti": "tcp!k!1", "ro": "1", "sysname": "cl", "rootwait": "1"}},
		{name: "command line after -- is not the kernel's", cmdline: "quiet -- venti=tcp!k!1",
			conf: "venti=tcp!c!2\n", want: map[string]string{"venti": "tcp!c!2"}},
		{name: "replaces /env", vars: map[string]string{"sysname": "old", "other": "kept"},
			conf: "sysname=new\n", want: map[string]string{"sysname": "new", "other": "kept"}},
		{name: "bad lines reported, others added",
			conf: "bogus line here\nventi=udp!h!1\nsysname=ok\n",
			want: map[string]string{"sysname": "ok"},
			out: []string{
				"ants conf: " + "F:1: \"bogus line here\" is not NAME=VALUE: a name cannot hold ' '; ignored\n",
				"ants conf: " + "F: venti: \"udp!h!1\": network \"udp\" is not supported; use tcp; ignored\n",
			}},
		{name: "unknown bare word refused", conf: "quiet\nsysname=x\n", want: map[string]string{"sysname": "x"},
			out: []string{"ants conf: F:1: \"quiet\" is not NAME=VALUE; ignored\n"}},
		{name: "empty", conf: "", want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := setup(t)
			write(t, p.Cmdline, tt.cmdline+"\n")
			p.setVars(t, tt.vars)
			file := filepath.Join(p.root, "test.conf")
			write(t, file, tt.conf)
			rc, out, errs := p.run([]string{"conf", file}, "")
			if rc != 0 || errs != "" {
				t.Fatalf("ants conf = %d, stderr %q", rc, errs)
			}
			if got := p.envVars(t); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("/env = %v, want %v", got, tt.want)
			}
			for _, s := range tt.out {
				s = strings.ReplaceAll(s, "F", file)
				if !strings.Contains(out, s) {
					t.Errorf("stdout %q does not hold %q", out, s)
				}
			}
			if len(tt.out) == 0 && out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}

// A bad value in a conf is reported and ignored: /env keeps what it had, even for a
// variable with a default.
func TestConfBadValueKeepsEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, line, old string
	}{
		{"ants.tmpfs", "ants.tmpfs=0", "25%"},
		{"ants.onrootexit", "ants.onrootexit=bogus", "reboot"},
		{"venti", "venti=tcp!h!x", "tcp!a!1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.name != "venti" {
			}
			p := setup(t)
			p.setVars(t, map[string]string{tt.name: tt.old})
			file := filepath.Join(p.root, "test.conf")
			write(t, file, tt.line+"\n")
			rc, out, _ := p.run([]string{"conf", file}, "")
			if rc != 0 || !strings.Contains(out, "ignored") {
				t.Errorf("ants conf = %d, %q; want 0 and the bad value reported", rc, out)
			}
			if got := p.envVars(t)[tt.name]; got != tt.old {
				t.Errorf("/env/%s = %q after %q, want %q kept", tt.name, got, tt.line, tt.old)
			}
		})
	}
}

func TestBoot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		scripts map[string]string // in ScriptDir
		host    map[string]string // in CfgDir/host
		vars    map[string]string // /env; out=$OUT is added
		rc      int
		out     string
		log     []string // stdout and the boot log hold each
	}{
		{name: "scripts then the host's", vars: map[string]string{"sysname": "host"},
			scripts: map[string]string{"10-a.sh": "echo a >> \"$out\"\n", "20-b.sh": "echo b >> \"$out\"\n"},
			host:    map[string]string{"10-h.sh": "echo \"h $sysname\" >> \"$out\"\n", "boot.conf": "x=1\n"},
			rc:      0, out: "a\nb\nh host\n",
			log: []string{"boot: ran " + "S/10-a.sh", "boot: running the scripts of C/host\n", "boot: ran C/host/10-h.sh", "boot: boot scripts done: 3 ran, 0 failed ("}},
		{name: "one fails", vars: map[string]string{"sysname": "host"},
			scripts: map[string]string{"10-a.sh": "echo a >> \"$out\"\n", "20-b.sh": "false\necho b >> \"$out\"\n", "30-c.sh": "echo c >> \"$out\"\n"},
			host:    map[string]string{"10-h.sh": "echo h >> \"$out\"\n"},
			rc:      1, out: "a\nc\nh\n",
			log: []string{"boot: FAILED S/20-b.sh:1: 'false' exited 1; boot goes on", "boot scripts done: 4 ran, 1 failed"}},
		{name: "a host script fails", vars: map[string]string{"sysname": "host"},
			scripts: map[string]string{"10-a.sh": "echo a >> \"$out\"\n"},
			host:    map[string]string{"10-h.sh": "nosuchcommand-ants-test\n", "20-h.sh": "echo h2 >> \"$out\"\n"},
			rc:      1, out: "a\nh2\n",
			log: []string{"FAILED C/host/10-h.sh:1: 'nosuchcommand-ants-test': command not found (exit 127)", "boot scripts done: 3 ran, 1 failed"}},
		{name: "no sysname", scripts: map[string]string{"10-a.sh": "echo a >> \"$out\"\n"},
			host: map[string]string{"10-h.sh": "echo h >> \"$out\"\n"}, rc: 0, out: "a\n",
			log: []string{"boot scripts done: 1 ran, 0 failed"}},
		{name: "sysname ask", vars: map[string]string{"sysname": "ask"}, scripts: map[string]string{"10-a.sh": "echo a >> \"$out\"\n"},
			host: map[string]string{"10-h.sh": "echo h >> \"$out\"\n"}, rc: 0, out: "a\n"},
		{name: "sysname with a slash", vars: map[string]string{"sysname": "../cfg/host"}, scripts: map[string]string{"10-a.sh": "echo a >> \"$out\"\n"},
			host: map[string]string{"10-h.sh": "echo h >> \"$out\"\n"}, rc: 0, out: "a\n"},
		{name: "sysname set by a script", vars: map[string]string{"envdir": "E"},
			scripts: map[string]string{"10-a.sh": "echo host > \"$envdir/sysname\"\n", "20-b.sh": "echo \"b $sysname\" >> \"$out\"\n"},
			host:    map[string]string{"10-h.sh": "echo h >> \"$out\"\n"}, rc: 0, out: "b host\nh\n",
			log: []string{"boot scripts done: 3 ran, 0 failed"}},
		{name: "no scripts", rc: 0, out: "", log: []string{"boot scripts done: 0 ran, 0 failed"}},
		{name: "no host scripts", vars: map[string]string{"sysname": "host"}, host: map[string]string{"boot.conf": "x=1\n"},
			rc: 0, out: "", log: []string{"boot scripts done: 0 ran, 0 failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := setup(t)
			outFile := filepath.Join(p.root, "out")
			vars := map[string]string{"out": outFile}
			for k, v := range tt.vars {
				vars[k] = strings.ReplaceAll(v, "E", p.EnvDir)
			}
			p.setVars(t, vars)
			for n, src := range tt.scripts {
				write(t, filepath.Join(p.ScriptDir, n), src)
			}
			for n, src := range tt.host {
				write(t, filepath.Join(p.CfgDir, "host", n), src)
			}
			rc, stdout, _ := p.runBoot(t)
			if rc != tt.rc {
				t.Errorf("ants boot = %d, want %d; stdout:\n%s", rc, tt.rc, stdout)
			}
			if got := read(t, outFile); got != tt.out {
				t.Errorf("$out %q, want %q", got, tt.out)
			}
			logFile := read(t, p.BootLog)
			if logFile != stdout {
				t.Errorf("boot log %q, want what went to stdout %q", logFile, stdout)
			}
			stdout = strings.ReplaceAll(strings.ReplaceAll(stdout, p.ScriptDir, "S"), p.CfgDir, "C")
			for _, s := range tt.log {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout does not hold %q:\n%s", s, stdout)
				}
			}
			if n := strings.Count(stdout, "FAILED"); (n > 0) != (tt.rc != 0) {
				t.Errorf("%d FAILED lines with status %d:\n%s", n, tt.rc, stdout)
			}
		})
	}
}

// The boot log cannot be opened: boot says so and goes on.
func TestBootNoLog(t *testing.T) {
	t.Parallel()
	p := setup(t)
	p.BootLog = filepath.Join(p.root, "missing", "boot.log")
	outFile := filepath.Join(p.root, "out")
	p.setVars(t, map[string]string{"out": outFile})
	write(t, filepath.Join(p.ScriptDir, "10-a.sh"), "echo a > \"$out\"\n")
	rc, stdout, _ := p.runBoot(t)
	if rc != 0 || read(t, outFile) != "a\n" {
		t.Errorf("ants boot = %d, $out %q", rc, read(t, outFile))
	}
	if !strings.Contains(stdout, "boot: cannot append to "+p.BootLog+": ") {
		t.Errorf("stdout does not say the log cannot be written:\n%s", stdout)
	}
}

// ants.break in /env stops before the script with the Shell, which runs on the console.
func TestBootBreak(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh for the break shell")
	}
	tests := []struct {
		name  string
		brk   string
		shell string // "": no Shell file
		out   string
		log   []string
	}{
		{"break", "b", "#!/bin/sh\necho shell >> OUT\n", "a\nshell\nb\n",
			[]string{"boot: break before S/20-b.sh (ants.break=b): exit the shell to go on", "boot: resuming boot at S/20-b.sh"}},
		{"shell exits non-zero", "20-b.sh", "#!/bin/sh\necho shell >> OUT\nexit 3\n", "a\nshell\nb\n",
			[]string{"resuming boot at S/20-b.sh"}},
		{"no shell", "b", "", "a\nb\n",
			[]string{"boot: break shell: ", "resuming boot at S/20-b.sh"}},
		{"no match", "c", "#!/bin/sh\necho shell >> OUT\n", "a\nb\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := setup(t)
			outFile := filepath.Join(p.root, "out")
			p.setVars(t, map[string]string{"out": outFile, "ants.break": tt.brk})
			write(t, filepath.Join(p.ScriptDir, "10-a.sh"), "echo a >> \"$out\"\n")
			write(t, filepath.Join(p.ScriptDir, "20-b.sh"), "echo b >> \"$out\"\n")
			if tt.shell != "" {
				write(t, p.Shell, strings.ReplaceAll(tt.shell, "OUT", "'"+outFile+"'"))
				if err := os.Chmod(p.Shell, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			rc, stdout, _ := p.runBoot(t)
			if rc != 0 {
				t.Errorf("ants boot = %d; stdout:\n%s", rc, stdout)
			}
			if got := read(t, outFile); got != tt.out {
				t.Errorf("$out %q, want %q", got, tt.out)
			}
			stdout = strings.ReplaceAll(stdout, p.ScriptDir, "S")
			for _, s := range tt.log {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout does not hold %q:\n%s", s, stdout)
				}
			}
			if tt.log == nil && strings.Contains(stdout, "break") {
				t.Errorf("stdout speaks of a break:\n%s", stdout)
			}
		})
	}
}

// The scripts run in order: ScriptDir sorted, then the host's sorted.
func TestBootOrder(t *testing.T) {
	t.Parallel()
	p := setup(t)
	outFile := filepath.Join(p.root, "out")
	p.setVars(t, map[string]string{"out": outFile, "sysname": "host"})
	names := []string{"50-e.sh", "05-a.sh", "10-b.sh", "99-z.sh"}
	for _, n := range names {
		write(t, filepath.Join(p.ScriptDir, n), "echo "+n+" >> \"$out\"\n")
		write(t, filepath.Join(p.CfgDir, "host", n), "echo host/"+n+" >> \"$out\"\n")
	}
	if rc, stdout, _ := p.runBoot(t); rc != 0 {
		t.Fatalf("ants boot = %d:\n%s", rc, stdout)
	}
	sort.Strings(names)
	want := ""
	for _, n := range names {
		want += n + "\n"
	}
	for _, n := range names {
		want += "host/" + n + "\n"
	}
	if got := read(t, outFile); got != want {
		t.Errorf("$out %q, want %q", got, want)
	}
}

func TestDHCPSysname(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := Paths{Cmdline: filepath.Join(dir, "cmdline"), Record: filepath.Join(dir, "vars.json"), BootConf: filepath.Join(dir, "boot.conf")}
	for _, tc := range []struct {
		cmdline, cur, host, want string
	}{
		{"console=ttyS0", "ants", "gnot1", "gnot1"},
		{"console=ttyS0", "", "gnot1.lab.example", "gnot1"},
		{"sysname=mine", "mine", "gnot1", ""},
		{"console=ttyS0", "chosen", "gnot1", ""},
		{"console=ttyS0", "ants", "", ""},
		{"console=ttyS0", "ants", "bad name!", ""},
	} {
		os.WriteFile(p.Cmdline, []byte(tc.cmdline), 0o644)
		if got := p.dhcpSysname(map[string]string{"sysname": tc.cur}, tc.host); got != tc.want {
			t.Errorf("cmdline %q sysname %q host %q: %q, want %q", tc.cmdline, tc.cur, tc.host, got, tc.want)
		}
	}
}

// writeRecord writes the record PID 1 would write at boot from cmdline and the
// boot.conf conf, and its /env; the test's command line file is then emptied, so
// that only the record can tell what the command line said.
func (p *paths) writeRecord(t *testing.T, cmdline, conf string) {
	t.Helper()
	write(t, p.BootConf, conf)
	s, _ := bootvar.Load(cmdline, p.BootConf)
	if err := s.WriteRecord(p.Record); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteEnv(p.EnvDir); err != nil {
		t.Fatal(err)
	}
	write(t, p.Cmdline, "\n")
	write(t, p.BootConf, "# changed since the boot\n")
}

// TestRecord: ants ask, conf and env -v read the record of the boot's sources
// when PID 1 wrote one, and /env stays the truth.
func TestRecord(t *testing.T) {
	t.Parallel()
	const help = "(Enter keeps the value in brackets; 'clear' empties it; 'sh' opens a shell)\n"
	t.Run("ask offers what the ask hid", func(t *testing.T) {
		t.Parallel()
		p := setup(t)
		p.writeRecord(t, "venti=ask console=ttyS0", "venti=tcp!a!1\nsysname=gnot\n")
		rc, out, errs := p.run([]string{"ask"}, "\n")
		if rc != 0 || errs != "" || out != help+"venti [tcp!a!1]: " {
			t.Errorf("ants ask = %d, %q, %q", rc, out, errs)
		}
		if got := p.envVars(t)["venti"]; got != "tcp!a!1" {
			t.Errorf("/env/venti = %q", got)
		}
	})
	t.Run("ask offers the host's conf under the command line", func(t *testing.T) {
		t.Parallel()
		p := setup(t)
		p.writeRecord(t, "venti=ask", "venti=tcp!a!1\nsysname=host\n")
		write(t, filepath.Join(p.CfgDir, "host", "boot.conf"), "venti=tcp!h!5\n")
		rc, out, errs := p.run([]string{"ask"}, "\n")
		if rc != 0 || errs != "" || out != help+"venti [tcp!h!5]: " {
			t.Errorf("ants ask = %d, %q, %q", rc, out, errs)
		}
	})
	t.Run("env wins over the record", func(t *testing.T) {
		t.Parallel()
		p := setup(t)
		p.writeRecord(t, "venti=ask", "venti=tcp!a!1\n")
		p.setVars(t, map[string]string{"venti": "tcp!x!9"})
		if rc, out, errs := p.run([]string{"ask"}, "tcp!b!2\n"); rc != 0 || out != "" || errs != "" {
			t.Errorf("ants ask with venti answered = %d, %q, %q; want nothing asked", rc, out, errs)
		}
	})
	t.Run("conf leaves what the command line set", func(t *testing.T) {
		t.Parallel()
		p := setup(t)
		p.writeRecord(t, "venti=tcp!k!1 ro", "sysname=gnot\n")
		file := filepath.Join(p.root, "host.conf")
		write(t, file, "venti=tcp!c!2\nro\nsysname=host\nrootwait\n")
		if rc, out, errs := p.run([]string{"conf", file}, ""); rc != 0 || out != "" || errs != "" {
			t.Fatalf("ants conf = %d, %q, %q", rc, out, errs)
		}
		env := p.envVars(t)
		if env["venti"] != "tcp!k!1" || env["sysname"] != "host" || env["rootwait"] != "1" {
			t.Errorf("/env = %v; want venti from the command line, sysname and rootwait from the conf", env)
		}
	})
	t.Run("env", func(t *testing.T) {
		t.Parallel()
		p := setup(t)
		p.writeRecord(t, "venti=ask console=ttyS0", "sysname=gnot\nventi=tcp!a!1\n")
		p.setVars(t, map[string]string{"venti": "tcp!b!2", "my.var": "a b"})
		rc, out, errs := p.run([]string{"env"}, "")
		if want := `sysname=gnot console=ttyS0 venti=tcp!b!2 my.var="a b"` + "\n"; rc != 0 || errs != "" || out != want {
			t.Errorf("ants env = %d, %q, %q; want %q", rc, out, errs, want)
		}
		rc, out, errs = p.run([]string{"env", "-v"}, "")
		for _, l := range []string{
			"sysname=gnot\t(" + p.BootConf + ")\n",
			"venti=tcp!b!2\t(/env)\n",
			"console=ttyS0\t(kernel command line)\n",
			"init=/sbin/init\t(default)\n",
			"my.var=\"a b\"\t(/env)\n",
		} {
			if !strings.Contains(out, l) {
				t.Errorf("ants env -v = %d, %q, %q; want it to hold %q", rc, out, errs, l)
			}
		}
	})
	t.Run("env -v without a record", func(t *testing.T) {
		t.Parallel()
		p := setup(t)
		write(t, p.Cmdline, "sysname=cl\n")
		p.setVars(t, map[string]string{"sysname": "cl", "init": "/sbin/init", "venti": "tcp!b!2"})
		rc, out, errs := p.run([]string{"env", "-v"}, "")
		if want := "sysname=cl\t(kernel command line)\ninit=/sbin/init\t(default)\nventi=tcp!b!2\t(/env)\n"; rc != 0 || errs != "" || out != want {
			t.Errorf("ants env -v = %d, %q, %q; want %q", rc, out, errs, want)
		}
	})
}

func TestBootchart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "boot.log")
	os.WriteFile(log, []byte("[   2.949] ants: init started: kernel 6.1\n[   5.205] boot: ran /lib/boot/10-modules.sh (1472 ms)\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "env"), 0o755)
	os.WriteFile(filepath.Join(dir, "env", "sysname"), []byte("gnot\n"), 0o644)
	p := Paths{BootLog: log, EnvDir: filepath.Join(dir, "env")}
	var out, errb bytes.Buffer
	if st := p.Main([]string{"bootchart"}, nil, &out, &errb); st != 0 || !strings.HasPrefix(out.String(), "<svg") || !strings.Contains(out.String(), "gnot: "+log) || !strings.Contains(out.String(), "10-modules") {
		t.Errorf("bootchart: %d %q %q", st, out.String(), errb.String())
	}
	out.Reset()
	svg := filepath.Join(dir, "b.svg")
	if st := p.Main([]string{"bootchart", "-o", svg}, nil, &out, &errb); st != 0 || !strings.Contains(out.String(), "5.21 s of boot") {
		t.Errorf("bootchart -o: %d %q %q", st, out.String(), errb.String())
	}
	if b, _ := os.ReadFile(svg); !bytes.HasPrefix(b, []byte("<svg")) {
		t.Errorf("%s holds %.40q", svg, b)
	}
	errb.Reset()
	os.WriteFile(filepath.Join(dir, "other"), []byte("not a log\n"), 0o644)
	if st := p.Main([]string{"bootchart", filepath.Join(dir, "other")}, nil, &out, &errb); st != 1 || !strings.Contains(errb.String(), "no line of ants' boot log") {
		t.Errorf("bootchart of another file: %d %q", st, errb.String())
	}
}

// TestAskThenConfKeepsTheAnswer: the machine's boot.conf sets venti=ask; 20-ask.sh
// asks (ants ask reads that boot.conf too), and 30-sysname.sh's ants conf of the
// same file must not undo the answer, or venti would be asked twice.
func TestAskThenConfKeepsTheAnswer(t *testing.T) {
	t.Parallel()
	p := setup(t)
	p.Answered = filepath.Join(p.root, "answered")
	host := filepath.Join(p.CfgDir, "host", "boot.conf")
	write(t, host, "venti=ask\nants.watchdog=9\n")
	write(t, filepath.Join(p.EnvDir, "sysname"), "host")
	var out, errb bytes.Buffer
	if st := p.Main([]string{"ask"}, strings.NewReader("clear\n"), &out, &errb); st != 0 || !strings.Contains(out.String(), "venti []: ") {
		t.Fatalf("ask: %d %q %q", st, out.String(), errb.String())
	}
	out.Reset()
	if st := p.Main([]string{"conf", host}, strings.NewReader(""), &out, &errb); st != 0 {
		t.Fatalf("conf: %d %q %q", st, out.String(), errb.String())
	}
	if got := strings.TrimSpace(read(t, filepath.Join(p.EnvDir, "venti"))); got != "" {
		t.Errorf("venti after conf: %q, want the answer (empty)", got)
	}
	if got := strings.TrimSpace(read(t, filepath.Join(p.EnvDir, "ants.watchdog"))); got != "9" {
		t.Errorf("ants.watchdog after conf: %q, want 9 (not answered: conf sets it)", got)
	}
	out.Reset()
	if st := p.Main([]string{"ask"}, strings.NewReader("tcp!x!1\n"), &out, &errb); st != 0 || out.String() != "" {
		t.Errorf("ask again: %d %q: asked again", st, out.String())
	}
}
