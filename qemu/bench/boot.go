package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ants/ants/internal/qemu"
)

// bootTimeout bounds a boot to its prompt; the memory bisection shortens it.
var bootTimeout = defaultBootTimeout

const (
	defaultBootTimeout = 180 * time.Second // TCG on a loaded 2-core machine
	cmdTimeout         = 30 * time.Second
	escape             = "\x1d" // Ctrl-]
	antsPrompt         = `ants% `
	stockPrompt        = `\n\$ ` // gosh built with goshsmall (found by booting it)
	demoPrompt         = `demo# `
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
func procUptime(t *tb, vm *qemu.VM, prompt string, ref time.Time) float64 {
	vm.Line("cat /proc/uptime")
	m := vm.Expect(`([0-9]+\.[0-9]+) [0-9.]+\r?\n`, cmdTimeout)
	back := since(ref)
	vm.Expect(prompt, cmdTimeout)
	return atof(m[1]) - back
}

func rss(t *tb, vm *qemu.VM, prompt, file string) int {
	out := vm.Run("grep VmRSS "+file, prompt, cmdTimeout)
	m := reRSS.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no VmRSS in %q", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func runInit(t *tb, vm *qemu.VM, prompt string) float64 {
	out := vm.Run("dmesg | grep 'as init process'", prompt, cmdTimeout)
	m := reRunInit.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no \"Run /init as init process\" in dmesg: %q", out)
	}
	return atof(m[1])
}

// bootA boots the ants image with no root. Its end point is the admin prompt as
// early as a user can have it: Ctrl-] a typed as soon as the console shows the boot
// banner (the documented way to the admin shell at any time), then "ants% " on the
// console. guest s is /proc/uptime typed at that prompt, less the host time since it
// appeared, as for B. The boot scripts go on meanwhile; when they are done (the
// prompt a user gets without any key) is recorded too, from /run/ants/boot.log.
func bootA(t *tb, kernel, initrd string, mem int, measure bool) boot {
	b := boot{Image: "A", MemMiB: mem}
	start := time.Now()
	vm := qemu.Start(t, qemu.Options{Kernel: kernel, Initrd: initrd, MemMiB: mem, Append: bisectAppend(measure)})
	m := vm.Expect(reStamp+`ants: init started`, bootTimeout)
	b.AntsInit = atof(m[1])
	vm.Expect(`\[ants: boot scripts; `, bootTimeout)
	vm.Type(escape + "a")
	vm.Expect(`\[ants: admin shell;`, bootTimeout)
	vm.Expect(antsPrompt, bootTimeout)
	tp := time.Now()
	b.Wall = tp.Sub(start).Seconds()
	if !measure {
		return b
	}
	b.Guest = procUptime(t, vm, antsPrompt, tp)
	b.Guest2 = b.Guest
	// PID 1 logs its own lines on the console whatever has the focus.
	m = vm.Expect(reStamp+`ants: no root configured`, bootTimeout)
	b.ScriptsEnd = atof(m[1])
	out := vm.Run("cat /run/ants/boot.log", antsPrompt, cmdTimeout)
	if m := regexp.MustCompile(reStamp + `ants: admin shell on`).FindStringSubmatch(out); m != nil {
		b.ShellStamp = atof(m[1])
	}
	b.InitStart = runInit(t, vm, antsPrompt)
	b.Overhead = b.Guest - b.InitStart
	b.RSSPID1KiB = rss(t, vm, antsPrompt, "/proc/1/status")
	b.RSSShKiB = rss(t, vm, antsPrompt, "/proc/$$/status")
	return b
}

// bootB boots stock u-root: its init runs the shell, gosh, whose prompt ends it.
func bootB(t *tb, kernel, initrd string, mem int, measure bool) boot {
	b := boot{Image: "B", MemMiB: mem}
	start := time.Now()
	vm := qemu.Start(t, qemu.Options{Kernel: kernel, Initrd: initrd, MemMiB: mem, Append: bisectAppend(measure)})
	vm.Expect(`Welcome to u-root`, bootTimeout)
	vm.Expect(stockPrompt, bootTimeout)
	tp := time.Now()
	b.Wall = tp.Sub(start).Seconds()
	if !measure {
		return b
	}
	b.Guest = procUptime(t, vm, `\$ `, tp)
	b.Guest2 = b.Guest
	b.InitStart = runInit(t, vm, `\$ `)
	b.Overhead = b.Guest - b.InitStart
	out := vm.Run("cat /proc/1/stat", `\$ `, cmdTimeout)
	if i := strings.LastIndex(out, ")"); i >= 0 {
		if f := strings.Fields(out[i+1:]); len(f) > 19 {
			b.PID1Start = atof(f[19]) / 100 // field 22, USER_HZ=100
		}
	}
	b.RSSPID1KiB = rss(t, vm, `\$ `, "/proc/1/status")
	b.RSSShKiB = rss(t, vm, `\$ `, "/proc/$$/status")
	return b
}

// bootC boots the kernel floor: its line is the end point.
func bootC(t *tb, kernel, initrd string, mem int, measure bool) boot {
	b := boot{Image: "C", MemMiB: mem}
	start := time.Now()
	vm := qemu.Start(t, qemu.Options{Kernel: kernel, Initrd: initrd, MemMiB: mem, Append: bisectAppend(measure)})
	m := vm.Expect(`FLOOR uptime=([0-9.]+)\r?\n`, bootTimeout)
	b.Wall = since(start)
	b.Guest = atof(m[1])
	b.Guest2 = b.Guest
	b.InitStart = b.Guest
	vm.Wait(cmdTimeout)
	return b
}

// bisectAppend: a boot for the memory bisection panics to an exit (panic=-1 with
// QEMU's -no-reboot) rather than hanging when memory is short.
func bisectAppend(measure bool) string {
	if measure {
		return ""
	}
	return "panic=-1"
}

// demo is one boot of ants to a running demo root, from a disk.
type demo struct {
	Wall  float64 `json:"wall_s"`
	Guest float64 `json:"guest_s"`
	Err   string  `json:"error,omitempty"`
}

func bootDemo(t *tb, kernel, initrd string, disk qemu.Disk) demo {
	var d demo
	start := time.Now()
	vm := qemu.Start(t, qemu.Options{Kernel: kernel, Initrd: initrd, Append: "root=LABEL=" + disk.Label + " rootwait", Args: disk.Args()})
	vm.Expect(`demo root: up`, bootTimeout)
	tu := time.Now()
	d.Wall = tu.Sub(start).Seconds()
	vm.Line("")
	vm.Expect(demoPrompt, cmdTimeout)
	d.Guest = procUptime(t, vm, demoPrompt, tu)
	return d
}

// hung is the hung-root scenario: a 9P root from diod, diod stopped.
type hung struct {
	BootWall float64  `json:"boot_wall_s"`              // QEMU start to "demo root: up" over 9P
	EscapeMS float64  `json:"escape_ms"`                // the "a" of Ctrl-] a to "[ants: admin shell;"
	RestartS float64  `json:"restart_s"`                // Enter of rootctl restart to the new root's "demo root: up"
	Phases   []string `json:"restart_phases,omitempty"` // PID 1's stamped lines during the restart
	Err      string   `json:"error,omitempty"`
}

func hungRoot(t *tb, kernel, initrd string) hung {
	var h hung
	dir := qemu.CopyTree(t, qemu.DemoRoot(t))
	dir2 := qemu.CopyTree(t, qemu.DemoRoot(t))
	if err := os.WriteFile(filepath.Join(dir2, "etc/hostname"), []byte("second\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d1, d2 := qemu.StartDiod(t, dir), qemu.StartDiod(t, dir2)
	nic := d1.GuestFwd("10.0.2.100")
	nic[1] += ",guestfwd=" + strings.SplitN(d2.GuestFwd("10.0.2.101")[1], "guestfwd=", 2)[1]
	start := time.Now()
	vm := qemu.Start(t, qemu.Options{Kernel: kernel, Initrd: initrd, Append: "venti=tcp!10.0.2.100!564 ants.watchdog=2 ants.aname=" + dir, Args: nic})
	vm.Expect(`demo root: up`, bootTimeout)
	h.BootWall = since(start)
	vm.Line("")
	vm.Expect(demoPrompt, cmdTimeout)
	d1.Stop(t)
	vm.Line("ls /etc")
	vm.Expect(`root not responding`, 60*time.Second)
	vm.Type(escape)
	t0 := time.Now()
	vm.Type("a")
	vm.Expect(`\[ants: admin shell;`, cmdTimeout)
	h.EscapeMS = since(t0) * 1000
	vm.Line("")
	vm.Expect(antsPrompt, cmdTimeout)
	vm.Type("rootctl restart venti=tcp!10.0.2.101!564 ants.aname=" + dir2)
	t1 := time.Now()
	mark := len(vm.Output())
	vm.Type("\r")
	vm.Expect(`demo root: up as .*hostname second`, 90*time.Second)
	h.RestartS = since(t1)
	h.Phases = rePhase.FindAllString(vm.Output()[mark:], -1)
	vm.Line("")
	vm.Expect(demoPrompt, cmdTimeout)
	if n := strings.Count(vm.Output(), "init started"); n != 1 {
		t.Fatalf("the machine booted %d times", n)
	}
	return h
}
