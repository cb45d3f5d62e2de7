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

const (
	bootTimeout = 180 * time.Second // TCG on a loaded 2-core machine (the memory bisection sets its own)
	cmdTimeout  = 30 * time.Second
	escape      = "\x1d" // Ctrl-]
	antsPrompt  = `ants% `
	stockPrompt = `\n\$ ` // gosh built with goshsmall (found by booting it)
	demoPrompt  = `demo# `
)

// boot is one boot of one image to its end point.
type boot struct {
	Image      string  `json:"image"`
	Round      int     `json:"round"` // 0 is the warm-up
	MemMiB     int     `json:"mem_mib"`
	Wall       float64 `json:"wall_s"`                 // QEMU start to the prompt (host clock)
	Guest      float64 `json:"guest_s"`                // kernel uptime at the prompt
	InitStart  float64 `json:"init_start_s"`           // kernel uptime when /init was run ("Run /init as init process")
	Overhead   float64 `json:"init_overhead_s"`        // Guest - InitStart
	Guest2     float64 `json:"guest_by_proc_uptime_s"` // /proc/uptime typed at the prompt, less the host time since the prompt
	PID1Start  float64 `json:"pid1_starttime_s,omitempty"`
	AntsInit   float64 `json:"ants_init_started_s,omitempty"`  // A: the "init started" stamp of PID 1
	ShellStamp float64 `json:"ants_shell_started_s,omitempty"` // A: PID 1's "admin shell on" stamp (the shell started)
	ScriptsEnd float64 `json:"ants_scripts_done_s,omitempty"`  // A: boot scripts done and no root: the prompt without a key
	RSSPID1KiB int     `json:"rss_pid1_kib,omitempty"`
	RSSShKiB   int     `json:"rss_shell_kib,omitempty"`
	BootLog    string  `json:"-"` // A: /run/ants/boot.log, for the picture
	Err        string  `json:"error,omitempty"`
}

var (
	reStamp   = `\[\s*([0-9.]+)\] `
	reRunInit = regexp.MustCompile(`\[\s*([0-9.]+)\] Run /init as init process`)
	rePhase   = regexp.MustCompile(`\[\s*[0-9.]+\] ants: root system: [^\r\n]*`)
	reRSS     = regexp.MustCompile(`VmRSS:\s+(\d+) kB`)
)

func atof(s string) float64 { f, _ := strconv.ParseFloat(strings.TrimSpace(s), 64); return f }

// since is seconds since t, to the millisecond.
func since(t time.Time) float64 { return time.Since(t).Seconds() }

// procUptime types cat /proc/uptime at the prompt and returns the guest's uptime at
// the moment ref (host clock): the value read less the host time since ref.
func procUptime(vm *qvm.VM, prompt string, ref time.Time) (float64, error) {
	if err := vm.Line("cat /proc/uptime"); err != nil {
		return 0, err
	}
	m, err := vm.Expect(`([0-9]+\.[0-9]+) [0-9.]+\r?\n`, cmdTimeout)
	if err != nil {
		return 0, err
	}
	back := since(ref)
	if _, err := vm.Expect(prompt, cmdTimeout); err != nil {
		return 0, err
	}
	return atof(m[1]) - back, nil
}

func rss(vm *qvm.VM, prompt, file string) (int, error) {
	out, err := vm.Run("grep VmRSS "+file, prompt, cmdTimeout)
	if err != nil {
		return 0, err
	}
	m := reRSS.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no VmRSS in %q", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n, nil
}

func runInit(vm *qvm.VM, prompt string) (float64, error) {
	out, err := vm.Run("dmesg | grep 'as init process'", prompt, cmdTimeout)
	if err != nil {
		return 0, err
	}
	m := reRunInit.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no \"Run /init as init process\" in dmesg: %q", out)
	}
	return atof(m[1]), nil
}

// expectAll expects each regular expression in turn and returns the submatches
// of the last.
func expectAll(vm *qvm.VM, timeout time.Duration, res ...string) ([]string, error) {
	var m []string
	var err error
	for _, re := range res {
		if m, err = vm.Expect(re, timeout); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// bootA boots the ants image with no root. Its end point is the admin prompt with
// no key pressed: with nothing to ask and no root the console goes to the admin
// shell at its first prompt (PID 1's promptFirst), "ants% " after the focus notice.
// guest s is /proc/uptime typed at that prompt, less the host time since it
// appeared, as for B. The boot scripts go on behind the prompt; when they are done
// is recorded too (PID 1's "no root configured" line), and boot.log.
func bootA(s *session, kernel, initrd string, mem int, measure bool, timeout time.Duration) (boot, error) {
	b := boot{Image: "A", MemMiB: mem}
	start := time.Now()
	vm, err := s.start(qvm.Options{Kernel: kernel, Initrd: initrd, MemMiB: mem, Append: bisectAppend(measure)})
	if err != nil {
		return b, err
	}
	m, err := vm.Expect(reStamp+`ants: init started`, timeout)
	if err != nil {
		return b, err
	}
	b.AntsInit = atof(m[1])
	if _, err := expectAll(vm, timeout, `\[ants: admin shell;`, antsPrompt); err != nil {
		return b, err
	}
	tp := time.Now()
	b.Wall = tp.Sub(start).Seconds()
	if !measure {
		return b, nil
	}
	if b.Guest, err = procUptime(vm, antsPrompt, tp); err != nil {
		return b, err
	}
	b.Guest2 = b.Guest
	// PID 1 logs its own lines on the console whatever has the focus (above the
	// prompt). The bench's commands wait for the boot scripts: they would compete.
	if m, err = vm.Expect(reStamp+`ants: no root configured`, timeout); err != nil {
		return b, err
	}
	b.ScriptsEnd = atof(m[1])
	out, err := vm.Run("cat /run/ants/boot.log", antsPrompt, cmdTimeout)
	if err != nil {
		return b, err
	}
	b.BootLog = out
	if m := regexp.MustCompile(reStamp + `ants: admin shell on`).FindStringSubmatch(out); m != nil {
		b.ShellStamp = atof(m[1])
	}
	if b.InitStart, err = runInit(vm, antsPrompt); err != nil {
		return b, err
	}
	b.Overhead = b.Guest - b.InitStart
	if b.RSSPID1KiB, err = rss(vm, antsPrompt, "/proc/1/status"); err != nil {
		return b, err
	}
	b.RSSShKiB, err = rss(vm, antsPrompt, "/proc/$$/status")
	return b, err
}

// bootB boots stock u-root: its init runs the shell, gosh, whose prompt ends it.
func bootB(s *session, kernel, initrd string, mem int, measure bool, timeout time.Duration) (boot, error) {
	b := boot{Image: "B", MemMiB: mem}
	start := time.Now()
	vm, err := s.start(qvm.Options{Kernel: kernel, Initrd: initrd, MemMiB: mem, Append: bisectAppend(measure)})
	if err != nil {
		return b, err
	}
	if _, err := expectAll(vm, timeout, `Welcome to u-root`, stockPrompt); err != nil {
		return b, err
	}
	tp := time.Now()
	b.Wall = tp.Sub(start).Seconds()
	if !measure {
		return b, nil
	}
	const p = `\$ `
	if b.Guest, err = procUptime(vm, p, tp); err != nil {
		return b, err
	}
	b.Guest2 = b.Guest
	if b.InitStart, err = runInit(vm, p); err != nil {
		return b, err
	}
	b.Overhead = b.Guest - b.InitStart
	out, err := vm.Run("cat /proc/1/stat", p, cmdTimeout)
	if err != nil {
		return b, err
	}
	if i := strings.LastIndex(out, ")"); i >= 0 {
		if f := strings.Fields(out[i+1:]); len(f) > 19 {
			b.PID1Start = atof(f[19]) / 100 // field 22, USER_HZ=100
		}
	}
	if b.RSSPID1KiB, err = rss(vm, p, "/proc/1/status"); err != nil {
		return b, err
	}
	b.RSSShKiB, err = rss(vm, p, "/proc/$$/status")
	return b, err
}

// bootC boots the kernel floor: its line is the end point.
func bootC(s *session, kernel, initrd string, mem int, measure bool, timeout time.Duration) (boot, error) {
	b := boot{Image: "C", MemMiB: mem}
	start := time.Now()
	vm, err := s.start(qvm.Options{Kernel: kernel, Initrd: initrd, MemMiB: mem, Append: bisectAppend(measure)})
	if err != nil {
		return b, err
	}
	m, err := vm.Expect(`FLOOR uptime=([0-9.]+)\r?\n`, timeout)
	if err != nil {
		return b, err
	}
	b.Wall = since(start)
	b.Guest = atof(m[1])
	b.Guest2 = b.Guest
	b.InitStart = b.Guest
	return b, vm.Wait(cmdTimeout)
}

// bisectAppend: a boot for the memory bisection panics to an exit (panic=-1 with
// QEMU's -no-reboot) rather than hanging when memory is short.
func bisectAppend(measure bool) string {
	if measure {
		return ""
	}
	return "panic=-1"
}

// demo is one boot of ants to a running demo root (from a disk, or over NFS).
type demo struct {
	Wall  float64 `json:"wall_s"`
	Guest float64 `json:"guest_s"`
	Err   string  `json:"error,omitempty"`
}

func bootDemo(s *session, kernel, initrd string, disk qvm.Disk) (demo, error) {
	return bootDemoWith(s, kernel, initrd, "root=LABEL="+disk.Label+" rootwait", disk)
}

// bootNFS boots ants to the demo root from g's export over NFSv4 (a bare NFS root:
// no overlay, its name from the command line), on the NIC model ("" for QEMU's
// default, an e1000): goal 2's NFS root, alternated with the disk root.
func bootNFS(s *session, kernel, initrd string, g *qvm.Ganesha, model string) (demo, error) {
	nic := g.NIC("10.0.2.100")
	nic.Model = model
	return bootDemoWith(s, kernel, initrd, "root=nfs4:10.0.2.100:"+g.Pseudo, nic)
}

// boot9P boots ants to the demo root in dir from diod over 9P (venti=, DHCP), on
// the NIC model: goal 2's 9P root, alternated with the disk root.
func boot9P(s *session, kernel, initrd string, d *qvm.Diod, dir, model string) (demo, error) {
	nic := d.NIC("10.0.2.100")
	nic.Model = model
	return bootDemoWith(s, kernel, initrd, "venti=tcp!10.0.2.100!564 ants.aname="+dir, nic)
}

// bootDemoWith times a boot to "demo root: up": wall from QEMU's start, and the
// guest's uptime at that line.
func bootDemoWith(s *session, kernel, initrd, append string, devs ...qvm.Device) (demo, error) {
	var d demo
	start := time.Now()
	vm, err := s.start(qvm.Options{Kernel: kernel, Initrd: initrd, Append: append, Devices: devs})
	if err != nil {
		return d, err
	}
	if _, err := vm.Expect(`demo root: up`, bootTimeout); err != nil {
		return d, err
	}
	tu := time.Now()
	d.Wall = tu.Sub(start).Seconds()
	if err := vm.Line(""); err != nil {
		return d, err
	}
	if _, err := vm.Expect(demoPrompt, cmdTimeout); err != nil {
		return d, err
	}
	d.Guest, err = procUptime(vm, demoPrompt, tu)
	return d, err
}

// hung is the hung-root scenario: a 9P root from diod, diod stopped.
type hung struct {
	BootWall  float64  `json:"boot_wall_s"`              // QEMU start to "demo root: up" over 9P
	BootGuest float64  `json:"boot_guest_s,omitempty"`   // the guest's uptime at that line
	EscapeMS  float64  `json:"escape_ms"`                // the "a" of Ctrl-] a to "[ants: admin shell;"
	RestartS  float64  `json:"restart_s"`                // Enter of rootctl restart to the new root's "demo root: up"
	Phases    []string `json:"restart_phases,omitempty"` // PID 1's stamped lines during the restart
	// PhaseAt is when each line of Phases reached the host, seconds after the
	// Enter of rootctl restart (the console stream, timestamped as it arrives).
	PhaseAt []float64 `json:"restart_phase_at_s,omitempty"`
	// ColdS is the cold boot of the machine to the same root the restart brought
	// up (the second diod's tree), in a fresh VM right after: QEMU start to its
	// "demo root: up ... hostname second".
	ColdS float64 `json:"cold_boot_s,omitempty"`
	Err   string  `json:"error,omitempty"`
}

// hungRoot boots a 9P root from one diod, freezes the server, escapes to the admin
// shell and restarts the root from a second diod (demo is the demo root tree).
func hungRoot(s *session, kernel, initrd, demo, model string) (hung, error) {
	var h hung
	var dirs [2]string
	for i := range dirs {
		var err error
		if dirs[i], err = s.copyTree(demo); err != nil {
			return h, err
		}
	}
	dir, dir2 := dirs[0], dirs[1]
	if err := os.WriteFile(filepath.Join(dir2, "etc/hostname"), []byte("second\n"), 0o644); err != nil {
		return h, err
	}
	d1, err := s.diod(dir)
	if err != nil {
		return h, err
	}
	d2, err := s.diod(dir2)
	if err != nil {
		return h, err
	}
	nic := d1.NIC("10.0.2.100")
	nic.Model = model
	nic.GuestFwds = append(nic.GuestFwds, d2.GuestFwd("10.0.2.101"))
	rec := newStamped()
	start := time.Now()
	vm, err := s.start(qvm.Options{Kernel: kernel, Initrd: initrd, Append: "venti=tcp!10.0.2.100!564 ants.watchdog=2 ants.aname=" + dir, Devices: []qvm.Device{nic}, Console: rec})
	if err != nil {
		return h, err
	}
	if _, err := vm.Expect(`demo root: up`, bootTimeout); err != nil {
		return h, err
	}
	tu := time.Now()
	h.BootWall = tu.Sub(start).Seconds()
	if err := vm.Line(""); err != nil {
		return h, err
	}
	if _, err := vm.Expect(demoPrompt, cmdTimeout); err != nil {
		return h, err
	}
	if h.BootGuest, err = procUptime(vm, demoPrompt, tu); err != nil {
		return h, err
	}
	if err := d1.Stop(); err != nil {
		return h, err
	}
	if err := vm.Line("ls /etc"); err != nil {
		return h, err
	}
	if _, err := vm.Expect(`root not responding`, 60*time.Second); err != nil {
		return h, err
	}
	if err := vm.Type(escape); err != nil {
		return h, err
	}
	t0 := time.Now()
	if err := vm.Type("a"); err != nil {
		return h, err
	}
	if _, err := vm.Expect(`\[ants: admin shell;`, cmdTimeout); err != nil {
		return h, err
	}
	h.EscapeMS = since(t0) * 1000
	if err := vm.Line(""); err != nil {
		return h, err
	}
	if _, err := vm.Expect(antsPrompt, cmdTimeout); err != nil {
		return h, err
	}
	if err := vm.Type("rootctl restart venti=tcp!10.0.2.101!564 ants.aname=" + dir2); err != nil {
		return h, err
	}
	t1 := time.Now()
	mark := len(vm.Output())
	if err := vm.Type("\r"); err != nil {
		return h, err
	}
	if _, err := vm.Expect(`demo root: up as .*hostname second`, 90*time.Second); err != nil {
		return h, err
	}
	h.RestartS = since(t1)
	h.Phases, h.PhaseAt = phaseTimes(rec, mark, t1)
	if err := vm.Line(""); err != nil {
		return h, err
	}
	if _, err := vm.Expect(demoPrompt, cmdTimeout); err != nil {
		return h, err
	}
	if n := strings.Count(vm.Output(), "init started"); n != 1 {
		return h, fmt.Errorf("the machine booted %d times", n)
	}
	// The cold boot of the same root, for restart / cold boot pair by pair: the
	// machine started afresh, to the second diod's tree, as the restart asked.
	vm.Close()
	start = time.Now()
	vm, err = s.start(qvm.Options{Name: "cold", Kernel: kernel, Initrd: initrd, Append: "venti=tcp!10.0.2.101!564 ants.watchdog=2 ants.aname=" + dir2, Devices: []qvm.Device{nic}})
	if err != nil {
		return h, err
	}
	if _, err := vm.Expect(`demo root: up as .*hostname second`, bootTimeout); err != nil {
		return h, fmt.Errorf("cold boot of the same root: %w", err)
	}
	h.ColdS = since(start)
	return h, nil
}

// phaseTimes finds PID 1's root system lines in the stamped console stream from
// offset mark on, with the host time each arrived, in seconds after t.
func phaseTimes(rec *stamped, mark int, t time.Time) ([]string, []float64) {
	out := rec.bytesFrom(mark)
	var lines []string
	var at []float64
	for _, loc := range rePhase.FindAllIndex(out, -1) {
		lines = append(lines, string(out[loc[0]:loc[1]]))
		at = append(at, rec.at(mark+loc[1]-1).Sub(t).Seconds())
	}
	return lines, at
}
