package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ants/ants/internal/qvm"
)

// The debboot part (issue 15, goal 6): Debian bookworm with systemd (qvm.DebianRoot,
// qemu/mkdebroot.sh) booted from one ext4 disk image to multi-user, by ants (A) and
// by Debian's own initramfs-tools image (D, buildDebian: the same kernel release),
// alternately, pair by pair; then by ants over 9P from diod (no Debian counterpart).
// Both disk boots have the same kernel, -m, -smp and virtio-blk drive, with
// -snapshot so that each starts from the same disk.

const (
	debGoal     = 1.0  // ants at most 1.0x Debian's initramfs-tools, QEMU start to multi-user
	debMaxPairs = 3    // a pair and what is read after its boots: about 1.5 minutes under TCG
	debMem      = 1024 // MiB, as TestDebianDiskRoot
	debTimeout  = 300 * time.Second
	debLabel    = "benchdeb"
	// debReady is ants-ready.service's line on /dev/console (mkdebroot.sh): a oneshot
	// wanted by multi-user.target, which a target orders itself after, so the line
	// comes just before multi-user.target is reached. The same unit runs under
	// either initramfs: the end point is one line of the same root.
	debReady = "ants-debian: multi-user reached"
	// debPrompt is the root shell of console-getty's autologin (mkdebroot.sh).
	debPrompt = "root@debian:~# "
)

// debRun is one boot of the Debian root to multi-user.
type debRun struct {
	Image string  `json:"image"` // "A" (ants, disk), "D" (Debian's initramfs-tools, disk), "A9P" (ants, 9P)
	Round int     `json:"round"`
	Wall  float64 `json:"wall_s"` // QEMU start to debReady on the console (host clock)
	// PromptWall is QEMU start to the autologin shell's first prompt.
	PromptWall float64 `json:"prompt_wall_s"`
	// Guest is the kernel uptime at debReady: /proc/uptime typed at the prompt, less
	// the host time since debReady arrived.
	Guest float64 `json:"guest_s"`
	// InitRun is the kernel's "Run /init as init process" stamp (dmesg; 0 when the
	// root may not read the kernel log).
	InitRun float64 `json:"init_run_s,omitempty"`
	// RootInit is the kernel uptime when the root's systemd started: for ants PID
	// 1's "mounted; its init ... starts" line, for Debian systemd-analyze's
	// "(kernel)" part (the kernel and initramfs-tools, which systemd cannot tell apart).
	RootInit float64 `json:"root_init_s,omitempty"`
	// Analyze is systemd-analyze's "Startup finished" line, once the boot's jobs
	// are done (systemctl is-system-running --wait), and the parts read from it.
	Analyze   string  `json:"systemd_analyze,omitempty"`
	Userspace float64 `json:"systemd_userspace_s,omitempty"`
	// Target is systemd's default target (graphical.target here, which follows
	// multi-user) and its "reached after" in userspace.
	Target   string  `json:"systemd_target,omitempty"`
	TargetAt float64 `json:"systemd_target_s,omitempty"`
	// Steps are ants' PID 1 lines on the console (kernel-stamped), and BootLog its
	// /run/ants/boot.log read from the admin shell after the end point (each boot
	// script's time), for where the time goes.
	Steps   []string `json:"ants_steps,omitempty"`
	BootLog string   `json:"ants_boot_log,omitempty"`
	// Later is why what is read after the figures (dmesg, systemd-analyze, the
	// boot log) is missing; the figures stand.
	Later string `json:"later_error,omitempty"`
	Err   string `json:"error,omitempty"`
}

var (
	reAntsLine = regexp.MustCompile(`\[\s*([0-9.]+)\] ants: [^\r\n]*`)
	reRootInit = regexp.MustCompile(`\[\s*([0-9.]+)\] ants: root system: [^\r\n]* mounted; its init `)
	reStartup  = regexp.MustCompile(`Startup finished in [^\r\n]*`)
	reTarget   = regexp.MustCompile(`(\S+\.target) reached after ([^\r\n]*?) in userspace`)
	reSpanPart = regexp.MustCompile(`([0-9][0-9a-z. ]*?) \((\w+)\)`)
)

// parseSpan reads a systemd time span, as "1min 2.345s", "567ms" or "1h 2min 3s".
func parseSpan(s string) (float64, error) {
	units := []struct {
		suf string
		sec float64
	}{{"min", 60}, {"ms", 1e-3}, {"us", 1e-6}, {"µs", 1e-6}, {"h", 3600}, {"s", 1}}
	total := 0.0
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, fmt.Errorf("empty time span")
	}
	for _, w := range f {
		ok := false
		for _, u := range units {
			if num, cut := strings.CutSuffix(w, u.suf); cut {
				v, err := strconv.ParseFloat(num, 64)
				if err != nil {
					continue
				}
				total += v * u.sec
				ok = true
				break
			}
		}
		if !ok {
			return 0, fmt.Errorf("time span %q: %q has no unit known here", s, w)
		}
	}
	return total, nil
}

// parseStartup reads systemd-analyze's output: its parts ("kernel", "initrd",
// "userspace", ...) in seconds, the "Startup finished" line, and multi-user's time
// and when its default target was reached in userspace (none if not shown).
func parseStartup(out string) (parts map[string]float64, line, target string, at float64) {
	line = strings.TrimSpace(reStartup.FindString(out))
	if line == "" {
		return nil, "", "", 0
	}
	parts = map[string]float64{}
	// Only the sum before "=" has named parts.
	sum, _, _ := strings.Cut(strings.TrimPrefix(line, "Startup finished in "), "=")
	for _, m := range reSpanPart.FindAllStringSubmatch(sum, -1) {
		if v, err := parseSpan(strings.TrimPrefix(strings.TrimSpace(m[1]), "+ ")); err == nil {
			parts[m[2]] = v
		}
	}
	if m := reTarget.FindStringSubmatch(out); m != nil {
		target = m[1]
		at, _ = parseSpan(m[2])
	}
	return parts, line, target, at
}

// bootDebian boots one Debian root to multi-user and reads what it can cheaply at
// the prompt. debReady and the prompt are found in the console stream stamped on
// arrival, in whichever order they come.
func bootDebian(s *session, o qvm.Options, img string) (debRun, error) {
	d := debRun{Image: img}
	rec := newStamped()
	o.Console, o.MemMiB = rec, debMem
	start := time.Now()
	vm, err := s.start(o)
	if err != nil {
		return d, err
	}
	ready, _, err := rec.waitFor(0, debTimeout, debReady)
	if err != nil {
		return d, fmt.Errorf("waiting for multi-user (%q from ants-ready.service): %w", debReady, err)
	}
	tReady := rec.at(ready + len(debReady) - 1)
	d.Wall = tReady.Sub(start).Seconds()
	prompt, _, err := rec.waitFor(0, debTimeout, debPrompt)
	if err != nil {
		return d, fmt.Errorf("waiting for the autologin prompt: %w", err)
	}
	d.PromptWall = rec.at(prompt + len(debPrompt) - 1).Sub(start).Seconds()
	p := regexp.QuoteMeta(debPrompt)
	if _, err := vm.Expect(p, cmdTimeout); err != nil {
		return d, err
	}
	if d.Guest, err = procUptime(vm, p, tReady); err != nil {
		return d, err
	}
	con := string(rec.bytesFrom(0))
	d.Steps = reAntsLine.FindAllString(con, -1)
	if m := reRootInit.FindStringSubmatch(con); m != nil {
		d.RootInit = atof(m[1])
	}
	// After the figures, best effort: what the kernel log and systemd say.
	if err := d.readLater(vm, p); err != nil {
		d.Later = firstLine(err.Error())
	}
	return d, nil
}

// readLater reads, at the root's prompt p, the kernel's stamp of /init and what
// systemd-analyze says of the boot once its jobs are done; for ants also its boot
// log, from the admin shell.
func (d *debRun) readLater(vm *qvm.VM, p string) error {
	out, err := vm.Run("dmesg | grep -m1 'as init process'", p, cmdTimeout)
	if err != nil {
		return err
	}
	if m := reRunInit.FindStringSubmatch(out); m != nil {
		d.InitRun = atof(m[1])
	}
	if out, err = vm.Run("systemctl is-system-running --wait; systemd-analyze", p, debTimeout); err != nil {
		return err
	}
	parts, line, target, at := parseStartup(out)
	d.Analyze, d.Userspace, d.Target, d.TargetAt = line, parts["userspace"], target, at
	if d.Image == "D" {
		if parts["kernel"] > 0 {
			d.RootInit = parts["kernel"] + parts["initrd"]
		}
		return nil
	}
	// ants: Ctrl-] a to the admin shell.
	if err := vm.Type(escape + "a"); err != nil {
		return err
	}
	if _, err := vm.Expect(`\[ants: admin shell;`, cmdTimeout); err != nil {
		return err
	}
	if err := vm.Line(""); err != nil {
		return err
	}
	if _, err := vm.Expect(antsPrompt, cmdTimeout); err != nil {
		return err
	}
	d.BootLog, err = vm.Run("cat /run/ants/boot.log", antsPrompt, cmdTimeout)
	return err
}

// debBoot is the part: N pairs (at most debMaxPairs) of ants and Debian from the
// disk, then as many boots of ants over 9P.
func (b *bench) debBoot() {
	if b.imgs["D"] == "" {
		b.fail("debboot: no Debian initramfs-tools image (D) to compare with: %s", b.r.DebianErr)
		return
	}
	deb, err := qvm.DebianRoot()
	if err != nil {
		b.fail("debboot: the Debian root (qemu/mkdebroot.sh, needs root and the mirror): %v", err)
		return
	}
	disk, err := qvm.MakeDisk(deb, debLabel, true, filepath.Join(work, "debroot.img"))
	if err != nil {
		b.fail("debboot: the Debian root's disk: %v", err)
		return
	}
	defer os.Remove(disk.Path)
	// -snapshot: every boot starts from the same disk (writes go to a temporary file).
	devs := []qvm.Device{disk, qvm.Args{"-snapshot"}}
	root := "root=LABEL=" + disk.Label + " rootwait"
	opts := map[string]qvm.Options{
		"A": {Kernel: b.kernel, Initrd: b.imgs["A"], Append: root, Devices: devs},
		// rw: the tree's fstab is empty (ants mounts the root), so nothing would
		// remount it read-write; ants' root is read-write too.
		"D": {Kernel: b.kernel, Initrd: b.imgs["D"], Append: root + " rw", Devices: devs},
	}
	n := min(b.r.N, debMaxPairs)
	record := func(d debRun, err error) {
		if err != nil {
			d.Err = err.Error()
			b.fail("debboot %s round %d: %v", d.Image, d.Round, err)
		}
		logf("debboot %s round %d: wall %.2f s to multi-user (prompt %.2f s), guest %.2f s, root's systemd from %.2f s; %s %s%s",
			d.Image, d.Round, d.Wall, d.PromptWall, d.Guest, d.RootInit, d.Analyze, d.Err, d.Later)
		b.r.DebBoot = append(b.r.DebBoot, d)
	}
	for round := 1; round <= n; round++ {
		for _, k := range []string{"A", "D"} {
			s := newSession(fmt.Sprintf("bench-debboot-%s-%d", k, round), b.verbose)
			d, err := bootDebian(s, opts[k], k)
			d.Round = round
			record(d, s.end(err))
		}
	}
	// The 9P boots have no Debian counterpart and no goal: not with QUICK=1, where
	// they would add some 45 s.
	if b.quickFlag {
		return
	}
	for round := 1; round <= n; round++ {
		s := newSession(fmt.Sprintf("bench-debboot-9p-%d", round), b.verbose)
		d, err := bootDebianNineP(s, b.kernel, b.imgs["A"], deb)
		d.Round = round
		record(d, s.end(err))
	}
}

// bootDebianNineP boots ants with a fresh copy of the Debian root from diod, as
// TestDebianNinePRoot does (cache=loose).
func bootDebianNineP(s *session, kernel, initrd, deb string) (debRun, error) {
	tmp, err := s.tempDir()
	if err != nil {
		return debRun{Image: "A9P"}, err
	}
	dir, err := qvm.CopyTree(deb, tmp)
	if err != nil {
		return debRun{Image: "A9P"}, err
	}
	d, err := s.diod(dir)
	if err != nil {
		return debRun{Image: "A9P"}, err
	}
	return bootDebian(s, qvm.Options{Kernel: kernel, Initrd: initrd,
		Append:  "venti=tcp!10.0.2.100!564 rootflags=cache=loose ants.aname=" + dir,
		Devices: []qvm.Device{d.NIC("10.0.2.100")}}, "A9P")
}

// debRounds are the good runs of one image, by round.
func debRounds(rs []debRun, img string) map[int]debRun {
	m := map[int]debRun{}
	for _, r := range rs {
		if r.Image == img && r.Err == "" {
			m[r.Round] = r
		}
	}
	return m
}

func debField(m map[int]debRun, f func(debRun) float64) []float64 {
	var xs []float64
	for _, r := range m {
		if v := f(r); v > 0 {
			xs = append(xs, v)
		}
	}
	return xs
}

// debRatios are a/o of f, round by round, where both have it.
func debRatios(a, o map[int]debRun, f func(debRun) float64) []float64 {
	var xs []float64
	for i, x := range a {
		if y, ok := o[i]; ok && f(x) > 0 && f(y) > 0 {
			xs = append(xs, f(x)/f(y))
		}
	}
	return xs
}

// debVerdict is the goal: the median of the wall ratios, ants over Debian.
func debVerdict(rs []debRun) (med float64, met, ok bool) {
	st := stats(debRatios(debRounds(rs, "A"), debRounds(rs, "D"), func(r debRun) float64 { return r.Wall }))
	return st.Med, st.N > 0 && st.Med <= debGoal, st.N > 0
}

// debTable is the part's table: A and D from the disk pair by pair, A over 9P.
func debTable(rs []debRun) string {
	if len(rs) == 0 {
		return ""
	}
	A, D, N := debRounds(rs, "A"), debRounds(rs, "D"), debRounds(rs, "A9P")
	var w strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&w, f, a...) }
	row := func(name string, f func(debRun) float64) {
		p("| %s | %s | %s | %s | %s |\n", name, stats(debField(A, f)).format(2), stats(debField(D, f)).format(2),
			stats(debRatios(A, D, f)).format(2), stats(debField(N, f)).format(2))
	}
	p("| Debian with systemd to multi-user (issue 15, goal 6), -m %d | A: ants, disk | D: Debian's initramfs-tools, disk | A/D | ants over 9P (diod, cache=loose) |\n|---|---|---|---|---|\n", debMem)
	row(fmt.Sprintf("wall s, QEMU start to %q (%d pairs, %d 9P boots)", debReady, len(debRatios(A, D, func(debRun) float64 { return 1 })), len(N)),
		func(r debRun) float64 { return r.Wall })
	row("wall s, QEMU start to the autologin prompt", func(r debRun) float64 { return r.PromptWall })
	row("guest s, kernel uptime at multi-user", func(r debRun) float64 { return r.Guest })
	row("kernel uptime s when /init runs (dmesg)", func(r debRun) float64 { return r.InitRun })
	row("kernel uptime s when the root's systemd starts", func(r debRun) float64 { return r.RootInit })
	row("its systemd's start to multi-user, s (guest − the above)", func(r debRun) float64 {
		if r.RootInit == 0 {
			return 0
		}
		return r.Guest - r.RootInit
	})
	target := "its default target"
	for _, r := range rs {
		if r.Target != "" {
			target = r.Target
			break
		}
	}
	row("systemd-analyze: "+target+" reached after, s (userspace)", func(r debRun) float64 { return r.TargetAt })
	for _, k := range []string{"A", "D", "A9P"} {
		for _, r := range rs {
			if r.Image == k && r.Err == "" && r.Analyze != "" {
				p("| systemd-analyze, %s round %d | %s | | | |\n", k, r.Round, r.Analyze)
				break
			}
		}
	}
	for _, r := range rs {
		if r.Err != "" {
			p("| %s round %d | failed: %s | | | |\n", r.Image, r.Round, firstLine(r.Err))
		} else if r.Later != "" {
			p("| %s round %d | reading after the end point: %s | | | |\n", r.Image, r.Round, r.Later)
		}
	}
	p("\n")
	return w.String()
}
