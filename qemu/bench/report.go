package main

import (
	"fmt"
	"sort"
	"strings"
)

// stat is the median and range of a sample.
type stat struct {
	N             int
	Med, Min, Max float64
}

func stats(xs []float64) stat {
	if len(xs) == 0 {
		return stat{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{N: len(s), Med: med, Min: s[0], Max: s[len(s)-1]}
}

// format shows a stat as "median [min–max]" with the given precision.
func (s stat) format(prec int) string {
	if s.N == 0 {
		return "n/a"
	}
	if s.N == 1 || s.Min == s.Max {
		return fmt.Sprintf("%.*f", prec, s.Med)
	}
	return fmt.Sprintf("%.*f [%.*f–%.*f]", prec, s.Med, prec, s.Min, prec, s.Max)
}

// measured boots of image k (round ≥ 1, no error).
func measured(bs []boot, k string) map[int]boot {
	m := map[int]boot{}
	for _, b := range bs {
		if b.Image == k && b.Round >= 1 && b.Err == "" {
			m[b.Round] = b
		}
	}
	return m
}

func field(m map[int]boot, f func(boot) float64) []float64 {
	var xs []float64
	for _, b := range m {
		xs = append(xs, f(b))
	}
	return xs
}

// ratios pairs the i-th boot of A with the i-th of the other image.
// nineGoal is issue 15's goal 2: a 9P root at most 1.3x a disk root (wall).
const nineGoal = 1.3

// ratioOf is the ratio of the medians of a and b, two decimals, or "n/a".
func ratioOf(a, b []float64) string {
	sa, sb := stats(a), stats(b)
	if sa.N == 0 || sb.N == 0 || sb.Med == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", sa.Med/sb.Med)
}

// pairs gives the good boots of net (a network root) and, for each whose round's
// disk boot (disk[i]) is good too, the ratios of their wall and guest times.
func pairs(net, disk []demo) (wall, guest, wallRatio, guestRatio []float64) {
	for i, n := range net {
		if n.Err != "" {
			continue
		}
		wall, guest = append(wall, n.Wall), append(guest, n.Guest)
		if i < len(disk) && disk[i].Err == "" && disk[i].Wall > 0 && disk[i].Guest > 0 {
			wallRatio, guestRatio = append(wallRatio, n.Wall/disk[i].Wall), append(guestRatio, n.Guest/disk[i].Guest)
		}
	}
	return
}

func ratios(a, o map[int]boot, f func(boot) float64) []float64 {
	var xs []float64
	for i, ba := range a {
		bo, ok := o[i]
		if ok && f(bo) > 0 {
			xs = append(xs, f(ba)/f(bo))
		}
	}
	return xs
}

func mib(k int64) string { return fmt.Sprintf("%.1f MiB", float64(k)/(1<<20)) }

func report(r *result) string {
	var w strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&w, f, a...) }
	A, B, C := measured(r.Boots, "A"), measured(r.Boots, "B"), measured(r.Boots, "C")
	mode := fmt.Sprintf("N=%d after %d warm-up", r.N, r.Warmup)
	if r.Quick {
		mode = fmt.Sprintf("QUICK=1 or -only: N=%d, no warm-up, no memory bisection, no build timing", r.N)
		if r.DebianErr != "" {
			mode += ", no Debian image"
		}
	}
	p("## ants boot benchmark\n\n%s; kernel %s; %s; %s. Medians [min–max]; ratios are pair by pair (the i-th boot of each).\n\n", r.Date, r.Kernel, r.Machine, mode)

	wall := func(b boot) float64 { return b.Wall }
	guest := func(b boot) float64 { return b.Guest }
	over := func(b boot) float64 { return b.Overhead }
	p("| figure | A: ants | B: stock u-root | C: kernel floor | A/B | A/C |\n|---|---|---|---|---|---|\n")
	p("| wall s, QEMU start to prompt | %s | %s | %s | %s | %s |\n",
		stats(field(A, wall)).format(2), stats(field(B, wall)).format(2), stats(field(C, wall)).format(2),
		stats(ratios(A, B, wall)).format(2), stats(ratios(A, C, wall)).format(2))
	p("| guest s, kernel uptime at prompt | %s | %s | %s | %s | %s |\n",
		stats(field(A, guest)).format(2), stats(field(B, guest)).format(2), stats(field(C, guest)).format(2),
		stats(ratios(A, B, guest)).format(2), stats(ratios(A, C, guest)).format(2))
	p("| init overhead s (prompt − /init run) | %s | %s | 0 (by definition) | %s | n/a |\n",
		stats(field(A, over)).format(2), stats(field(B, over)).format(2), stats(ratios(A, B, over)).format(2))
	p("| A: uptime s when the boot scripts are done (behind the prompt) / − /init run | %s / %s | | | | |\n",
		stats(field(A, func(b boot) float64 { return b.ScriptsEnd })).format(2),
		stats(field(A, func(b boot) float64 { return b.ScriptsEnd - b.InitStart })).format(2))
	p("| /init run at, kernel uptime s | %s | %s | %s | | |\n",
		stats(field(A, func(b boot) float64 { return b.InitStart })).format(2),
		stats(field(B, func(b boot) float64 { return b.InitStart })).format(2),
		stats(field(C, func(b boot) float64 { return b.InitStart })).format(2))
	rssF := func(m map[int]boot, f func(boot) int) string {
		return stats(field(m, func(b boot) float64 { return float64(f(b)) / 1024 })).format(1)
	}
	pid1 := func(b boot) int { return b.RSSPID1KiB }
	sh := func(b boot) int { return b.RSSShKiB }
	p("| RSS of PID 1, MiB | %s | %s | n/a | | |\n", rssF(A, pid1), rssF(B, pid1))
	p("| RSS of the shell, MiB | %s (antsh) | %s (gosh) | n/a | | |\n", rssF(A, sh), rssF(B, sh))
	mem := func(k string) string {
		if r.MinMem == nil {
			return "not measured"
		}
		if r.MinMem[k] == 0 {
			return "> 256"
		}
		return fmt.Sprintf("%d", r.MinMem[k])
	}
	p("| smallest -m reaching the prompt, MiB | %s | %s | %s | | |\n\n", mem("A"), mem("B"), mem("C"))

	p("| image | compressed | uncompressed | compressed vs A |\n|---|---|---|---|\n")
	var deb *image
	for i := range r.Images {
		im := r.Images[i]
		if im.Key == "D" {
			deb = &r.Images[i]
		}
		note := ""
		if im.Note != "" {
			note = " (" + im.Note + ")"
		}
		p("| %s: %s%s | %s | %s | %.2f× |\n", im.Key, im.Name, note, mib(im.Compressed), mib(im.Raw), float64(im.Compressed)/float64(r.Images[0].Compressed))
	}
	if deb == nil {
		p("| D: Debian initramfs-tools (reference) | n/a | n/a | %s |\n", r.DebianErr)
	}
	p("\n")

	var dw, dg []float64
	for _, d := range r.Demo {
		if d.Err == "" {
			dw, dg = append(dw, d.Wall), append(dg, d.Guest)
		}
	}
	var he, hr, hb, hg []float64
	for _, h := range r.Hung {
		if h.Err == "" {
			he, hr, hb = append(he, h.EscapeMS), append(hr, h.RestartS), append(hb, h.BootWall)
			if h.BootGuest > 0 {
				hg = append(hg, h.BootGuest)
			}
		}
	}
	p("| ants only | value |\n|---|---|\n")
	p("| demo root from disk: wall s to \"demo root: up\" (%d boots) | %s |\n", len(dw), stats(dw).format(2))
	p("| demo root from disk: guest s (uptime) at \"demo root: up\" | %s |\n", stats(dg).format(2))
	nicName := r.NIC
	if nicName == "" {
		nicName = "e1000, QEMU's default"
	}
	nw, ng, nwr, ngr := pairs(r.NFS, r.Demo)
	if len(r.NFS) > 0 {
		p("| demo root over NFS from nfs-ganesha (NIC: %s), alternated with the disk: wall s to \"demo root: up\" (%d boots) | %s |\n", nicName, len(nw), stats(nw).format(2))
		p("| demo root over NFS: guest s (uptime) at \"demo root: up\" | %s |\n", stats(ng).format(2))
		p("| NFS root / disk root (issue 15, goal 2: ≤ %.1f), pair by pair: wall / guest | %s / %s |\n", nineGoal, stats(nwr).format(2), stats(ngr).format(2))
	}
	pw, pg, pwr, pgr := pairs(r.NineP, r.Demo)
	if len(r.NineP) > 0 {
		p("| demo root over 9P from diod (NIC: %s), alternated with the disk: wall s to \"demo root: up\" (%d boots) | %s |\n", nicName, len(pw), stats(pw).format(2))
		p("| demo root over 9P: guest s (uptime) at \"demo root: up\" | %s |\n", stats(pg).format(2))
		p("| 9P root / disk root (issue 15, goal 2: ≤ %.1f), pair by pair: wall / guest | %s / %s |\n", nineGoal, stats(pwr).format(2), stats(pgr).format(2))
	}
	p("| hung root's first boot, 9P from diod (NIC: %s): wall s to \"demo root: up\" (%d boots) | %s |\n", nicName, len(hb), stats(hb).format(2))
	p("| hung root's first boot: guest s (uptime) at \"demo root: up\" | %s |\n", stats(hg).format(2))
	p("| hung root's first boot / disk root, medians (not alternated): wall / guest | %s / %s |\n", ratioOf(hb, dw), ratioOf(hg, dg))
	p("| hung root: Ctrl-] a to \"[ants: admin shell;\", ms | %s |\n", stats(he).format(0))
	p("| hung root: rootctl restart (second diod) to \"demo root: up\", s | %s |\n", stats(hr).format(2))
	p("%s", restartRows(r.Hung))
	if r.Quick {
		p("| build: make all from no image / after touching one .go file, s | not measured (QUICK=1) |\n\n")
	} else if r.BuildErr != "" {
		p("| build: make all | failed: %s |\n\n", firstLine(r.BuildErr))
	} else {
		p("| build: make all from no image (Go cache warm), s | %.1f |\n| build: make all after touching cmds/admin/main.go, s | %.1f |\n\n", r.BuildClean, r.BuildIncr)
	}

	p("%s", fleetTable(r.Fleet, r.NIC))
	p("%s", driversReport(r))
	p("%s", debTable(r.DebBoot))
	p("%s", echoTable(r.Echo))

	// Goals from the issue: shown, never asserted.
	p("| goal | measured | |\n|---|---|---|\n")
	goal := func(name, got string, met, known bool) {
		v := "missed"
		if !known {
			v = "not measured"
		} else if met {
			v = "met"
		}
		p("| %s | %s | %s |\n", name, got, v)
	}
	oa, ob := stats(field(A, over)), stats(field(B, over))
	goal("init overhead of A ≤ B's", fmt.Sprintf("%.2f s vs %.2f s", oa.Med, ob.Med), oa.Med <= ob.Med, oa.N > 0 && ob.N > 0)
	goal("init overhead of A < 0.5 s on TCG", fmt.Sprintf("%.2f s", oa.Med), oa.Med < 0.5, oa.N > 0)
	wab := stats(ratios(A, B, func(b boot) float64 { return b.Wall }))
	goal("admin prompt without a key no later than stock u-root's (wall A/B, pair by pair)", fmt.Sprintf("%.2f", wab.Med), wab.Med <= 1.0, wab.N > 0)
	if deb != nil {
		goal("compressed A ≤ ⅓ of Debian's initramfs-tools image", fmt.Sprintf("%s vs %s (%.2f)", mib(r.Images[0].Compressed), mib(deb.Compressed), float64(r.Images[0].Compressed)/float64(deb.Compressed)),
			3*r.Images[0].Compressed <= deb.Compressed, true)
	} else {
		goal("compressed A ≤ ⅓ of Debian's initramfs-tools image", "n/a: "+firstLine(r.DebianErr), false, false)
	}
	if r.MinMem != nil {
		goal("admin prompt with -m 128 or less", mem("A")+" MiB", r.MinMem["A"] > 0 && r.MinMem["A"] <= 128, true)
		goal("smallest -m reaching the prompt: A ≤ stock u-root's (issue 15, goal 5)", fmt.Sprintf("%s MiB vs %s MiB", mem("A"), mem("B")),
			r.MinMem["A"] > 0 && r.MinMem["B"] > 0 && r.MinMem["A"] <= r.MinMem["B"], r.MinMem["A"] > 0 && r.MinMem["B"] > 0)
	} else {
		goal("admin prompt with -m 128 or less", "not measured", false, false)
	}
	ra := stats(field(A, func(b boot) float64 { return float64(b.RSSPID1KiB) / 1024 }))
	goal("PID 1 RSS < 16 MiB", fmt.Sprintf("%.1f MiB", ra.Med), ra.Med < 16, ra.N > 0)
	es := stats(he)
	goal("escape key to admin prompt < 0.3 s, root hung", fmt.Sprintf("%.0f ms", es.Med), es.Med < 300, es.N > 0)
	rr := stats(restartRatios(r.Hung))
	goal(fmt.Sprintf("restart of a hung root ≤ %.2f× a cold boot of the same root", restartGoal),
		fmt.Sprintf("%.2f (restart %.2f s, cold boot %.2f s, medians)", rr.Med, stats(hr).Med, stats(coldBoots(r.Hung)).Med), rr.Med <= restartGoal, rr.N > 0)
	dwm := stats(dw)
	// Goal 2: each network root beside the disk boot of the same round.
	for _, g := range []struct {
		name  string
		w, wr []float64
		gr    []float64
	}{{"9P", pw, pwr, pgr}, {"NFS", nw, nwr, ngr}} {
		name := fmt.Sprintf("%s root ≤ %.1f× a disk root (wall, pair by pair)", g.name, nineGoal)
		if ws := stats(g.wr); ws.N > 0 {
			goal(name, fmt.Sprintf("%.2f (%.2f s vs %.2f s; guest clock %.2f)", ws.Med, stats(g.w).Med, dwm.Med, stats(g.gr).Med), ws.Med <= nineGoal, true)
		} else {
			goal(name, "not measured", false, false)
		}
	}
	if len(r.DebBoot) > 0 {
		name := fmt.Sprintf("Debian (systemd) from disk to multi-user: ants ≤ %.1fx Debian's initramfs-tools", debGoal)
		med, met, ok := debVerdict(r.DebBoot)
		got := "not measured: no pair of boots reached multi-user"
		if ok {
			A, D := debRounds(r.DebBoot, "A"), debRounds(r.DebBoot, "D")
			wall := func(d debRun) float64 { return d.Wall }
			got = fmt.Sprintf("%.2f (ants %.2f s, Debian %.2f s, medians)", med, stats(debField(A, wall)).Med, stats(debField(D, wall)).Med)
		}
		goal(name, got, met, ok)
	}
	var floor echoRun
	for _, e := range r.Echo {
		if e.Key == "floor" {
			floor = e
		}
	}
	for _, k := range []struct{ key, name string }{{"admin", "admin shell"}, {"root", "root console through the mux"}} {
		name := fmt.Sprintf("key echo, %s ≤ %.1f× the floor (median)", k.name, echoGoal)
		var e echoRun
		for _, x := range r.Echo {
			if x.Key == k.key {
				e = x
			}
		}
		med, _, met, ok := echoVerdict(e, floor)
		got := "not measured"
		if ok {
			got = fmt.Sprintf("%.2f ms vs %.2f ms (%.2f)", stats(e.MS).Med, stats(floor.MS).Med, med)
		}
		goal(name, got, met, ok)
	}
	p("\nTotal run: %.0f s.\n", r.Seconds)
	return w.String()
}

// coldBoots are the cold boots of the hung-root runs that measured one.
func coldBoots(hs []hung) []float64 {
	var xs []float64
	for _, h := range hs {
		if h.Err == "" && h.ColdS > 0 {
			xs = append(xs, h.ColdS)
		}
	}
	return xs
}

// fleetTable shows the fleet runs (N guests at once from one NFS export), and the
// cost of one more guest: the slope over N of the wall time and the server's CPU.
func fleetTable(runs []fleetRun, nic string) string {
	if len(runs) == 0 {
		return ""
	}
	var w strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&w, f, a...) }
	if nic == "" {
		nic = "e1000, QEMU's default"
	}
	p("| fleet: guests at once, one NFS export (nfs-ganesha), ants.overlay=tmpfs, NIC: %s | wall s, first QEMU start to all roots up | each root up at, s | ganesha CPU s (utime+stime) | ganesha CPU s per guest |\n|---|---|---|---|---|\n", nic)
	for _, f := range runs {
		if f.Err != "" {
			p("| %d | failed: %s | | | |\n", f.N, firstLine(f.Err))
			continue
		}
		ups := make([]string, len(f.Up))
		for i, u := range f.Up {
			ups[i] = fmt.Sprintf("%.1f", u)
		}
		p("| %d | %.2f | %s | %.2f | %.3f |\n", f.N, f.Wall, strings.Join(ups, ", "), f.ServerCPU, f.ServerCPU/float64(f.N))
	}
	wall, ok := fleetSlope(runs, func(f fleetRun) float64 { return f.Wall })
	cpu, _ := fleetSlope(runs, func(f fleetRun) float64 { return f.ServerCPU })
	if ok {
		p("| one more guest (least-squares slope over N) | +%.2f s | | +%.3f s | |\n", wall, cpu)
	}
	p("\n")
	return w.String()
}
