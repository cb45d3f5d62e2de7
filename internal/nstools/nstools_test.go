package nstools

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ants/ants/internal/testns"

	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/nsfile"
)

var mains = map[string]func([]string, io.Reader, io.Writer, io.Writer) int{
	"ns": NsMain, "bind": BindMain, "unmount": UnmountMain, "mount": MountMain,
	"newns": NewnsMain, "cpns": CpnsMain,
}

const cmdEnv = "ANTS_NSTOOLS_CMD"

// TestMain makes the test binary the command named by $ANTS_NSTOOLS_CMD, for tests
// that run one as another user.
func TestMain(m *testing.M) {
	if c := os.Getenv(cmdEnv); c != "" {
		os.Exit(mains[c](os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func names(dir string) string {
	es, err := os.ReadDir(dir)
	if err != nil {
		return "ERR: " + err.Error()
	}
	var n []string
	for _, e := range es {
		n = append(n, e.Name())
	}
	return strings.Join(n, " ")
}

// call runs a command's Main in this process.
func call(name string, stdin string, args ...string) (int, string, string) {
	var o, e bytes.Buffer
	st := mains[name](args, strings.NewReader(stdin), &o, &e)
	return st, o.String(), e.String()
}

func TestGetopt(t *testing.T) {
	f, err := getopt([]string{"-rc", "-oro", "-p", "shared", "-b", "x", "-a"}, "abcr", "op", false)
	if err != nil {
		t.Fatal(err)
	}
	if !f.set['r'] || !f.set['c'] || !f.set['b'] || f.set['a'] || f.val['o'] != "ro" || f.val['p'] != "shared" || !reflect.DeepEqual(f.args, []string{"x", "-a"}) {
		t.Errorf("getopt: %+v", f)
	}
	f, _ = getopt([]string{"-o", "a", "-o", "b", "--bind", "--", "-x"}, "", "o", true)
	if f.val['o'] != "a,b" || !reflect.DeepEqual(f.long, []string{"bind"}) || !reflect.DeepEqual(f.args, []string{"-x"}) {
		t.Errorf("getopt: %+v", f)
	}
	for _, bad := range [][]string{{"-z"}, {"-o"}, {"--long"}} {
		if _, err := getopt(bad, "a", "o", false); err == nil {
			t.Errorf("getopt(%q): no error", bad)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range [][]string{
		{"ns", "-x"}, {"ns", "-w"}, {"ns", "abc"}, {"ns", "1", "2"},
		{"bind", "/a"}, {"bind", "-ab", "/a", "/b"}, {"bind", "-z", "/a", "/b"},
		{"unmount"}, {"unmount", "a", "b", "c"},
		{"mount", "-ab", "x", "/y"}, {"mount", "--frob", "x", "y"}, {"mount", "a", "b", "c", "d"},
		{"cpns", "1"}, {"cpns", "x", "1"}, {"newns", "-q"},
	} {
		if st, _, e := call(c[0], "", c[1:]...); st != 2 || !strings.Contains(e, "usage") && !strings.Contains(e, c[0]+":") {
			t.Errorf("%q: status %d, stderr %q", c, st, e)
		}
	}
}

func TestMountData(t *testing.T) {
	op, err := nsfile.ParseLine("mount -t 9p -o trans=tcp 10.0.2.100 /n/x /srv/root", nil)
	if err != nil {
		t.Fatal(err)
	}
	if fl, data := nsfile.MountData(op); fl != 0 || data != "trans=tcp,aname=/srv/root" {
		t.Errorf("MountData = %#x %q", fl, data)
	}
}

func TestNsCommand(t *testing.T) {
	if !inNS(t) {
		return
	}
	d := testns.Scratch(t)
	os.MkdirAll(d+"/a", 0o755)
	os.MkdirAll(d+"/b", 0o755)
	testns.Write(t, d+"/a/f", "f")
	pid := strconv.Itoa(os.Getpid())
	st, out, e := call("ns", "")
	if st != 0 || !strings.Contains(out, " /\n") || e != "" {
		t.Fatalf("ns: %d %q %q", st, out, e)
	}
	st, out, e = call("ns", "", "-w", "-v", pid, "bind "+d+"/a "+d+"/b", "# skip me", "mount -t tmpfs x "+d+"/b")
	if st != 0 || e != "" || out != "bind "+d+"/a "+d+"/b\nmount -t tmpfs x "+d+"/b\n" {
		t.Fatalf("ns -w: %d %q %q", st, out, e)
	}
	if _, out, _ = call("ns", "", pid); !strings.Contains(out, "bind -p private "+d+"/a "+d+"/b\n") {
		t.Errorf("ns after -w: %s", out)
	}
	lines := "unmount " + d + "/b\nunmount " + d + "/b\nbind /nope /mnt\nbind /a /b\n\nbind /c /d\nbind /e /f\n"
	st, _, e = call("ns", lines, "-w", pid)
	want := "ns: line 3: bind /nope /mnt: no such file or directory\nns: lines 4-7 not applied\n" +
		"ns: applied before the failure (still in effect):\n\tline 1: unmount " + d + "/b\n\tline 2: unmount " + d + "/b\n"
	if st != 1 || e != want {
		t.Errorf("ns -w with a failing line: %d\n%s\nwant\n%s", st, e, want)
	}
	if _, err := os.Stat(d + "/b/f"); err == nil {
		t.Error("the applied unmounts were undone")
	}
	st, _, e = call("ns", "bind /a /b\nbind 'x\n", "-w", pid)
	if st != 1 || !strings.Contains(e, "ns: line 2: bind 'x: unterminated quote\nns: nothing applied") {
		t.Errorf("bad syntax: %d %q", st, e)
	}
	st, _, e = call("ns", "", "999999999")
	if st != 1 || e != "ns: no such process 999999999\n" {
		t.Errorf("ns of no process: %d %q", st, e)
	}
	st, _, e = call("ns", "", "-w", "999999999", "bind /a /b")
	if st != 1 || e != "ns: no such process 999999999\n" {
		t.Errorf("ns -w to no process: %d %q", st, e)
	}
}

func TestNoPermission(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a command as nobody")
	}
	d := t.TempDir()
	for p := d; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
		os.Chmod(p, 0o755)
	}
	bin := filepath.Join(d, "nstools.test")
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"ns", "-w", "1", "bind /tmp /mnt"},
		{"cpns", strconv.Itoa(os.Getpid()), "1"},
	} {
		cmd := exec.Command(bin, args[1:]...)
		cmd.Env = append(os.Environ(), cmdEnv+"="+args[0])
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var e bytes.Buffer
		cmd.Stderr = &e
		err := cmd.Run()
		if err == nil || !strings.Contains(e.String(), args[0]+": no permission to change the namespace of pid 1\n") {
			t.Errorf("%q as nobody: %v, %q", args, err, e.String())
		}
	}
}

func TestBindMountUnmount(t *testing.T) {
	if !inNS(t) {
		return
	}
	d := testns.Scratch(t)
	testns.Write(t, d+"/bin/ls", "bin")
	testns.Write(t, d+"/bin/cat", "bin")
	testns.Write(t, d+"/usrbin/ls", "usrbin")
	testns.Write(t, d+"/usrbin/vi", "usrbin")
	os.MkdirAll(d+"/m", 0o755)
	os.MkdirAll(d+"/m2", 0o755)
	ok := func(name string, args ...string) {
		t.Helper()
		if st, _, e := call(name, "", args...); st != 0 {
			t.Fatalf("%s %q: %d %s", name, args, st, e)
		}
	}
	ok("bind", "-b", d+"/bin", d+"/usrbin")
	if got := names(d + "/usrbin"); got != "cat ls vi" {
		t.Errorf("bind -b: %s", got)
	}
	if b, _ := os.ReadFile(d + "/usrbin/ls"); string(b) != "bin" {
		t.Errorf("bind -b: ls from %s", b)
	}
	ok("unmount", d+"/bin", d+"/usrbin")
	if got := names(d + "/usrbin"); got != "ls vi" {
		t.Errorf("unmount NEW OLD: %s", got)
	}
	ok("bind", d+"/bin", d+"/m")
	ok("unmount", d+"/bin", d+"/m") // a plain bind of NEW
	if got := names(d + "/m"); got != "" {
		t.Errorf("unmount NEW OLD of a bind: %s", got)
	}
	ok("mount", "-t", "tmpfs", "-o", "size=1m,mode=711", "mytmp", d+"/m")
	st, out, _ := call("mount", "")
	if st != 0 || !strings.Contains(out, "mytmp "+d+"/m tmpfs rw,relatime,size=1024k,mode=711") {
		t.Errorf("mount: %s", out)
	}
	if _, out, _ = call("mount", "", "-t", "tmpfs"); strings.Contains(out, " ext4 ") || !strings.Contains(out, "mytmp") {
		t.Errorf("mount -t tmpfs: %s", out)
	}
	ok("mount", "-o", "remount,ro", d+"/m")
	if err := os.WriteFile(d+"/m/x", nil, 0o644); err == nil {
		t.Error("remount,ro: still writable")
	}
	ok("mount", "--bind", d+"/bin", d+"/m2")
	ok("mount", "--make-shared", d+"/m2")
	ms, _ := mount.ReadInfo(mount.Self)
	var m2 nsfile.Mount
	for _, m := range ms {
		if m.Point == d+"/m2" {
			m2 = m
		}
	}
	if m2.Root == "" || m2.Propagation() != "shared" {
		t.Errorf("--bind, --make-shared: %+v", m2)
	}
	ok("unmount", d+"/m2")
	ok("unmount", "-l", d+"/m")
	ok("mount", "-b", "-t", "tmpfs", "x", d+"/usrbin")
	ok("bind", "-ac", d+"/bin", d+"/usrbin")
	testns.Write(t, d+"/usrbin/new", "new")
	if got := names(d + "/usrbin"); got != "cat ls new vi" {
		t.Errorf("mount -b tmpfs + bind -ac: %s", got)
	}
	if st, _, e := call("bind", "", "/nope", d+"/m"); st != 1 || e != "bind: bind /nope "+d+"/m: no such file or directory\n" {
		t.Errorf("bind /nope: %d %q", st, e)
	}
	if st, _, e := call("unmount", "", d+"/bin"); st != 1 || !strings.Contains(e, "invalid argument") {
		t.Errorf("unmount of no mount: %d %q", st, e)
	}
}

func TestRoundTripCommands(t *testing.T) {
	if !inNS(t) {
		return
	}
	d := toolsTree(t)
	A, B := testns.Sleeper(t), testns.Sleeper(t)
	a, b := strconv.Itoa(A), strconv.Itoa(B)
	if st, _, e := call("ns", "", "-w", a, "bind -b "+d+"/tools "+d+"/bin", "mount -t tmpfs -o size=8k x "+d+"/t"); st != 0 {
		t.Fatalf("ns -w A: %s", e)
	}
	_, textA, _ := call("ns", "", a)
	if st, _, e := call("ns", textA, "-w", b); st != 0 {
		t.Fatalf("ns A | ns -w B: %s", e)
	}
	_, textB, _ := call("ns", "", b)
	if textA != textB {
		t.Errorf("ns A | ns -w B: B differs:\nA:\n%s\nB:\n%s", textA, textB)
	}
	if st, out, e := call("ns", textA, "-w", "-v", b); st != 0 || out != "" {
		t.Errorf("second replay applied %q (%s)", out, e)
	}
}

func TestNewns(t *testing.T) {
	if !inNS(t) {
		return
	}
	d := toolsTree(t)
	ns := filepath.Join(d, "namespace")
	os.WriteFile(ns, []byte("# test namespace\nbind -b $D/tools ${D}/bin\nmount -t tmpfs newnstmp $D/t\ncd $D/bin\n"), 0o644)
	t.Setenv("D", d)
	before, _ := os.ReadFile("/proc/thread-self/mountinfo")
	st, out, e := call("newns", "", "-n", ns, "sh", "-c", "pwd; ls; grep -c newnstmp /proc/self/mountinfo")
	if st != 0 || out != d+"/bin\ngdb\nsh\n1\n" {
		t.Errorf("newns: %d %q %q", st, out, e)
	}
	after, _ := os.ReadFile("/proc/thread-self/mountinfo")
	if !bytes.Equal(before, after) {
		t.Errorf("newns changed the caller's namespace:\n%s", after)
	}
	if st, _, _ := call("newns", "", "-n", ns, "sh", "-c", "exit 3"); st != 3 {
		t.Errorf("exit status %d, want 3", st)
	}
	os.WriteFile(ns, []byte("bind /nope $D/bin\n"), 0o644)
	st, out, e = call("newns", "", "-n", ns, "echo", "ran")
	if st != 1 || out != "" || !strings.Contains(e, "newns: line 1: bind /nope $D/bin: no such file or directory") {
		t.Errorf("newns with a failing file: %d %q %q", st, out, e)
	}
	var o, eb bytes.Buffer
	if st := newnsMain(filepath.Join(d, "none"), []string{"echo", "x"}, strings.NewReader(""), &o, &eb); st != 0 || o.String() != "x\n" {
		t.Errorf("newns without a file: %d %q %q", st, o.String(), eb.String())
	}
	os.WriteFile(ns, []byte("cd $D/bin\n"), 0o644)
	o.Reset()
	if st := newnsMain(ns, []string{"pwd"}, strings.NewReader(""), &o, &eb); st != 0 || o.String() != d+"/bin\n" {
		t.Errorf("newns with the default file: %d %q %q", st, o.String(), eb.String())
	}

}

func TestCpns(t *testing.T) {
	if !inNS(t) {
		return
	}
	d := testns.Scratch(t)
	testns.Write(t, d+"/src/f", "f")
	os.MkdirAll(d+"/dst", 0o755)
	os.MkdirAll(d+"/extra", 0o755)
	A, B := testns.Sleeper(t), testns.Sleeper(t)
	a, b := strconv.Itoa(A), strconv.Itoa(B)
	if st, _, e := call("ns", "", "-w", a, "bind "+d+"/src "+d+"/dst", "mount -t tmpfs -o size=8k fromA /dev/pts"); st != 0 {
		t.Fatal(e)
	}
	if st, _, e := call("ns", "", "-w", b, "mount -t tmpfs onlyB "+d+"/extra"); st != 0 {
		t.Fatal(e)
	}
	st, out, e := call("cpns", "", "-r", "-v", a, b)
	if st != 0 {
		t.Fatalf("cpns: %d %s %s", st, out, e)
	}
	if !strings.Contains(out, "unmount "+d+"/extra\n") || !strings.Contains(out, d+"/dst\n") || strings.Contains(out, "fromA") {
		t.Errorf("cpns -r -v: %s", out)
	}
	_, textB, _ := call("ns", "", b)
	if strings.Contains(textB, "onlyB") || !strings.Contains(textB, "bind -p private "+d+"/src "+d+"/dst\n") || strings.Contains(textB, "fromA") {
		t.Errorf("B after cpns -r:\n%s", textB)
	}
	if st, _, e := call("cpns", "", a, b); st != 0 {
		t.Fatalf("cpns: %s", e)
	}
	_, textA, _ := call("ns", "", a)
	_, textB, _ = call("ns", "", b)
	if textA != textB {
		t.Errorf("after cpns, A and B differ:\nA:\n%s\nB:\n%s", textA, textB)
	}
}

// inNS runs the test again in a new private mount namespace and checks the host's
// mount table afterwards (testns.Checked); it returns true in the child.
func inNS(t *testing.T) bool {
	t.Helper()
	return testns.Checked(t, "ANTS_NSTOOLS_TEST_INNER", func(l string) bool {
		return strings.Contains(l, "/Test") || strings.Contains(l, nsfile.UnionSource)
	})
}

// toolsTree is a scratch directory (testns.Scratch) holding tools/gdb, bin/sh and an
// empty t.
func toolsTree(t *testing.T) string {
	t.Helper()
	d := testns.Scratch(t)
	testns.Write(t, d+"/tools/gdb", "gdb")
	testns.Write(t, d+"/bin/sh", "sh")
	os.MkdirAll(d+"/t", 0o755)
	return d
}
