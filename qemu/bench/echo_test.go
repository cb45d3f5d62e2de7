package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/qvm"
	"github.com/u-root/u-root/pkg/cpio"
)

func TestPercentile(t *testing.T) {
	xs := []float64{10, 1, 9, 2, 8, 3, 7, 4, 6, 5}
	for _, c := range []struct{ p, want float64 }{{90, 9}, {50, 5}, {100, 10}, {0, 1}, {91, 10}} {
		if got := percentile(xs, c.p); got != c.want {
			t.Errorf("p%v of 1..10 = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile([]float64{3}, 90); got != 3 {
		t.Errorf("p90 of one = %v", got)
	}
	if got := percentile(nil, 90); got != 0 {
		t.Errorf("p90 of none = %v", got)
	}
	if xs[0] != 10 {
		t.Error("percentile sorted its argument")
	}
}

func TestStamped(t *testing.T) {
	s := newStamped()
	t0 := time.Now()
	s.Write([]byte("ants% "))
	time.Sleep(2 * time.Millisecond)
	t1 := time.Now()
	s.Write([]byte("x\b \b"))
	if s.Len() != 10 {
		t.Fatalf("Len = %d", s.Len())
	}
	if a := s.at(0); a.Before(t0) || !a.Before(t1) {
		t.Errorf("byte 0 arrived at %v, not in the first piece (%v..%v)", a, t0, t1)
	}
	if a := s.at(6); a.Before(t1) {
		t.Errorf("byte 6 (the x) arrived at %v, before its piece was written (%v)", a, t1)
	}
	if a := s.at(10); !a.IsZero() {
		t.Errorf("byte 10 has not arrived, but at says %v", a)
	}
	off, k, err := s.waitFor(0, time.Second, "x")
	if err != nil || off != 6 || k != 0 {
		t.Errorf("waitFor x = %d, %d, %v", off, k, err)
	}
	off, k, err = s.waitFor(7, time.Second, "\x1b[", "\b")
	if err != nil || off != 7 || k != 1 {
		t.Errorf("waitFor the erase = %d, %d, %v", off, k, err)
	}
	go func() { time.Sleep(10 * time.Millisecond); s.Write([]byte("later")) }()
	if off, _, err := s.waitFor(10, time.Second, "later"); err != nil || off != 10 {
		t.Errorf("waitFor a later piece = %d, %v", off, err)
	}
	if _, _, err := s.waitFor(0, 20*time.Millisecond, "never"); err == nil || !strings.Contains(err.Error(), "never") {
		t.Errorf("waitFor what never comes: %v", err)
	}
}

func TestFirstOf(t *testing.T) {
	if i, k := firstOf([]byte("ab\x1b[Kc\b"), []string{"\b", "\x1b["}); i != 2 || k != 1 {
		t.Errorf("firstOf = %d, %d", i, k)
	}
	if i, k := firstOf([]byte("abc"), []string{"x"}); i != -1 || k != -1 {
		t.Errorf("firstOf none = %d, %d", i, k)
	}
}

func TestEchoPause(t *testing.T) {
	seen := map[time.Duration]bool{}
	for i := 0; i < 50; i++ {
		p := echoPause(i)
		if p < 80*time.Millisecond || p >= 140*time.Millisecond {
			t.Errorf("pause %d = %v", i, p)
		}
		seen[p] = true
	}
	if len(seen) < 20 {
		t.Errorf("only %d different pauses in 50", len(seen))
	}
}

func TestEchoVerdictAndTable(t *testing.T) {
	floor := echoRun{Key: "floor", Shell: "floor", MS: []float64{5, 5, 5, 6, 10}}
	admin := echoRun{Key: "admin", Shell: "admin", MS: []float64{5.4, 5.5, 5.5, 6, 20}}
	root := echoRun{Key: "root", Shell: "root", MS: []float64{6, 6, 6, 7, 8}}
	if med, p90, met, ok := echoVerdict(admin, floor); !ok || !met || med != 1.1 || p90 != 2 {
		t.Errorf("admin: %v %v %v %v; want 1.1, 2, met", med, p90, met, ok)
	}
	if med, _, met, ok := echoVerdict(root, floor); !ok || met || med != 1.2 {
		t.Errorf("root: %v %v %v; want 1.2, missed", med, met, ok)
	}
	if _, _, _, ok := echoVerdict(root, echoRun{Key: "floor", Err: "timeout"}); ok {
		t.Error("a verdict against a failed floor")
	}
	if _, _, _, ok := echoVerdict(echoRun{}, floor); ok {
		t.Error("a verdict without keys")
	}
	out := echoTable([]echoRun{admin, root, floor, {Key: "gosh", Shell: "gosh", Err: "no prompt\nmore"}})
	for _, want := range []string{"| admin | 5 | 5.50 | 20.00 | 1.10 | 2.00 |", "| root | 5 | 6.00 | 8.00 | 1.20 | 0.80 |", "| floor | 5 | 5.00 | 10.00 | 1.00 | 1.00 |", "| gosh | failed: no prompt |"} {
		if !strings.Contains(out, want) {
			t.Errorf("echo table lacks %q:\n%s", want, out)
		}
	}
	if echoTable(nil) != "" {
		t.Error("a table without runs")
	}
	// Without a floor the ratios are n/a.
	if out := echoTable([]echoRun{admin}); !strings.Contains(out, "| admin | 5 | 5.50 | 20.00 | n/a | n/a |") {
		t.Errorf("no floor:\n%s", out)
	}
}

func TestRestartRows(t *testing.T) {
	hs := []hung{
		{RestartS: 2, ColdS: 16, Phases: []string{
			"[  19.890] ants: root system: stopping pid 136, which does not respond: its 9P connection broken",
			"[  19.905] ants: root system: stopped",
			"[  19.991] ants: root system: starting from 9p tcp!10.0.2.101!564 aname=/x (pid 188)",
			"[  21.000] ants: root system: 9p tcp!10.0.2.101!564 aname=/x mounted; its init /sbin/init starts (900 ms)",
		}, PhaseAt: []float64{0.01, 0.02, 0.1, 1.1}},
		{RestartS: 4, ColdS: 20, Phases: []string{"[ 1.0] ants: root system: stopped", "[ 1.1] ants: root system: starting from x"}, PhaseAt: []float64{0.04, 0.2}},
		{RestartS: 3, Err: "cold boot of the same root: timeout"},
		{RestartS: 3}, // no cold boot: no pair
	}
	if xs := restartRatios(hs); len(xs) != 2 || xs[0] != 0.125 || xs[1] != 0.2 {
		t.Errorf("restartRatios = %v", xs)
	}
	if at := phaseAt(hs[0]); at[0] != 0.02 || at[1] != 0.1 || at[2] != 1.1 {
		t.Errorf("phaseAt = %v", at)
	}
	if at := phaseAt(hs[1]); at[2] != -1 {
		t.Errorf("phaseAt without a mount line = %v", at)
	}
	out := restartRows(hs)
	for _, want := range []string{"QEMU start to \"demo root: up\", s | 18.00 [16.00–20.00] |", "pair by pair (goal ≤ 0.25) | 0.16 [0.12–0.20] |",
		"| 0.03 [0.02–0.04] / 0.15 [0.10–0.20] / 1.10 / 3.00 [2.00–4.00] |"} {
		if !strings.Contains(out, want) {
			t.Errorf("restart rows lack %q:\n%s", want, out)
		}
	}
}

func TestPhaseTimes(t *testing.T) {
	s := newStamped()
	s.Write([]byte("rootctl restart\r\n"))
	mark := s.Len()
	t0 := time.Now()
	s.Write([]byte("[  19.905] ants: root system: stopped\r\n[  19.991] ants: root"))
	time.Sleep(5 * time.Millisecond)
	s.Write([]byte(" system: starting from 9p (pid 188)\r\ndemo root: up\r\n"))
	lines, at := phaseTimes(s, mark, t0)
	if len(lines) != 2 || lines[0] != "[  19.905] ants: root system: stopped" || !strings.HasSuffix(lines[1], "(pid 188)") {
		t.Fatalf("lines = %q", lines)
	}
	// The second line is complete only with the second piece.
	if at[0] < 0 || at[1] < at[0]+0.004 {
		t.Errorf("at = %v", at)
	}
}

func TestReportGoals(t *testing.T) {
	r := &result{Quick: true, Images: []image{{Key: "A", Compressed: 1}},
		Hung:   []hung{{EscapeMS: 6, RestartS: 3, ColdS: 15}},
		Echo:   []echoRun{{Key: "admin", Shell: "admin", MS: []float64{6.6}}, {Key: "root", Shell: "root", MS: []float64{5.5}}, {Key: "floor", Shell: "floor", MS: []float64{5.2}}},
		Demo:   []demo{{Wall: 8, Guest: 4}, {Wall: 10, Guest: 5}, {Wall: 9, Guest: 4}},
		NFS:    []demo{{Wall: 11, Guest: 6}, {Wall: 11, Guest: 6}, {Err: "timeout"}},
		NineP:  []demo{{Wall: 12, Guest: 6}, {Wall: 12, Guest: 6}, {Wall: 12, Guest: 6}},
		Fleet:  []fleetRun{{N: 1, Wall: 11, Up: []float64{11}}, {N: 2, Wall: 9, Up: []float64{8, 9}}},
		MinMem: map[string]int{"A": 116, "B": 105, "C": 84}}
	out := report(r)
	for _, want := range []string{
		// Pair by pair: 11/8 and 11/10; the failed third boot is left out.
		"| NFS root ≤ 1.3× a disk root (wall, pair by pair) | 1.24 (11.00 s vs 9.00 s; guest clock 1.35) | met |",
		"| NFS root / disk root (issue 15, goal 2: ≤ 1.3), pair by pair: wall / guest | 1.24 [1.10–1.38] / 1.35 [1.20–1.50] |",
		// 12/8, 12/10, 12/9: the median pair, not the ratio of the medians.
		"| 9P root ≤ 1.3× a disk root (wall, pair by pair) | 1.33 (12.00 s vs 9.00 s; guest clock 1.50) | missed |",
		"| smallest -m reaching the prompt: A ≤ stock u-root's (issue 15, goal 5) | 116 MiB vs 105 MiB | missed |",
		"| restart of a hung root ≤ 0.25× a cold boot of the same root | 0.20 (restart 3.00 s, cold boot 15.00 s, medians) | met |",
		"| key echo, admin shell ≤ 1.1× the floor (median) | 6.60 ms vs 5.20 ms (1.27) | missed |",
		"| key echo, root console through the mux ≤ 1.1× the floor (median) | 5.50 ms vs 5.20 ms (1.06) | met |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	out = report(&result{Quick: true, Images: []image{{Key: "A", Compressed: 1}}})
	if strings.Contains(out, "goal 5") || strings.Contains(out, "demo root over NFS") ||
		!strings.Contains(out, "| NFS root ≤ 1.3× a disk root (wall, pair by pair) | not measured | not measured |") ||
		!strings.Contains(out, "| 9P root ≤ 1.3× a disk root (wall, pair by pair) | not measured | not measured |") {
		t.Errorf("goals reported without their boots:\n%s", out)
	}
	for _, want := range []string{"| key echo, admin shell ≤ 1.1× the floor (median) | not measured | not measured |", "a cold boot of the same root | 0.00 (restart 0.00 s, cold boot 0.00 s, medians) | not measured |"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestFloorShellImage writes the floor shell image of a small tree and checks its
// records: the tree under its own names, /init a link to the busybox, /dev/console.
func TestFloorShellImage(t *testing.T) {
	tree := t.TempDir()
	for _, d := range []string{"bin", "dev", "etc/init.d"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(tree, "bin/busybox"), []byte("\x7fELF"), 0o755)
	os.Symlink("busybox", filepath.Join(tree, "bin/sh"))
	os.WriteFile(filepath.Join(tree, "etc/profile"), []byte("PS1='demo# '\n"), 0o644)
	os.WriteFile(filepath.Join(tree, ".demoroot-done"), []byte("busybox-static 1\n"), 0o644)
	out := filepath.Join(t.TempDir(), "floorsh.cpio")
	if err := buildFloorShell(tree, out); err != nil {
		t.Fatal(err)
	}
	got := readCpio(t, out)
	link := func(name string) string {
		r := got[name]
		if r.Mode&cpio.S_IFMT != cpio.S_IFLNK || r.ReaderAt == nil {
			return ""
		}
		buf := make([]byte, r.FileSize)
		r.ReadAt(buf, 0)
		return string(buf)
	}
	if l := link("init"); l != "bin/busybox" {
		t.Errorf("init -> %q, want bin/busybox", l)
	}
	if l := link("bin/sh"); l != "busybox" {
		t.Errorf("bin/sh -> %q", l)
	}
	if r, ok := got["bin/busybox"]; !ok || r.Mode&0o111 == 0 || r.FileSize != 4 {
		t.Errorf("bin/busybox: %+v", r.Info)
	}
	if r, ok := got["dev/console"]; !ok || r.Rmajor != 5 || r.Rminor != 1 {
		t.Errorf("dev/console: %+v", r.Info)
	}
	if _, ok := got["etc/profile"]; !ok {
		t.Error("no etc/profile")
	}
	if _, ok := got[".demoroot-done"]; ok {
		t.Error("mkdemoroot's mark is in the image")
	}
	for name := range got {
		if strings.HasPrefix(name, "/") || strings.HasPrefix(name, "..") || strings.Contains(name, tree) {
			t.Errorf("record named %q", name)
		}
	}
}

// TestRelayShellImage checks the relay image: the floor's tree with the host's
// script(1) and its libraries, and an inittab of its own (one inittab record).
func TestRelayShellImage(t *testing.T) {
	for _, f := range scriptFiles {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("no %s on this host: %v", f, err)
		}
	}
	tree := t.TempDir()
	for _, d := range []string{"bin", "etc"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(tree, "bin/busybox"), []byte("\x7fELF"), 0o755)
	os.WriteFile(filepath.Join(tree, "etc/inittab"), []byte("::respawn:-/bin/sh\n"), 0o644)
	out := filepath.Join(t.TempDir(), "relay.cpio")
	files, err := relayFiles("script", "")
	if err != nil {
		t.Fatal(err)
	}
	const cmd = "/usr/bin/script -q -c sh /dev/null"
	if err := buildRelayShell(tree, out, cmd, files); err != nil {
		t.Fatal(err)
	}
	got := readCpio(t, out)
	raw, _ := os.ReadFile(out)
	if n := bytes.Count(raw, []byte("etc/inittab\x00")); n != 1 {
		t.Errorf("%d etc/inittab records, want 1 (the relay's in place of the tree's)", n)
	}
	for _, f := range scriptFiles {
		r, ok := got[strings.TrimPrefix(f, "/")]
		st, err := os.Stat(f)
		if !ok || err != nil || r.Mode&cpio.S_IFMT != cpio.S_IFREG || int64(r.FileSize) != st.Size() {
			t.Errorf("%s: %+v (host: %v)", f, r.Info, err)
		}
	}
	r, ok := got["etc/inittab"]
	if !ok {
		t.Fatal("no etc/inittab")
	}
	buf := make([]byte, r.FileSize)
	r.ReadAt(buf, 0)
	if string(buf) != relayInittab(cmd) || !strings.Contains(string(buf), "::respawn:"+cmd+"\n") {
		t.Errorf("etc/inittab is %q, want the relay's", buf)
	}
	if l, ok := got["init"]; !ok || l.Mode&cpio.S_IFMT != cpio.S_IFLNK {
		t.Error("no /init link")
	}
	// gorelay's image: the relay built for the guest, at the path its inittab runs.
	if testing.Short() {
		return
	}
	if err := os.Chdir("../.."); err != nil { // go build ./qemu/bench/gorelay from the module's root
		t.Fatal(err)
	}
	defer os.Chdir("qemu/bench")
	files, err = relayFiles("gorelay", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := buildRelayShell(tree, out, "/usr/bin/gorelay raw", files); err != nil {
		t.Fatal(err)
	}
	if r, ok := readCpio(t, out)["usr/bin/gorelay"]; !ok || r.Mode&0o111 == 0 || r.FileSize < 1<<20 {
		t.Errorf("usr/bin/gorelay: %+v", r.Info)
	}
}

// TestMain lets the test binary stand in for QEMU (BENCH_FAKE_SERIAL=1): a serial
// line that echoes each key at once, Backspace as "\b \b".
func TestMain(m *testing.M) {
	if os.Getenv("BENCH_FAKE_SERIAL") == "1" {
		fakeSerial()
		return
	}
	os.Exit(m.Run())
}

func fakeSerial() {
	b := make([]byte, 1)
	for {
		if _, err := os.Stdin.Read(b); err != nil {
			return
		}
		out := b
		if b[0] == 0x7f {
			out = []byte("\b \b")
		}
		os.Stdout.Write(out)
	}
}

// TestMeasureEchoHostPath types keys into a stand-in for QEMU that echoes at once:
// the echo times are then what the measuring path itself adds (the pipes, qvm's
// reader), far below the guests' 5 ms.
func TestMeasureEchoHostPath(t *testing.T) {
	t.Setenv("BENCH_FAKE_SERIAL", "1")
	rec := newStamped()
	vm, err := qvm.Start(qvm.Options{QEMU: os.Args[0], Kernel: "k", Initrd: "i", Console: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	n := 5
	if s := os.Getenv("BENCH_ECHO_KEYS"); s != "" {
		fmt.Sscan(s, &n)
	}
	ms, disturbed, err := measureEcho(vm, rec, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != n || disturbed != 0 {
		t.Fatalf("%d keys, %d disturbed: %v", len(ms), disturbed, ms)
	}
	st := stats(ms)
	t.Logf("host path: median %.3f ms, p90 %.3f ms, max %.3f ms over %d keys", st.Med, percentile(ms, 90), st.Max, st.N)
	if st.Med > 2 {
		t.Errorf("the measuring path alone takes %.2f ms a key", st.Med)
	}
}
