// Package qvm starts an ants image in QEMU and drives its serial console: type keys,
// expect text with a deadline. Every call returns an error; nothing here knows about
// testing (package qvmtest is the thin layer for tests, which fails the test on an
// error; the bench uses this package as it is). The shape follows hugelgupf/vmtest's
// qemu.Options: options with typed devices (devices.go) build the command line, Start
// runs it, and the file servers a guest boots from are started beside it (servers.go).
package qvm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options describe a VM.
type Options struct {
	Kernel, Initrd string
	Append         string // added to "console=ttyS0 quiet"
	MemMiB         int    // default 256
	// Devices are attached in order: disks, NICs, shared folders, raw arguments
	// (Args). Without a NIC among them the VM has none (-nic none: no iPXE ROM
	// to load, a second saved).
	Devices []Device
	// Rng adds a virtio-rng device. Off by default, as on users' QEMU lines:
	// TCG's CPU has no RDRAND, so without it the guest kernel's CRNG may not
	// be ready for minutes, and the boot path must not wait for it.
	Rng bool
	// Name labels the VM in its errors and tells its console log from the
	// others of one test (qvmtest: TEST-NAME.log).
	Name string
	// NoKernel boots through the firmware, from a disk or the network among
	// Devices (the boot media of make usb and make pxe): no -kernel, -initrd or
	// -append, so Kernel, Initrd and Append are unused.
	NoKernel bool
	// LogFile, if set, receives the whole console output, after a first line
	// with the QEMU command.
	LogFile string
	// Console, if set, receives a copy of the console output as it comes.
	Console io.Writer
	// QEMU is the binary; default qemu-system-x86_64.
	QEMU string
}

// Cmdline is the QEMU command line the options make, binary first.
func (o Options) Cmdline() ([]string, error) {
	bin := o.QEMU
	if bin == "" {
		bin = "qemu-system-x86_64"
	}
	mem := o.MemMiB
	if mem == 0 {
		mem = 256
	}
	if mem < 0 {
		return nil, fmt.Errorf("qvm: memory %d MiB", mem)
	}
	args := []string{bin,
		"-accel", "tcg", "-m", fmt.Sprint(mem), "-smp", "1",
		"-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
	}
	if !o.NoKernel {
		if o.Kernel == "" || o.Initrd == "" {
			return nil, errors.New("qvm: no kernel or initrd (or NoKernel to boot through the firmware)")
		}
		args = append(args, "-kernel", o.Kernel, "-initrd", o.Initrd,
			"-append", strings.TrimSpace("console=ttyS0 quiet "+o.Append))
	}
	nics := 0
	for _, d := range o.Devices {
		switch d.(type) {
		case NIC, *NIC:
			nics++
		case nil:
			return nil, errors.New("qvm: a nil device")
		}
	}
	if nics == 0 {
		args = append(args, "-nic", "none")
	}
	if o.Rng {
		args = append(args, "-device", "virtio-rng-pci")
	}
	for _, d := range o.Devices {
		a, err := d.QEMUArgs()
		if err != nil {
			return nil, err
		}
		args = append(args, a...)
	}
	return args, nil
}

// VM is a running QEMU with its serial console on our pipes.
type VM struct {
	name    string
	cmd     *exec.Cmd
	in      io.WriteCloser
	mu      sync.Mutex
	out     bytes.Buffer
	cursor  int
	changed chan struct{}
	exited  chan struct{}
	exitErr error
	log     *os.File
	console io.Writer
	close   sync.Once
}

// Start boots a VM. Close ends it.
func Start(o Options) (*VM, error) {
	args, err := o.Cmdline()
	if err != nil {
		return nil, err
	}
	vm := &VM{name: o.Name, changed: make(chan struct{}, 1), exited: make(chan struct{}), console: o.Console}
	if o.LogFile != "" {
		if err := os.MkdirAll(filepath.Dir(o.LogFile), 0o755); err != nil {
			return nil, err
		}
		if vm.log, err = os.Create(o.LogFile); err != nil {
			return nil, err
		}
		fmt.Fprintf(vm.log, "# %s\n", strings.Join(args, " "))
	}
	vm.cmd = exec.Command(args[0], args[1:]...)
	// Its own process group: Close kills QEMU and the relays it started.
	vm.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if vm.in, err = vm.cmd.StdinPipe(); err != nil {
		vm.closeLog()
		return nil, err
	}
	pr, pw := io.Pipe()
	vm.cmd.Stdout, vm.cmd.Stderr = pw, pw
	if err := vm.cmd.Start(); err != nil {
		vm.closeLog()
		return nil, fmt.Errorf("starting QEMU%s: %w", vm.label(), err)
	}
	go vm.read(pr)
	go func() {
		vm.exitErr = vm.cmd.Wait()
		pw.Close()
		close(vm.exited)
	}()
	return vm, nil
}

func (vm *VM) label() string {
	if vm.name == "" {
		return ""
	}
	return " (" + vm.name + ")"
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
			if vm.console != nil {
				vm.console.Write(buf[:n])
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

// Close kills QEMU (its process group) and closes the log; it may be called again.
func (vm *VM) Close() {
	vm.close.Do(func() {
		if vm.cmd.Process != nil {
			syscall.Kill(-vm.cmd.Process.Pid, syscall.SIGKILL)
		}
		select {
		case <-vm.exited:
		case <-time.After(5 * time.Second):
		}
		vm.closeLog()
	})
}

func (vm *VM) closeLog() {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	if vm.log != nil {
		vm.log.Close()
		vm.log = nil
	}
}

// Output is everything the console printed so far.
func (vm *VM) Output() string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.out.String()
}

// Expect waits until the console prints text matching the regular expression re
// after what earlier Expects consumed, and returns the submatches; after timeout,
// or when QEMU exits first, it returns an error with the last lines printed.
func (vm *VM) Expect(re string, timeout time.Duration) ([]string, error) {
	rx, err := regexp.Compile(re)
	if err != nil {
		return nil, err
	}
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
			return nil, fmt.Errorf("QEMU%s exited (%v) before the console showed %q; last output:\n%s", vm.label(), vm.exitErr, re, lastLines(tail, 15))
		case <-deadline:
			return nil, fmt.Errorf("after %v the console%s has not shown %q; last output:\n%s", timeout, vm.label(), re, lastLines(tail, 15))
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
func (vm *VM) Type(s string) error {
	for i := 0; i < len(s); i++ {
		if _, err := vm.in.Write([]byte{s[i]}); err != nil {
			return fmt.Errorf("typing into QEMU%s: %w", vm.label(), err)
		}
		time.Sleep(3 * time.Millisecond)
	}
	return nil
}

// Paste sends s as a terminal's paste does: 64 bytes at a time, a millisecond
// apart, as fast as QEMU takes them (a guest that stops reading its UART stops
// QEMU reading them, and Paste then waits with it).
func (vm *VM) Paste(s string) error {
	for len(s) > 0 {
		n := min(64, len(s))
		if _, err := io.WriteString(vm.in, s[:n]); err != nil {
			return fmt.Errorf("pasting into QEMU%s: %w", vm.label(), err)
		}
		s = s[n:]
		time.Sleep(time.Millisecond)
	}
	return nil
}

// Line types s and Enter (a carriage return, as a serial terminal sends it).
func (vm *VM) Line(s string) error { return vm.Type(s + "\r") }

// Run types a command at a prompt and waits for the next prompt; it returns what
// the command printed. prompt is a regular expression for the prompt.
func (vm *VM) Run(cmd, prompt string, timeout time.Duration) (string, error) {
	if err := vm.Line(cmd); err != nil {
		return "", err
	}
	m, err := vm.Expect(`(?s)`+regexp.QuoteMeta(cmd)+`\r?\n(.*?)`+prompt, timeout)
	if err != nil {
		return "", err
	}
	return m[1], nil
}

// Wait waits up to timeout for QEMU to exit.
func (vm *VM) Wait(timeout time.Duration) error {
	select {
	case <-vm.exited:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("QEMU%s still running after %v; last output:\n%s", vm.label(), timeout, lastLines(vm.Output(), 15))
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
