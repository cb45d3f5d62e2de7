//go:build !race

// VM tests: boot the built image (build/vmlinuz, build/initramfs.cpio) with
// Debian's kernel in QEMU under TCG and drive its serial console as a person would.
// `make test` runs them with ANTS_VM=1; on failure the whole console output stays in
// build/vmlogs/TEST.log.
package vmtest

import (
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/qvm"
	"github.com/ants/ants/internal/qvm/qvmtest"
)

const (
	bootTimeout = 120 * time.Second // TCG on a loaded 2-core machine
	cmdTimeout  = 30 * time.Second
)

func boot(t *testing.T, o qvm.Options, files ...qvm.File) *qvmtest.VM {
	t.Helper()
	kernel, initrd := qvmtest.Image(t)
	o.Kernel, o.Initrd = kernel, initrd
	if len(files) > 0 {
		o.Initrd = qvmtest.Overlay(t, initrd, files...)
	}
	vm := qvmtest.Start(t, o)
	t.Cleanup(func() {
		out := vm.Output()
		for _, bad := range []string{"Kernel panic", "PANIC", "Attempted to kill init"} {
			if strings.Contains(out, bad) {
				t.Errorf("console shows %q", bad)
			}
		}
	})
	return vm
}

func prompt(name string) string { return `\n` + name + `% ` }

// bootDone waits for the end of a boot with no root, which runs behind the admin
// prompt: PID 1's "admin shell only" line, wherever it fell among the output the
// test has matched already. Then a fresh prompt.
func bootDone(t *testing.T, vm *qvmtest.VM) {
	t.Helper()
	deadline := time.Now().Add(bootTimeout)
	for !strings.Contains(vm.Output(), "admin shell only") {
		if time.Now().After(deadline) {
			t.Fatalf("after %v the boot scripts are not done; console:\n%s", bootTimeout, vm.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	vm.Line("echo booted$((40+2))")
	vm.Expect(`booted42\r?\n`, cmdTimeout)
	vm.Expect(`% `, cmdTimeout)
}

func contains(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: want %q in:\n%s", what, w, out)
		}
	}
}

// TestAdminShell boots the image as shipped in 128 MiB to the admin shell and uses
// it: arithmetic, the admin tmpfs on /, the boot log, ants env, ^C, history, exit
// (a new shell comes), poweroff (QEMU ends).
func TestAdminShell(t *testing.T) {
	t.Parallel()
	vm := boot(t, qvm.Options{MemMiB: 128})
	vm.Expect(`admin shell on ttyS0`, bootTimeout)
	// The prompt first: with no root and nothing to ask, the console goes to the
	// admin shell at its first prompt, no key pressed, and the boot scripts run
	// behind it (their lines above the prompt).
	vm.Expect(`\[ants: admin shell;`, cmdTimeout)
	vm.Expect(prompt("ants"), cmdTimeout)
	if strings.Contains(vm.Output(), "boot scripts done") {
		t.Errorf("the admin prompt came after the boot scripts:\n%s", vm.Output())
	}
	p := `ants% `

	// A half-typed line survives the boot's lines: each goes above it, and the
	// line is printed again under it, so Enter runs it whole.
	vm.Type("echo half")
	vm.Expect(`echo half`, cmdTimeout)
	for deadline := time.Now().Add(bootTimeout); !strings.Contains(vm.Output(), "admin shell only") && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	vm.Line("-$((6*7))")
	vm.Expect(`half-42\r?\n`, cmdTimeout)
	if out := vm.Output(); strings.Count(out, "ants% echo half") < 2 || !strings.Contains(out, "\x1b[K") {
		t.Errorf("the half-typed line was not printed again under the boot's lines:\n%q", out)
	}
	bootDone(t, vm)
	contains(t, "echo", vm.Run("echo $((6*7))", p, cmdTimeout), "42")
	if !strings.Contains(vm.Output(), "ran /lib/boot/50-nsfs.sh") {
		t.Errorf("the boot scripts' lines did not reach the console behind the prompt")
	}
	mounts := vm.Run("cat /proc/mounts", p, cmdTimeout)
	// The image's programs and modules stay on the initramfs, bound read-only; the
	// busybox and the modules are read from the image's squashfs on a loop device.
	if !strings.Contains(mounts, "\nants / tmpfs ") || strings.Count(mounts, "\nrootfs ") != 2 ||
		!strings.Contains(mounts, "rootfs /bbin rootfs ro,") || !strings.Contains(mounts, "rootfs /lib/modules rootfs ro,") ||
		!strings.Contains(mounts, "/dev/loop0 /bbin/bb squashfs ro,") || !strings.Contains(mounts, "/dev/loop0 /lib/modules squashfs ro,") ||
		strings.Count(mounts, " squashfs ") != 2 || strings.Count(mounts, " /proc proc ") != 1 {
		t.Errorf("/ is not the admin tmpfs with /bbin and /lib/modules bound read-only, /bbin/bb and /lib/modules from the squashfs, or a mount is doubled; /proc/mounts:\n%s", mounts)
	}
	contains(t, "read-only /bbin", vm.Run("echo x >/bbin/new; echo x >/lib/modules/new; echo x >/new && echo root-writable", p, cmdTimeout),
		"read-only file system", "root-writable")
	contains(t, "boot log", vm.Run("cat /run/ants/boot.log", p, cmdTimeout),
		"init started", "admin namespace: tmpfs", "image: /ants.sqfs (", "MiB) on /dev/loop0: /bbin/bb and /lib/modules read from it (",
		"loaded loop squashfs)", "ran /lib/boot/20-ask.sh", "boot scripts done: 6 ran, 0 failed")
	// The image's loop device cannot be written, nor changed, even by the admin.
	contains(t, "loop0", vm.Run("cat /sys/block/loop0/ro /sys/block/loop0/loop/autoclear; ls /lib/ants-boot", p, cmdTimeout),
		"1\r\n1\r\n", "lstat /lib/ants-boot: no such file")
	contains(t, "ants env", vm.Run("ants env", p, cmdTimeout), "sysname=ants")

	// ^C stops the command, not the shell.
	vm.Line("sleep 600")
	time.Sleep(2 * time.Second)
	vm.Type("\x03")
	vm.Expect(`\^C`, cmdTimeout)
	contains(t, "after ^C", vm.Run("echo $((40+2))x", p, cmdTimeout), "42x")
	// Up arrow brings the last line back.
	vm.Type("\x1b[A\r")
	vm.Expect(`42x\r\n`, cmdTimeout)
	vm.Expect(p, cmdTimeout)

	vm.Line("exit")
	vm.Expect(`starting a new admin shell`, cmdTimeout)
	vm.Expect(p, cmdTimeout)
	contains(t, "new shell", vm.Run("echo $((7*8))", p, cmdTimeout), "56")

	vm.Line("poweroff")
	vm.Expect(`powering off: synced`, cmdTimeout)
	vm.Wait(cmdTimeout)
}

// TestAskSysname: sysname=ask is asked on the console; the answer sets the hostname
// and runs /cfg/NAME/*.sh with the variables of /cfg/NAME/boot.conf.
func TestAskSysname(t *testing.T) {
	t.Parallel()
	vm := boot(t, qvm.Options{Append: "sysname=ask"},
		qvm.File{Path: "cfg/gnot/boot.conf", Content: "venti=tcp!10.0.2.2!5640\nsysname=ignored\n"},
		qvm.File{Path: "cfg/gnot/hello.sh", Content: "echo \"hello from $sysname, venti $venti: $((40+2))\"\n"},
	)
	// The offer is the value under "ask": boot.conf's sysname=ants.
	vm.Expect(`sysname \[ants\]: `, bootTimeout)
	vm.Line("gnot")
	vm.Expect(`hello from gnot, venti tcp!10.0.2.2!5640: 42`, cmdTimeout)
	vm.Expect(`ran /cfg/gnot/hello.sh`, cmdTimeout)
	vm.Expect(prompt("gnot"), cmdTimeout)
	contains(t, "env", vm.Run("cat /env/sysname; hostname", "gnot% ", cmdTimeout), "gnot\r\ngnot")
	contains(t, "ants env", vm.Run("ants env", "gnot% ", cmdTimeout), "sysname=gnot", "venti=tcp!10.0.2.2!5640")
}

// TestAskLaterTakesTheConsole: a boot with nothing to ask gives the console to the
// admin prompt first; when a question comes up all the same (the machine's own
// boot.conf sets venti=ask), the boot scripts take the console for it, and the
// admin shell gets it back when they are done, with the machine's name.
func TestAskLaterTakesTheConsole(t *testing.T) {
	t.Parallel()
	vm := boot(t, qvm.Options{Append: "sysname=later ip=none"},
		qvm.File{Path: "cfg/later/boot.conf", Content: "venti=ask\n"})
	vm.Expect(`\[ants: admin shell;`, bootTimeout)
	vm.Expect(`\[ants: boot scripts; `, bootTimeout)
	vm.Expect(`venti \[\]: `, cmdTimeout)
	vm.Line("clear")
	vm.Expect(`admin shell only`, bootTimeout)
	vm.Expect(`\[ants: admin shell;`, cmdTimeout)
	vm.Line("")
	contains(t, "after the question", vm.Run("echo $((6*7)); cat /env/venti", prompt("later"), cmdTimeout), "42")
}

// TestAskVenti: venti=ask refuses a bad dial string with the reason, opens a shell
// on "sh" and asks again after it, and accepts a good one; with no 9P server there
// (no network here) the root cannot come up and venti is asked again, offering
// the answer given; "clear" leaves the machine with the admin shell alone.
func TestAskVenti(t *testing.T) {
	t.Parallel()
	vm := boot(t, qvm.Options{Append: "venti=ask ip=none"})
	vm.Expect(`'sh' opens a shell`, bootTimeout)
	vm.Expect(`venti \[\]: `, cmdTimeout)
	vm.Line("tcp!10.0.2.2!notaport")
	vm.Expect(`port "notaport" is not a number; try again`, cmdTimeout)
	vm.Expect(`venti \[\]: `, cmdTimeout)
	vm.Line("udp!10.0.2.2!564")
	vm.Expect(`network "udp" is not supported; use tcp`, cmdTimeout)
	vm.Line("sh")
	vm.Expect(`exit the shell to come back to venti`, cmdTimeout)
	vm.Expect(`ants% `, cmdTimeout)
	contains(t, "shell inside ask", vm.Run("echo $((2*21))", "ants% ", cmdTimeout), "42")
	vm.Line("exit")
	vm.Expect(`venti \[\]: `, cmdTimeout)
	vm.Line("10.0.2.2:5640")
	vm.Expect(`root system: starting from 9p tcp!10\.0\.2\.2!5640`, bootTimeout)
	vm.Expect(`cannot reach the 9P server`, cmdTimeout)
	vm.Expect(`root system: asking again for venti`, cmdTimeout)
	vm.Expect(`venti \[10\.0\.2\.2:5640\]: `, cmdTimeout)
	vm.Line("clear")
	vm.Expect(`no root configured`, cmdTimeout)
	vm.Line("")
	vm.Expect(prompt("ants"), cmdTimeout)
	if out := vm.Run("cat /env/venti", "ants% ", cmdTimeout); strings.TrimSpace(out) != "" {
		t.Errorf("venti after clear: %q", out)
	}
}

// TestBrokenScriptsAndBreak: failing boot scripts are reported with file:line and
// boot goes on; ants.break stops before a script with a shell, and exit resumes.
func TestBrokenScriptsAndBreak(t *testing.T) {
	t.Parallel()
	vm := boot(t, qvm.Options{Append: "ants.break=sysname"},
		qvm.File{Path: "lib/boot/25-broken.sh", Content: "true\necho before\nbogus-command arg\necho notreached\n"},
		qvm.File{Path: "lib/boot/26-syntax.sh", Content: "echo ok\nif then fi\n"},
		qvm.File{Path: "lib/boot/27-exit.sh", Content: "# a comment\n\nfalse || exit 3\n"},
	)
	vm.Expect(`FAILED /lib/boot/25-broken.sh:3: 'bogus-command': command not found \(exit 127\)`, bootTimeout)
	vm.Expect(`FAILED /lib/boot/26-syntax.sh:2: syntax error`, cmdTimeout)
	vm.Expect(`FAILED /lib/boot/27-exit.sh:3: exit 3`, cmdTimeout)
	vm.Expect(`break before /lib/boot/30-sysname.sh \(ants.break=sysname\): exit the shell to go on`, cmdTimeout)
	vm.Expect(`ants% `, cmdTimeout)
	contains(t, "break shell", vm.Run("echo $((5*5))", "ants% ", cmdTimeout), "25")
	vm.Line("exit")
	vm.Expect(`resuming boot at /lib/boot/30-sysname.sh`, cmdTimeout)
	vm.Expect(`boot scripts done: 9 ran, 3 failed`, cmdTimeout)
	vm.Expect(`admin shell on`, cmdTimeout)
	vm.Expect(prompt("ants"), cmdTimeout)
	if strings.Contains(vm.Output(), "notreached") {
		t.Errorf("a script went on after its failing command")
	}
}

// TestBadInput: garbage on the command line and in boot.conf gets one line each
// naming the input, and boot reaches the admin shell; reboot ends QEMU.
func TestBadInput(t *testing.T) {
	t.Parallel()
	vm := boot(t, qvm.Options{Append: `venti=tcp!x!notaport ants.bogus=1 =oops interactive=maybe ants.tmpfs=lots`},
		qvm.File{Path: "cfg/boot.conf", Content: "sysname=fine\nthis is not a conf line\nrootdelay=soon\n"},
	)
	vm.Expect(`/cfg/boot.conf:2: "this is not a conf line" is not NAME=VALUE`, bootTimeout)
	vm.Expect(`/cfg/boot.conf: rootdelay: "soon" is not a whole number of seconds; ignored`, cmdTimeout)
	out := vm.Expect(`admin shell on`, bootTimeout)
	_ = out
	log := vm.Output()
	for _, want := range []string{
		`"=oops" has no name before '='`,
		`venti: "tcp!x!notaport": port "notaport" is not a number; ignored`,
		`unknown variable ants.bogus`,
		`interactive: "maybe" is not yes or no`,
		`ants.tmpfs: "lots" is not a size`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("console lacks %q", want)
		}
	}
	vm.Expect(prompt("fine"), cmdTimeout)
	contains(t, "shell", vm.Run("echo $((3*3))", "fine% ", cmdTimeout), "9")
	vm.Line("reboot")
	vm.Expect(`rebooting: synced`, cmdTimeout)
	vm.Wait(cmdTimeout)
}

// adminDuringScript boots with one more boot script, 25-NAME.sh, which echoes
// NAME and then runs body; once NAME is on the console it takes the console for
// the admin shell (Ctrl-] a) while the scripts still run.
func adminDuringScript(t *testing.T, name, body string) *qvmtest.VM {
	t.Helper()
	vm := boot(t, qvm.Options{}, qvm.File{Path: "lib/boot/25-" + name + ".sh", Content: "echo " + name + "\n" + body})
	vm.Expect(name, bootTimeout)
	vm.Type("\x1da")
	vm.Expect(`\[ants: admin shell;`, cmdTimeout)
	return vm
}

// TestAdminShellDuringBoot: the admin shell is there from the start; a boot script
// that hangs does not keep it from the console (Ctrl-] a).
func TestAdminShellDuringBoot(t *testing.T) {
	t.Parallel()
	vm := adminDuringScript(t, "hanging-now", "sleep 600\n")
	vm.Line("")
	vm.Expect(`ants% `, cmdTimeout)
	contains(t, "admin during boot", vm.Run("echo $((9*9)); ps -e", `ants% `, cmdTimeout), "81", "sleep")
}

// TestTypingWhileBootEnds: an admin who took the console during the boot scripts
// (Ctrl-] a) and is typing when they end keeps the line: init gives the focus to
// the admin shell with an Enter only when the focus really moves.
func TestTypingWhileBootEnds(t *testing.T) {
	t.Parallel()
	vm := adminDuringScript(t, "slow-script", "sleep 4\n")
	vm.Type("echo par")
	vm.Expect(`no root configured`, cmdTimeout)
	mark := len(vm.Output())
	vm.Type("tial-line\r")
	vm.Expect(`\npartial-line\r?\n`, cmdTimeout)
	if out := vm.Output()[mark:]; strings.Contains(out, "tial-line:") {
		t.Errorf("the line was cut in two when the boot scripts ended:\n%s", vm.Output())
	}
}
