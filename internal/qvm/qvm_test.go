package qvm

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/u-root/u-root/pkg/cpio"
)

func TestCmdline(t *testing.T) {
	base := "qemu-system-x86_64 -accel tcg -m 256 -smp 1 -display none -serial stdio -monitor none -no-reboot"
	disk := Disk{Path: "/d/disk.img", Label: "x"}
	for _, c := range []struct {
		name string
		o    Options
		want string
	}{
		{"kernel, no devices: no NIC", Options{Kernel: "k", Initrd: "i"},
			base + " -kernel k -initrd i -append console=ttyS0 quiet -nic none"},
		{"append, memory, rng, a disk", Options{Kernel: "k", Initrd: "i", Append: "root=LABEL=x ", MemMiB: 1024, Rng: true, Devices: []Device{disk}},
			strings.Replace(base, "-m 256", "-m 1024", 1) + " -kernel k -initrd i -append console=ttyS0 quiet root=LABEL=x -nic none -device virtio-rng-pci -drive file=/d/disk.img,if=virtio,format=raw"},
		{"a NIC: no -nic none", Options{Kernel: "k", Initrd: "i", Devices: []Device{disk, NIC{Restrict: true}}},
			base + " -kernel k -initrd i -append console=ttyS0 quiet -drive file=/d/disk.img,if=virtio,format=raw -nic user,restrict=on"},
		{"a *NIC counts too", Options{Kernel: "k", Initrd: "i", Devices: []Device{&NIC{}}},
			base + " -kernel k -initrd i -append console=ttyS0 quiet -nic user"},
		{"firmware boot, raw args in order", Options{NoKernel: true, QEMU: "q", Devices: []Device{Args{"-bios", "OVMF.fd"}, Args{"-boot", "n"}}},
			strings.Replace(base, "qemu-system-x86_64", "q", 1) + " -nic none -bios OVMF.fd -boot n"},
		{"shared folder", Options{Kernel: "k", Initrd: "i", Devices: []Device{VirtFS{Path: "/srv/r", Tag: "rootfs"}}},
			base + " -kernel k -initrd i -append console=ttyS0 quiet -nic none -virtfs local,path=/srv/r,mount_tag=rootfs,security_model=none,id=fs0"},
	} {
		got, err := c.o.Cmdline()
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		// -append's value has spaces: compare argument by argument.
		want := strings.Fields(c.want)
		if i := indexOf(want, "-append"); i >= 0 {
			j := i + 1
			for j < len(want) && !strings.HasPrefix(want[j], "-") {
				j++
			}
			want = append(append(want[:i+1:i+1], strings.Join(want[i+1:j], " ")), want[j:]...)
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, want)
		}
	}
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}

func TestCmdlineErrors(t *testing.T) {
	for name, o := range map[string]Options{
		"no kernel":         {Initrd: "i"},
		"no initrd":         {Kernel: "k"},
		"nil device":        {NoKernel: true, Devices: []Device{nil}},
		"diskless disk":     {NoKernel: true, Devices: []Device{Disk{}}},
		"forward, no port":  {NoKernel: true, Devices: []Device{NIC{GuestFwds: []GuestFwd{{Addr: "10.0.2.100", Cmd: "x"}}}}},
		"host fwd, no port": {NoKernel: true, Devices: []Device{NIC{HostFwds: []HostFwd{{GuestPort: 22}}}}},
		"tagless folder":    {NoKernel: true, Devices: []Device{VirtFS{Path: "/x"}}},
		"negative memory":   {NoKernel: true, MemMiB: -1},
	} {
		if args, err := o.Cmdline(); err == nil {
			t.Errorf("%s: no error, %q", name, args)
		}
	}
}

func TestNIC(t *testing.T) {
	for _, c := range []struct {
		name string
		nic  NIC
		want string
	}{
		{"plain", NIC{}, "user"},
		{"two 9P servers and ssh", NIC{Restrict: true,
			GuestFwds: []GuestFwd{Relay("10.0.2.100", 564, 40001), Relay("10.0.2.101", 564, 40002)},
			HostFwds:  []HostFwd{{HostPort: 2222, GuestPort: 22}}},
			"user,restrict=on,guestfwd=tcp:10.0.2.100:564-cmd:socat -b 131072 - TCP:127.0.0.1:40001,,nodelay,guestfwd=tcp:10.0.2.101:564-cmd:socat -b 131072 - TCP:127.0.0.1:40002,,nodelay,hostfwd=tcp:127.0.0.1:2222-:22"},
		{"a fleet member", NIC{Restrict: true, Hostname: "gnot1", GuestFwds: []GuestFwd{Relay("10.0.2.100", 2049, 40003)}},
			"user,restrict=on,hostname=gnot1,guestfwd=tcp:10.0.2.100:2049-cmd:socat -b 131072 - TCP:127.0.0.1:40003,,nodelay"},
		{"PXE, commas doubled", NIC{Model: "virtio-net-pci", Restrict: true, TFTP: "/srv/a,b", BootFile: "ants.ipxe",
			GuestFwds: []GuestFwd{{Addr: "10.0.2.100", Port: 80, Cmd: "diod --rfdno 0,1"}}, HostFwds: []HostFwd{{HostAddr: "0.0.0.0", HostPort: 8080, GuestPort: 80}}},
			"user,model=virtio-net-pci,restrict=on,tftp=/srv/a,,b,bootfile=ants.ipxe,guestfwd=tcp:10.0.2.100:80-cmd:diod --rfdno 0,,1,hostfwd=tcp:0.0.0.0:8080-:80"},
	} {
		got, err := c.nic.QEMUArgs()
		if err != nil || len(got) != 2 || got[0] != "-nic" || got[1] != c.want {
			t.Errorf("%s: %q, %v; want -nic %q", c.name, got, err, c.want)
		}
	}
}

func TestServerNIC(t *testing.T) {
	s := &Server{Port: 40123, GuestPort: 2049}
	got, _ := s.NIC("10.0.2.100").QEMUArgs()
	if want := "user,restrict=on,guestfwd=tcp:10.0.2.100:2049-cmd:socat -b 131072 - TCP:127.0.0.1:40123,,nodelay"; got[1] != want {
		t.Errorf("server NIC %q, want %q", got[1], want)
	}
}

func TestServerArgs(t *testing.T) {
	if got := strings.Join(diodArgs(564, "/srv/root", "/tmp/d.log"), " "); got != "-f -n -l 127.0.0.1:564 -e /srv/root -L /tmp/d.log -c /dev/null" {
		t.Errorf("diod: %s", got)
	}
	conf := ganeshaConfig(2049, "/w/recovery", "/srv/root", "/export")
	for _, want := range []string{"Protocols = 4; NFS_Port = 2049; Bind_addr = 127.0.0.1;", "Enable_NLM = false", "Graceless = true; RecoveryRoot = /w/recovery;",
		"Path = /srv/root; Pseudo = /export;", "Squash = No_Root_Squash", "FSAL { Name = VFS; }"} {
		if !strings.Contains(conf, want) {
			t.Errorf("ganesha config lacks %q:\n%s", want, conf)
		}
	}
}

func TestStatCPU(t *testing.T) {
	// A real line (ganesha.nfsd), and a command name with spaces and a ')'.
	line := "4242 (ganesha.nfsd) S 1 4242 4242 0 -1 4194560 1932 0 0 0 37 15 0 0 20 0 12 0 301 230436864 3322 18446744073709551615 1 1 0 0 0 0 0 4096 18947 0 0 0 17 1 0 0 0 0 0\n"
	if d, err := statCPU(line); err != nil || d != 520*time.Millisecond {
		t.Errorf("statCPU = %v, %v; want 520ms", d, err)
	}
	odd := strings.Replace(line, "(ganesha.nfsd)", "(a b) c)", 1)
	if d, err := statCPU(odd); err != nil || d != 520*time.Millisecond {
		t.Errorf("statCPU with ') ' in the name = %v, %v", d, err)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 x 12 13"} {
		if _, err := statCPU(bad); err == nil {
			t.Errorf("statCPU(%q): no error", bad)
		}
	}
	// This process's own line parses.
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skip(err)
	}
	if _, err := statCPU(string(b)); err != nil {
		t.Errorf("/proc/self/stat: %v", err)
	}
}

func TestOverlay(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base")
	os.WriteFile(base, []byte("12345"), 0o644) // not a multiple of 4: padded
	out := filepath.Join(dir, "out")
	if err := Overlay(base, out, File{Path: "cfg/gnot/boot.conf", Content: "sysname=gnot\n"}, File{Path: "lib/boot/25-x.sh", Content: "echo\n", Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if !bytes.HasPrefix(b, []byte("12345\x00\x00\x00")) {
		t.Fatalf("the base is not the first part, padded to 4: %q", b[:8])
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(b[8:])))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, r := range recs {
		got[r.Name] = r.Mode & 0o7777
	}
	for name, mode := range map[string]uint64{"cfg": 0o777, "cfg/gnot": 0o777, "cfg/gnot/boot.conf": 0o644, "lib/boot/25-x.sh": 0o755} {
		if m, ok := got[name]; !ok || m != mode {
			t.Errorf("%s: mode %o, present %v; want %o (records %v)", name, m, ok, mode, got)
		}
	}
	if err := Overlay(filepath.Join(dir, "missing"), out); err == nil {
		t.Error("no error for a missing base")
	}
}

func TestParseDiskIDs(t *testing.T) {
	var d Disk
	parseDiskIDs(&d, "UUID=1234-abcd LABEL=demoroot PARTUUID=0badf00d-01\n")
	if d.UUID != "1234-abcd" || d.Label != "demoroot" || d.PartUUID != "0badf00d-01" {
		t.Errorf("%+v", d)
	}
}

// TestExpect drives the console code without a VM: the fake QEMU is this test
// binary (TestFakeQEMU), which echoes keys as a terminal does and answers lines.
func TestExpect(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "qemu")
	exe, _ := os.Executable()
	os.WriteFile(fake, []byte("#!/bin/sh\nQVM_FAKE_QEMU=1 exec "+exe+" -test.run='^TestFakeQEMU$'\n"), 0o755)
	log := filepath.Join(dir, "vm.log")
	console := &lockedWriter{w: new(bytes.Buffer)}
	vm, err := Start(Options{QEMU: fake, NoKernel: true, Name: "fake", LogFile: log, Console: console})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if _, err := vm.Expect(`ants% `, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.Expect(`(`, time.Second); err == nil {
		t.Error("a bad expression: no error")
	}
	out, err := vm.Run("echo", `ants% `, 5*time.Second)
	if err != nil || !strings.Contains(out, "got echo") {
		t.Errorf("Run: %q, %v", out, err)
	}
	if _, err := vm.Expect(`never`, 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "has not shown") || !strings.Contains(err.Error(), "(fake)") {
		t.Errorf("timeout error: %v", err)
	}
	if err := vm.Wait(100 * time.Millisecond); err == nil {
		t.Error("Wait: no error while running")
	}
	vm.Line("bye")
	if err := vm.Wait(5 * time.Second); err != nil || !vm.Exited() {
		t.Errorf("Wait: %v", err)
	}
	if _, err := vm.Expect(`never`, 5*time.Second); err == nil || !strings.Contains(err.Error(), "exited (exit status 3)") {
		t.Errorf("after exit: %v", err)
	}
	vm.Close()
	vm.Close()
	b, _ := os.ReadFile(log)
	if !strings.HasPrefix(string(b), "# "+fake+" -accel tcg") || !strings.Contains(string(b), "got echo") {
		t.Errorf("log:\n%s", b)
	}
	if !strings.Contains(vm.Output(), "booting") || !strings.Contains(console.String(), "booting") {
		t.Errorf("output %q, console copy %q", vm.Output(), console.String())
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// TestFakeQEMU is TestExpect's fake QEMU when $QVM_FAKE_QEMU is set: "booting" and a
// prompt, then each line typed (ending in a carriage return, echoed) answered with
// "got LINE" and the prompt; "bye" exits 3.
func TestFakeQEMU(t *testing.T) {
	if os.Getenv("QVM_FAKE_QEMU") != "1" {
		t.Skip("TestExpect's fake QEMU")
	}
	os.Stdout.WriteString("booting\nants% ")
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := os.Stdin.Read(b); err != nil {
			os.Exit(1)
		}
		if b[0] != '\r' {
			line = append(line, b[0])
			os.Stdout.Write(b)
			continue
		}
		os.Stdout.WriteString("\r\n")
		if string(line) == "bye" {
			os.Exit(3)
		}
		os.Stdout.WriteString("got " + string(line) + "\r\nants% ")
		line = line[:0]
	}
}
