// Package qemu boots an ants image in QEMU for tests and drives its serial console:
// type keys, expect text with a deadline. The whole console output is kept in a log
// file, which stays when the test fails.
package qemu

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options describe a VM.
type Options struct {
	Kernel, Initrd string
	Append         string   // added to "console=ttyS0"
	MemMiB         int      // default 256
	Args           []string // more QEMU arguments (disks, NICs)
	// Rng adds a virtio-rng device. Off by default, as on users' QEMU lines:
	// TCG's CPU has no RDRAND, so without it the guest kernel's CRNG may not
	// be ready for minutes, and the boot path must not wait for it.
	Rng bool
	// Name tells this VM's console log from the others of one test (TEST-NAME.log).
	Name string
	// NoKernel boots through the firmware, from a disk or the network in Args
	// (the boot media of make usb and make pxe): no -kernel, -initrd or -append,
	// so Kernel, Initrd and Append are unused.
	NoKernel bool
}

// VM is a running QEMU with its serial console on our pipes.
type VM struct {
	t       testing.TB
	cmd     *exec.Cmd
	in      io.WriteCloser
	mu      sync.Mutex
	out     bytes.Buffer
	cursor  int
	changed chan struct{}
	exited  chan struct{}
	exitErr error
	logPath string
	log     *os.File
}

// Root finds the repository root (where go.mod is) from the test's directory.
func Root() string {
	dir, _ := os.Getwd()
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}

// Image returns the kernel and initramfs to boot: $ANTS_KERNEL and $ANTS_INITRD, or
// build/vmlinuz and build/initramfs.cpio. Without them the test is skipped, unless
// ANTS_VM=1 (make test), where a missing image is a failure.
func Image(t testing.TB) (kernel, initrd string) {
	kernel, initrd = os.Getenv("ANTS_KERNEL"), os.Getenv("ANTS_INITRD")
	if kernel == "" {
		kernel = filepath.Join(Root(), "build/vmlinuz")
	}
	if initrd == "" {
		initrd = filepath.Join(Root(), "build/initramfs.cpio")
	}
	for _, f := range []string{kernel, initrd} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("ANTS_VM") == "1" {
				t.Fatalf("VM test needs %s: %v (run make)", f, err)
			}
			t.Skipf("VM test skipped: %s missing (run make, or make test)", f)
		}
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		if os.Getenv("ANTS_VM") == "1" {
			t.Fatalf("VM test needs qemu-system-x86_64 (qemu/install-deps.sh)")
		}
		t.Skip("VM test skipped: no qemu-system-x86_64")
	}
	return kernel, initrd
}

// Start boots a VM; it is killed when the test ends.
func Start(t testing.TB, o Options) *VM {
	t.Helper()
	if o.MemMiB == 0 {
		o.MemMiB = 256
	}
	args := []string{
		"-accel", "tcg", "-m", fmt.Sprint(o.MemMiB), "-smp", "1",
		"-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
	}
	if !o.NoKernel {
		args = append(args, "-kernel", o.Kernel, "-initrd", o.Initrd,
			"-append", strings.TrimSpace("console=ttyS0 quiet "+o.Append))
	}
	if !hasNIC(o.Args) {
		args = append(args, "-nic", "none")
	}
	if o.Rng {
		args = append(args, "-device", "virtio-rng-pci")
	}
	args = append(args, o.Args...)
	vm := &VM{t: t, changed: make(chan struct{}, 1), exited: make(chan struct{})}
	logDir := filepath.Join(Root(), "build/vmlogs")
	os.MkdirAll(logDir, 0o755)
	logName := strings.ReplaceAll(t.Name(), "/", "_")
	if o.Name != "" {
		logName += "-" + o.Name
	}
	vm.logPath = filepath.Join(logDir, logName+".log")
	vm.log, _ = os.Create(vm.logPath)
	if vm.log != nil {
		fmt.Fprintf(vm.log, "# qemu-system-x86_64 %s\n", strings.Join(args, " "))
	}
	vm.cmd = exec.Command("qemu-system-x86_64", args...)
	vm.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var err error
	if vm.in, err = vm.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	vm.cmd.Stdout, vm.cmd.Stderr = pw, pw
	if err := vm.cmd.Start(); err != nil {
		t.Fatalf("starting QEMU: %v", err)
	}
	go vm.read(pr)
	go func() {
		vm.exitErr = vm.cmd.Wait()
		pw.Close()
		close(vm.exited)
	}()
	t.Cleanup(vm.stop)
	return vm
}

func hasNIC(args []string) bool {
	for _, a := range args {
		if a == "-nic" || a == "-netdev" {
			return true
		}
	}
	return false
}

func (vm *VM) read(r io.Reader) {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			vm.mu.Lock()
			vm.out.Write(buf[:n])
			if vm.log != nil {
				vm.log.Write(buf[:n])
			}
			vm.mu.Unlock()
			select {
			case vm.changed <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return
		}
	}
}

func (vm *VM) stop() {
	if vm.cmd.Process != nil {
		syscall.Kill(-vm.cmd.Process.Pid, syscall.SIGKILL)
	}
	select {
	case <-vm.exited:
	case <-time.After(5 * time.Second):
	}
	if vm.log != nil {
		vm.log.Close()
	}
	if vm.t.Failed() || os.Getenv("ANTS_KEEP_LOGS") != "" {
		vm.t.Logf("whole console output: %s", vm.logPath)
	} else {
		os.Remove(vm.logPath)
	}
}

// Output is everything the console printed so far.
func (vm *VM) Output() string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.out.String()
}

// Expect waits until the console prints text matching the regular expression re
// after what earlier Expects consumed, and returns the submatches. It fails the test
// after timeout.
func (vm *VM) Expect(re string, timeout time.Duration) []string {
	vm.t.Helper()
	m, err := vm.ExpectErr(re, timeout)
	if err != nil {
		vm.t.Fatal(err)
	}
	return m
}

// ExpectErr is Expect returning an error instead of failing.
func (vm *VM) ExpectErr(re string, timeout time.Duration) ([]string, error) {
	rx := regexp.MustCompile(re)
	deadline := time.After(timeout)
	for {
		vm.mu.Lock()
		rest := vm.out.Bytes()[vm.cursor:]
		loc := rx.FindSubmatchIndex(rest)
		var m []string
		if loc != nil {
			for i := 0; i+1 < len(loc); i += 2 {
				if loc[i] >= 0 {
					m = append(m, string(rest[loc[i]:loc[i+1]]))
				} else {
					m = append(m, "")
				}
			}
			vm.cursor += loc[1]
		}
		tail := string(rest)
		vm.mu.Unlock()
		if m != nil {
			return m, nil
		}
		select {
		case <-vm.changed:
		case <-vm.exited:
			// Read what is left before giving up.
			time.Sleep(50 * time.Millisecond)
			vm.mu.Lock()
			rest := vm.out.Bytes()[vm.cursor:]
			ok := rx.Match(rest)
			vm.mu.Unlock()
			if ok {
				continue
			}
			return nil, fmt.Errorf("QEMU exited (%v) before the console showed %q; last output:\n%s", vm.exitErr, re, lastLines(tail, 15))
		case <-deadline:
			return nil, fmt.Errorf("after %v the console has not shown %q; last output:\n%s", timeout, re, lastLines(tail, 15))
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Type sends keys a few milliseconds apart, as a person at a serial line would; a
// burst can overrun the guest's UART.
func (vm *VM) Type(s string) {
	vm.t.Helper()
	for i := 0; i < len(s); i++ {
		if _, err := vm.in.Write([]byte{s[i]}); err != nil {
			vm.t.Fatalf("typing into QEMU: %v", err)
		}
		time.Sleep(3 * time.Millisecond)
	}
}

// Line types s and Enter (a carriage return, as a serial terminal sends it).
func (vm *VM) Line(s string) { vm.t.Helper(); vm.Type(s + "\r") }

// Run types a command at the admin prompt and waits for the next prompt; it returns
// what the command printed. prompt is a regular expression for the prompt.
func (vm *VM) Run(cmd, prompt string, timeout time.Duration) string {
	vm.t.Helper()
	vm.Line(cmd)
	m := vm.Expect(`(?s)`+regexp.QuoteMeta(cmd)+`\r?\n(.*?)`+prompt, timeout)
	return m[1]
}

// Wait waits for QEMU to exit and fails the test after timeout.
func (vm *VM) Wait(timeout time.Duration) {
	vm.t.Helper()
	select {
	case <-vm.exited:
	case <-time.After(timeout):
		vm.t.Fatalf("QEMU still running after %v; last output:\n%s", timeout, lastLines(vm.Output(), 15))
	}
}

// Exited reports whether QEMU has exited.
func (vm *VM) Exited() bool {
	select {
	case <-vm.exited:
		return true
	default:
		return false
	}
}
