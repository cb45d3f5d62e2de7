package main

import (
	"math"
	"strings"
	"testing"
)

func TestParseSpan(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
	}{{"2.345s", 2.345}, {"567ms", 0.567}, {"1min 2.5s", 62.5}, {"1h 2min 3s", 3723}, {"800us", 0.0008}} {
		if got, err := parseSpan(c.in); err != nil || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("parseSpan(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "2.3", "3 parsecs"} {
		if _, err := parseSpan(bad); err == nil {
			t.Errorf("parseSpan(%q): no error", bad)
		}
	}
}

func TestParseStartup(t *testing.T) {
	// Debian's initramfs-tools: systemd cannot tell the initramfs from the kernel.
	out := "systemd-analyze\r\nStartup finished in 6.120s (kernel) + 1min 2.345s (userspace) = 1min 8.465s \r\ngraphical.target reached after 1min 1.900s in userspace.\r\n"
	parts, line, target, at := parseStartup(out)
	if math.Abs(parts["kernel"]-6.12) > 1e-9 || math.Abs(parts["userspace"]-62.345) > 1e-9 || len(parts) != 2 {
		t.Errorf("parts = %v", parts)
	}
	if !strings.HasPrefix(line, "Startup finished in 6.120s") || strings.ContainsAny(line, "\r\n") {
		t.Errorf("line = %q", line)
	}
	if target != "graphical.target" || math.Abs(at-61.9) > 1e-9 {
		t.Errorf("target = %q at %v", target, at)
	}
	// In a container only userspace; and a boot not yet finished.
	if parts, _, _, _ := parseStartup("Startup finished in 40.2s (userspace) = 40.2s\n"); parts["userspace"] != 40.2 || parts["kernel"] != 0 {
		t.Errorf("container parts = %v", parts)
	}
	if parts, line, _, _ := parseStartup("Bootup is not yet finished.\n"); parts != nil || line != "" {
		t.Errorf("unfinished: %v %q", parts, line)
	}
}

func TestAntsLines(t *testing.T) {
	con := "[    2.01] ants: init started: kernel 6.1\r\n[   9.250] ants: root system: disk LABEL=benchdeb mounted; its init /sbin/init starts (310 ms)\r\nWelcome to Debian\r\n"
	if m := reRootInit.FindStringSubmatch(con); m == nil || atof(m[1]) != 9.25 {
		t.Errorf("root init: %v", m)
	}
	if got := reAntsLine.FindAllString(con, -1); len(got) != 2 || strings.ContainsAny(got[1], "\r\n") {
		t.Errorf("ants lines: %q", got)
	}
}

func TestDebReport(t *testing.T) {
	if debTable(nil) != "" {
		t.Error("a table without runs")
	}
	rs := []debRun{
		{Image: "A", Round: 1, Wall: 50, PromptWall: 51, Guest: 45, RootInit: 10},
		{Image: "D", Round: 1, Wall: 40, PromptWall: 42, Guest: 36, RootInit: 8, Analyze: "Startup finished in 8s (kernel) + 28s (userspace) = 36s",
			Target: "graphical.target", TargetAt: 27.5},
		{Image: "A", Round: 2, Wall: 60, Guest: 55},
		{Image: "D", Round: 2, Wall: 50, Guest: 46},
		{Image: "A", Round: 3, Wall: 30},
		{Image: "D", Round: 3, Err: "timed out"}, // no pair for round 3
		{Image: "A9P", Round: 1, Wall: 90, Guest: 85},
	}
	med, met, ok := debVerdict(rs)
	if !ok || met || math.Abs(med-(1.25+1.2)/2) > 1e-9 {
		t.Errorf("verdict = %v, %v, %v; want 1.225, missed", med, met, ok)
	}
	s := debTable(rs)
	for _, w := range []string{"(2 pairs, 1 9P boots)", "| 50.00 [30.00–60.00] | 45.00 [40.00–50.00] | 1.23 [1.20–1.25] | 90.00 |",
		"| its systemd's start to multi-user, s (guest − the above) | 35.00 | 28.00 | 1.25 |", "systemd-analyze, D round 1 | Startup finished in 8s", "| systemd-analyze: graphical.target reached after, s (userspace) | n/a | 27.50 | n/a | n/a |", "| D round 3 | failed: timed out |"} {
		if !strings.Contains(s, w) {
			t.Errorf("debboot table has no %q:\n%s", w, s)
		}
	}
	r := &result{Quick: true, Images: []image{{Key: "A", Compressed: 1}}, DebBoot: rs}
	if out := report(r); !strings.Contains(out, "ants ≤ 1.0x Debian's initramfs-tools | 1.23 (ants 50.00 s, Debian 45.00 s, medians) | missed |") {
		t.Errorf("report lacks the debboot goal:\n%s", out)
	}
	if _, _, ok := debVerdict(rs[4:]); ok {
		t.Error("a verdict without a pair")
	}
}
