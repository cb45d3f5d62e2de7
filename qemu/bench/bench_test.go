package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

func TestStats(t *testing.T) {
	s := stats([]float64{3, 1, 2})
	if s.Med != 2 || s.Min != 1 || s.Max != 3 || s.N != 3 {
		t.Errorf("stats(3,1,2) = %+v", s)
	}
	if s := stats([]float64{4, 1, 2, 3}); s.Med != 2.5 {
		t.Errorf("even median = %v, want 2.5", s.Med)
	}
	if got := stats(nil).format(2); got != "n/a" {
		t.Errorf("empty = %q", got)
	}
	if got := stats([]float64{1.5, 2.25, 3}).format(2); got != "2.25 [1.50–3.00]" {
		t.Errorf("format = %q", got)
	}
}

func TestRatiosPairByPair(t *testing.T) {
	a := map[int]boot{1: {Wall: 4}, 2: {Wall: 9}, 3: {Wall: 6}}
	b := map[int]boot{1: {Wall: 2}, 2: {Wall: 3}} // round 3 of B failed
	got := stats(ratios(a, b, func(b boot) float64 { return b.Wall }))
	if got.N != 2 || got.Min != 2 || got.Max != 3 {
		t.Errorf("ratios = %+v, want 2 pairs, 2..3", got)
	}
}

func TestBisect(t *testing.T) {
	for _, need := range []int{20, 32, 33, 97, 128, 200, 256} {
		var tried []int
		got := bisect(32, 256, 4, func(m int) bool { tried = append(tried, m); return m >= need })
		want := need
		if need < 32 {
			want = 32
		}
		if got < want || got > want+4 {
			t.Errorf("need %d: got %d (tried %v)", need, got, tried)
		}
		if len(tried) > 9 {
			t.Errorf("need %d: %d trials", need, len(tried))
		}
	}
	if got := bisect(32, 256, 4, func(int) bool { return false }); got != 0 {
		t.Errorf("never: %d", got)
	}
}

func TestParse(t *testing.T) {
	if m := reRunInit.FindStringSubmatch("<6>[    1.934322] Run /init as init process\r\n"); m == nil || atof(m[1]) != 1.934322 {
		t.Errorf("Run /init: %v", m)
	}
	if m := reRSS.FindStringSubmatch("VmRSS:\t    5580 kB\r\n"); m == nil || m[1] != "5580" {
		t.Errorf("VmRSS: %v", m)
	}
}

func TestURootCommands(t *testing.T) {
	if err := os.Chdir("../.."); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir("qemu/bench")
	cmds, err := uRootCommands()
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) == 0 {
		t.Fatal("no u-root commands in initramfs/commands.txt")
	}
	for _, c := range cmds {
		if !strings.HasPrefix(c, "github.com/u-root/u-root/cmds/") {
			t.Errorf("not a u-root command: %q", c)
		}
	}
}

// TestFloorImage builds image C and checks its records: /init, /dev/console 5:1.
func TestFloorImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go binary")
	}
	if err := os.Chdir("../.."); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir("qemu/bench")
	im, err := buildFloor(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got := readCpio(t, im.Path)
	if r, ok := got["init"]; !ok || r.Mode&0o111 == 0 || r.FileSize == 0 {
		t.Errorf("no executable /init: %+v", r.Info)
	}
	if r, ok := got["dev/console"]; !ok || r.Rmajor != 5 || r.Rminor != 1 {
		t.Errorf("/dev/console: %+v", r.Info)
	}
}

func TestReportQuick(t *testing.T) {
	r := &result{Quick: true, N: 1, Images: []image{{Key: "A", Compressed: 6 << 20, Raw: 20 << 20}, {Key: "B", Compressed: 2 << 20}, {Key: "C", Compressed: 1 << 20}},
		DebianErr: "not built with QUICK=1",
		Boots: []boot{{Image: "A", Round: 1, Wall: 8, Guest: 4, Overhead: 2, RSSPID1KiB: 5000},
			{Image: "B", Round: 1, Wall: 5, Guest: 2, Overhead: 0.4}, {Image: "C", Round: 1, Wall: 4, Guest: 2}},
		Hung: []hung{{EscapeMS: 10}}}
	out := report(r)
	for _, want := range []string{"| wall s, QEMU start to prompt | 8.00 | 5.00 | 4.00 | 1.60 | 2.00 |", "| init overhead of A ≤ B's | 2.00 s vs 0.40 s | missed |",
		"| escape key to admin prompt < 0.3 s, root hung | 10 ms | met |", "not measured"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestFleet(t *testing.T) {
	if ns, err := parseFleet("1, 2,4"); err != nil || fmt.Sprint(ns) != "[1 2 4]" {
		t.Errorf("parseFleet: %v, %v", ns, err)
	}
	if ns, err := parseFleet("0"); err != nil || len(ns) != 0 {
		t.Errorf("parseFleet(0): %v, %v", ns, err)
	}
	if _, err := parseFleet("1,x"); err == nil {
		t.Error("parseFleet(1,x): no error")
	}
	runs := []fleetRun{{N: 1, Wall: 20, Up: []float64{20}, ServerCPU: 0.5}, {N: 2, Wall: 30, Up: []float64{28, 30}, ServerCPU: 1.0},
		{N: 4, Wall: 50, Up: []float64{40, 45, 48, 50}, ServerCPU: 2.0}, {N: 8, Err: "gnot7: timeout"}}
	if s, ok := fleetSlope(runs, func(f fleetRun) float64 { return f.Wall }); !ok || s != 10 {
		t.Errorf("wall slope %v, %v; want 10", s, ok)
	}
	if _, ok := fleetSlope(runs[:1], func(f fleetRun) float64 { return f.Wall }); ok {
		t.Error("a slope from one run")
	}
	out := fleetTable(runs, "")
	for _, want := range []string{"| 2 | 30.00 | 28.0, 30.0 | 1.00 | 0.500 |", "| 8 | failed: gnot7: timeout |", "| one more guest (least-squares slope over N) | +10.00 s | | +0.500 s | |"} {
		if !strings.Contains(out, want) {
			t.Errorf("fleet table lacks %q:\n%s", want, out)
		}
	}
	if fleetTable(nil, "") != "" {
		t.Error("a table without runs")
	}
}

func TestPicture(t *testing.T) {
	log := "[   2.949] ants: init started: kernel 6.1\n[   3.152] ants: admin shell on ttyS0\n[   5.205] boot: ran /lib/boot/10-modules.sh (1472 ms)\n"
	r := &result{Boots: []boot{
		{Image: "A", Round: 1, Guest: 5.5, InitStart: 2.9, BootLog: log},
		{Image: "B", Round: 1, Guest: 4.1, InitStart: 2.8},
		{Image: "C", Round: 1, Err: "timed out"},
	}}
	path := filepath.Join(t.TempDir(), "boot.svg")
	if err := picture(r, path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for _, w := range []string{"ants (5.50 s)", "stock u-root (4.10 s)", "10-modules", ">prompt 5.50 s<", ">prompt 4.10 s<"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("boot.svg has no %q", w)
		}
	}
	if strings.Contains(string(b), "floor") {
		t.Errorf("a failed boot was drawn")
	}
	if err := picture(&result{}, path); err == nil {
		t.Errorf("no boots: no error")
	}
}

func TestDriversReport(t *testing.T) {
	if driversReport(&result{}) != "" {
		t.Errorf("a table without a drivers run")
	}
	r := &result{
		Images: []image{{Key: "A", Compressed: 12 << 20, Raw: 24 << 20}, {Key: "A-", Compressed: 10 << 20, Raw: 20 << 20}},
		Drivers: []driversRun{
			{Image: "A", Round: 1, Wall: 6, Guest: 4.4}, {Image: "A-", Round: 1, Wall: 5, Guest: 4.0},
			{Image: "A", Round: 2, Wall: 6, Guest: 4.4}, {Image: "A-", Round: 2, Err: "timed out"},
		},
	}
	s := driversReport(r)
	for _, w := range []string{"| compressed image | 12.0 MiB | 10.0 MiB | 1.20× (+2.0 MiB) |", "(1 pairs)", "1.100", "0.40"} {
		if !strings.Contains(s, w) {
			t.Errorf("drivers table has no %q:\n%s", w, s)
		}
	}
}

// readCpio reads a newc archive's records by their cleaned names.
func readCpio(t *testing.T, path string) map[string]cpio.Record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]cpio.Record{}
	for _, r := range recs {
		got[filepath.Clean(r.Name)] = r
	}
	return got
}
