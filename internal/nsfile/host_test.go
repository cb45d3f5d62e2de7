package nsfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/testns"

	"golang.org/x/sys/unix"
)

func read(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "ERR: " + err.Error()
	}
	return string(b)
}

func names(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range es {
		n = append(n, e.Name())
	}
	return strings.Join(n, " ")
}

func selfApplier(d string) *Applier {
	return &Applier{UnionDir: filepath.Join(d, "union"), Mountinfo: func() ([]Mount, error) {
		return mount.ReadInfo(mount.Self)
	}}
}

func run(t *testing.T, a *Applier, text string) Result {
	t.Helper()
	ops, err := Parse(text, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return a.Run(ops)
}

func TestHostOperations(t *testing.T) {
	if !inNS(t) {
		return
	}
	d := testns.Scratch(t)
	q := func(p string) string { return Quote(filepath.Join(d, p)) }
	testns.Write(t, filepath.Join(d, "src/f"), "src")
	testns.Write(t, filepath.Join(d, "src/sub/g"), "g")
	testns.Write(t, filepath.Join(d, "dst/f"), "dst")
	os.MkdirAll(filepath.Join(d, "rdst"), 0o755)
	os.MkdirAll(filepath.Join(d, "ro"), 0o755)
	os.MkdirAll(filepath.Join(d, "tmp with space\nand newline"), 0o755)
	a := selfApplier(d)
	r := run(t, a, strings.Join([]string{
		"mount -t tmpfs -o size=1m,mode=755 x " + q("src/sub"),
		"bind " + q("src") + " " + q("dst"),
		"bind -r " + q("src") + " " + q("rdst"),
		"bind -o ro " + q("src") + " " + q("ro"),
		"mount -t tmpfs -o size=1m " + Quote("tmp'fs") + " " + q("tmp with space\nand newline"),
	}, "\n"))
	if r.Failed != nil {
		t.Fatalf("line %d: %v", r.Failed.Line, r.Err)
	}
	if got := read(filepath.Join(d, "dst/f")); got != "src" {
		t.Errorf("bind: dst/f = %q", got)
	}
	if _, err := os.Stat(filepath.Join(d, "dst/sub/g")); err != nil {
		t.Errorf("non-recursive bind shows the tmpfs below src: %v", err)
	}
	if got := names(t, filepath.Join(d, "rdst/sub")); got != "" {
		t.Errorf("bind -r: rdst/sub holds %q, want the (empty) tmpfs", got)
	}
	if err := os.WriteFile(filepath.Join(d, "ro/new"), nil, 0o644); !os.IsPermission(err) && !strings.Contains(err.Error(), "read-only") {
		t.Errorf("bind -o ro: write gave %v", err)
	}
	text, err := Print(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"bind -p private " + q("src") + " " + q("dst"),
		"bind -o ro -p private " + q("src") + " " + q("ro"),
		"mount -t tmpfs -o rw,relatime,size=1024k -p private " + Quote("tmp'fs") + " " + q("tmp with space\nand newline"),
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("ns does not print %s", want)
		}
	}
	// Replaying what ns printed onto the same namespace does nothing.
	r = run(t, a, text)
	if r.Failed != nil || len(r.Applied) != 0 {
		t.Errorf("replay onto itself: applied %v, failed %v %v", r.Applied, r.Failed, r.Err)
	}
	r = run(t, a, "unmount "+q("dst")+"\nunmount -l "+q("rdst"))
	if r.Failed != nil {
		t.Fatalf("unmount: line %d: %v", r.Failed.Line, r.Err)
	}
	if got := read(filepath.Join(d, "dst/f")); got != "dst" {
		t.Errorf("after unmount: dst/f = %q", got)
	}
}

func TestHostErrors(t *testing.T) {
	if !inNS(t) {
		return
	}
	d := testns.Scratch(t)
	os.MkdirAll(filepath.Join(d, "a"), 0o755)
	os.MkdirAll(filepath.Join(d, "b"), 0o755)
	a := selfApplier(d)
	text := "# comment\nbind " + d + "/a " + d + "/b\n\nbind /nope " + d + "/b\nbind " + d + "/a " + d + "/b\nunmount " + d + "/b\n"
	r := run(t, a, text)
	if r.Failed == nil || r.Failed.Line != 4 {
		t.Fatalf("failed line %v, want 4", r.Failed)
	}
	var b bytes.Buffer
	r.Report(&b, "ns")
	want := "ns: line 4: bind /nope " + d + "/b: no such file or directory\nns: lines 5-6 not applied\nns: applied before the failure (still in effect):\n\tline 2: bind " + d + "/a " + d + "/b\n"
	if b.String() != want {
		t.Errorf("report:\n%s\nwant:\n%s", b.String(), want)
	}
	if _, err := Print(999999999); err == nil || !strings.Contains(err.Error(), "no such process") {
		t.Errorf("Print of no process: %v", err)
	}
	if _, err := Apply(999999999, "bind /a /b", nil); err == nil || !strings.Contains(err.Error(), "no such process") {
		t.Errorf("Apply to no process: %v", err)
	}
	if _, err := Apply(os.Getpid(), "bind /a /b\nbind x", nil); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("Apply of bad syntax: %v", err)
	}
	r = run(t, a, "unmount "+d+"/a")
	if !errors.Is(r.Err, unix.EINVAL) {
		t.Errorf("unmount of no mount: %v", r.Err)
	}
}

func TestHostUnion(t *testing.T) {
	if !inNS(t) {
		return
	}
	d := testns.Scratch(t)
	bin, usrbin, tools := filepath.Join(d, "bin"), filepath.Join(d, "usrbin"), filepath.Join(d, "to:ols,x")
	testns.Write(t, bin+"/ls", "bin ls")
	testns.Write(t, bin+"/cat", "bin cat")
	testns.Write(t, usrbin+"/ls", "usrbin ls")
	testns.Write(t, usrbin+"/vi", "usrbin vi")
	testns.Write(t, tools+"/gdb", "tools gdb")
	testns.Write(t, tools+"/ls", "tools ls")
	a := selfApplier(d)
	if r := run(t, a, "bind -b "+bin+" "+usrbin); r.Failed != nil {
		t.Fatal(r.Err)
	}
	if got := names(t, usrbin); got != "cat ls vi" {
		t.Errorf("bind -b: %s", got)
	}
	if got := read(usrbin + "/ls"); got != "bin ls" {
		t.Errorf("bind -b: ls is %q, want bin's", got)
	}
	if err := os.WriteFile(usrbin+"/x", nil, 0o644); err == nil {
		t.Error("a union without -c is writable")
	}
	// -a adds to the same union, last.
	if r := run(t, a, "bind -a "+Quote(tools)+" "+usrbin); r.Failed != nil {
		t.Fatal(r.Err)
	}
	if got := names(t, usrbin); got != "cat gdb ls vi" || read(usrbin+"/ls") != "bin ls" {
		t.Errorf("bind -a: %s, ls %q", got, read(usrbin+"/ls"))
	}
	ms, _ := mount.ReadInfo(mount.Self)
	if n := strings.Count(FormatAll(FromMountinfo(ms)), "overlay"); n != 1 {
		t.Errorf("%d overlays, want 1 (the union is extended, not stacked)", n)
	}
	// unmount NEW OLD takes one layer out.
	if r := run(t, a, "unmount "+bin+" "+usrbin); r.Failed != nil {
		t.Fatal(r.Err)
	}
	if got := names(t, usrbin); got != "gdb ls vi" || read(usrbin+"/ls") != "usrbin ls" {
		t.Errorf("after unmount bin: %s, ls %q", got, read(usrbin+"/ls"))
	}
	if r := run(t, a, "unmount "+Quote(tools)+" "+usrbin); r.Failed != nil {
		t.Fatal(r.Err)
	}
	if got := names(t, usrbin); got != "ls vi" {
		t.Errorf("after unmount tools: %s", got)
	}
	ms, _ = mount.ReadInfo(mount.Self)
	for _, m := range ms {
		if under(m.Point, d) {
			t.Errorf("left mounted: %s", m.Point)
		}
	}
	// -c: writable, changes in the tmpfs layer.
	if r := run(t, a, "bind -bc "+bin+" "+usrbin); r.Failed != nil {
		t.Fatal(r.Err)
	}
	testns.Write(t, usrbin+"/new", "new")
	if _, err := os.Stat(bin + "/new"); err == nil {
		t.Error("bind -c wrote into NEW")
	}
	if got := names(t, usrbin); got != "cat ls new vi" {
		t.Errorf("bind -bc: %s", got)
	}
	if r := run(t, a, "unmount "+bin+" "+usrbin+"\nunmount nonesuch "+usrbin); r.Failed == nil || r.Failed.Line != 2 {
		t.Errorf("unmount of a dir not in the union: %+v", r)
	}
	// mount -a: a tmpfs after usrbin's own.
	if r := run(t, a, "unmount -l "+usrbin+"\nmount -a -t tmpfs x "+usrbin); r.Failed != nil {
		t.Fatal(r.Err)
	}
	if got := names(t, usrbin); got != "ls vi" {
		t.Errorf("mount -a tmpfs: %s", got)
	}
}

func TestHostRoundTrip(t *testing.T) {
	if !inNS(t) {
		return
	}
	d := testns.Scratch(t)
	testns.Write(t, d+"/src/f", "f")
	for _, p := range []string{"dst", "ro", "t", "u", "x y"} {
		os.MkdirAll(filepath.Join(d, p), 0o755)
	}
	A, B := testns.Sleeper(t), testns.Sleeper(t)
	// B starts as a copy of A: replaying A onto it changes nothing.
	text, err := Print(A)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Apply(B, text, nil)
	if err != nil || r.Failed != nil || len(r.Applied) != 0 {
		t.Fatalf("A onto its copy B: %v; applied %v; failed %v: %v", err, r.Applied, r.Failed, r.Err)
	}
	// Change A; replay; B's view must match.
	r, err = Apply(A, strings.Join([]string{
		"bind " + d + "/src " + d + "/dst",
		"bind -o ro,nosuid " + d + "/src " + d + "/ro",
		"mount -t tmpfs -o size=64k,mode=700 scratch " + d + "/t",
		"bind -b " + d + "/src " + Quote(d+"/x y"),
	}, "\n"), nil)
	if err != nil || r.Failed != nil {
		t.Fatalf("changing A: %v %v %v", err, r.Failed, r.Err)
	}
	a, err := Print(A)
	if err != nil {
		t.Fatal(err)
	}
	var mine []string
	for _, l := range strings.Split(a, "\n") {
		if strings.Contains(l, d) && !strings.Contains(l, "ants-union") {
			mine = append(mine, l)
		}
	}
	if len(mine) != 3 {
		t.Fatalf("A's mounts of the test:\n%s", a)
	}
	r, err = Apply(B, a, nil)
	if err != nil || r.Failed != nil {
		t.Fatalf("A onto B: %v %v %v", err, r.Failed, r.Err)
	}
	if len(r.Applied) < 3 {
		t.Errorf("applied only %v", r.Applied)
	}
	b, _ := Print(B)
	for _, l := range mine {
		if !strings.Contains(b, l+"\n") {
			t.Errorf("B lacks %s\nB:\n%s", l, b)
		}
	}
	if !strings.Contains(b, "ants-union "+Quote(d+"/x y")+"\n") {
		t.Errorf("B lacks the union:\n%s", b)
	}
	// Again: nothing left to do.
	r, err = Apply(B, a, nil)
	if err != nil || r.Failed != nil || len(r.Applied) != 0 {
		t.Errorf("second replay: %v; applied %v; failed %v: %v", err, r.Applied, r.Failed, r.Err)
	}
	// Our own namespace was not touched.
	self, _ := Print(os.Getpid())
	if strings.Contains(self, d+"/dst") {
		t.Errorf("the test's own namespace changed:\n%s", self)
	}
}

func TestHostCopy(t *testing.T) {
	if !inNS(t) {
		return
	}
	d := testns.Scratch(t)
	testns.Write(t, d+"/src/f", "f")
	for _, p := range []string{"dst", "t", "gone", "gone/sub"} {
		os.MkdirAll(filepath.Join(d, p), 0o755)
	}
	A, B := testns.Sleeper(t), testns.Sleeper(t)
	if r, err := Apply(A, "bind "+d+"/src "+d+"/dst\nmount -t tmpfs -o size=64k tmpA "+d+"/t", nil); err != nil || r.Failed != nil {
		t.Fatal(err, r.Failed, r.Err)
	}
	if r, err := Apply(B, "mount -t tmpfs x "+d+"/gone\nmount -t tmpfs y "+d+"/dst\nmount -t tmpfs -o size=64k tmpB "+d+"/t", nil); err != nil || r.Failed != nil {
		t.Fatal(err, r.Failed, r.Err)
	}
	// a file in A's tmpfs: cpns attaches the same tmpfs, not a new one
	if err := In(A, func(*Applier) error { return os.WriteFile(d+"/t/inA", []byte("A"), 0o644) }); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if errs := Copy(A, B, nil, &log); len(errs) > 0 {
		t.Fatalf("Copy: %v\n%s", errs, log.String())
	}
	t.Logf("cpns:\n%s", log.String())
	a, _ := ProcMounts(A)
	b, _ := ProcMounts(B)
	if p := PlanCopy(a, b, nil); len(p.Mount)+len(p.Unmount) != 0 {
		t.Errorf("still different: %+v", p)
	}
	err := In(B, func(*Applier) error {
		if got := read(d + "/t/inA"); got != "A" {
			t.Errorf("B's %s/t/inA = %q", d, got)
		}
		if got := read(d + "/dst/f"); got != "f" {
			t.Errorf("B's dst/f = %q", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// inNS runs the test again in a new private mount namespace and checks the host's
// mount table afterwards (testns.Checked); it returns true in the child.
func inNS(t *testing.T) bool {
	t.Helper()
	return testns.Checked(t, "ANTS_NSFILE_TEST_INNER", func(l string) bool {
		return strings.Contains(l, "/Test") || strings.Contains(l, UnionSource)
	})
}
