//go:build !race

package vmtest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ants/ants/internal/qvm"
	"github.com/ants/ants/internal/qvm/qvmtest"
)

// The boot media's default command line (the Makefile's MEDIA_CMDLINE).
const mediaCmdline = "console=tty0 console=ttyS0,115200"

// makeMedia runs `make TARGET` with the test's image (qvmtest.Image: $ANTS_KERNEL and
// $ANTS_INITRD, or build/) and VAR=VALUE words that put the output in the test's
// temporary directory: the media under test are what the Makefile builds.
func makeMedia(t *testing.T, target string, vars ...string) {
	t.Helper()
	kernel, initrd := qvmtest.Image(t)
	args := append([]string{"-s", "--no-print-directory", "-C", qvm.Root(), target,
		"MEDIA_KERNEL=" + kernel, "MEDIA_INITRD=" + initrd}, vars...)
	out, err := exec.Command("make", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", target, err, out)
	}
	t.Logf("make %s: %s", target, strings.TrimSpace(string(out)))
}

func needFile(t *testing.T, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("ANTS_VM") == "1" {
			t.Fatalf("%s missing: install %s (qemu/install-deps.sh test)", path, pkg)
		}
		t.Skipf("%s missing (Debian's %s)", path, pkg)
	}
}

// mtools runs an mtools command on the stick's EFI system partition (at 1 MiB).
func mtools(t *testing.T, img string, cmd string, args ...string) string {
	t.Helper()
	c := exec.Command(cmd, append([]string{"-i", img + "@@1M"}, args...)...)
	c.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", cmd, args, err, out)
	}
	return string(out)
}

// startMedia boots through the firmware (no -kernel) and checks at the end that the
// kernel did not panic.
func startMedia(t *testing.T, devs ...qvm.Device) *qvmtest.VM {
	t.Helper()
	vm := qvmtest.Start(t, qvm.Options{NoKernel: true, Devices: devs})
	t.Cleanup(func() {
		for _, bad := range []string{"Kernel panic", "Attempted to kill init"} {
			if strings.Contains(vm.Output(), bad) {
				t.Errorf("console shows %q", bad)
			}
		}
	})
	return vm
}

// TestUSBStickOVMF: make usb writes a GPT disk image that UEFI firmware (Debian's
// OVMF) boots with systemd-boot from its EFI system partition, as a USB stick on an
// xHCI controller and as a virtio disk, to the admin prompt on the serial line. The
// kernel command line is the "options" line of loader/entries/ants.conf, edited here
// as a user would (mtools, no mount): the prompt shows the sysname added there.
func TestUSBStickOVMF(t *testing.T) {
	t.Parallel()
	ovmf := "/usr/share/ovmf/OVMF.fd"
	needFile(t, ovmf, "ovmf")
	img := filepath.Join(t.TempDir(), "ants-usb.img")
	makeMedia(t, "usb", "USB_IMG="+img)

	entry := mtools(t, img, "mtype", "::/loader/entries/ants.conf")
	m := regexp.MustCompile(`(?m)^options +(.*)$`).FindStringSubmatch(entry)
	if m == nil || strings.TrimSpace(m[1]) != mediaCmdline {
		t.Fatalf("loader/entries/ants.conf: want the line \"options %s\", have:\n%s", mediaCmdline, entry)
	}
	edited := filepath.Join(t.TempDir(), "ants.conf")
	os.WriteFile(edited, []byte(strings.Replace(entry, m[0], m[0]+" sysname=stick", 1)), 0o644)
	mtools(t, img, "mcopy", "-o", edited, "::/loader/entries/ants.conf")

	for _, c := range []struct{ name, drive, bootOption string }{
		{"usb", "-device qemu-xhci -device usb-storage,drive=stick", `"UEFI QEMU QEMU USB HARDDRIVE [^"]*" from \S*/USB\(`},
		{"virtio", "-device virtio-blk-pci,drive=stick", `"UEFI Misc Device" from PciRoot`},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"-bios", ovmf,
				"-drive", "file=" + img + ",format=raw,if=none,id=stick,snapshot=on"}, strings.Fields(c.drive)...)
			start := time.Now()
			vm := startMedia(t, qvm.Args(args))
			// The firmware found the stick, and systemd-boot started the kernel
			// with the entry's initrd and options.
			vm.Expect(`BdsDxe: starting Boot\d+ `+c.bootOption, bootTimeout)
			vm.Expect(`Command line: initrd=\\ants\\initramfs.cpio `+regexp.QuoteMeta(mediaCmdline)+` sysname=stick\r?\n`, bootTimeout)
			vm.Expect(prompt("stick"), bootTimeout)
			t.Logf("admin prompt %.1f s after QEMU started", time.Since(start).Seconds())
			contains(t, "cmdline", vm.Run("cat /proc/cmdline; echo $((6*7))", "stick% ", cmdTimeout),
				mediaCmdline+" sysname=stick", "42")
		})
	}
}

// TestPXEBoot: make pxe writes a directory that QEMU's iPXE ROM (Debian's ipxe-qemu)
// boots with no disk and no -kernel, served as it is over user-net TFTP and over
// HTTP: DHCP names ants.ipxe, whose relative file names are fetched from the same
// server. The kernel line of the
// script is the command line, edited here: the prompt shows the sysname added.
func TestPXEBoot(t *testing.T) {
	t.Parallel()
	needFile(t, "/usr/lib/ipxe/qemu/efi-virtio.rom", "ipxe-qemu")
	dir := filepath.Join(t.TempDir(), "pxe")
	makeMedia(t, "pxe", "PXE_DIR="+dir)

	script, err := os.ReadFile(filepath.Join(dir, "ants.ipxe"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(script)
	m := regexp.MustCompile(`(?m)^kernel +(\S+) +initrd=(\S+) +(.*)$`).FindStringSubmatch(s)
	if !strings.HasPrefix(s, "#!ipxe\n") || m == nil || strings.TrimSpace(m[3]) != mediaCmdline {
		t.Fatalf("ants.ipxe: want #!ipxe and \"kernel FILE initrd=FILE %s\", have:\n%s", mediaCmdline, s)
	}
	// Relative names of files in the directory: it is served as it is.
	for _, f := range []string{m[1], m[2]} {
		if strings.Contains(f, "/") {
			t.Errorf("ants.ipxe names %q: want a name relative to the script", f)
		}
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("ants.ipxe names %s: %v", f, err)
		}
	}
	if !regexp.MustCompile(`(?m)^initrd +` + regexp.QuoteMeta(m[2]) + `$`).MatchString(s) {
		t.Errorf("ants.ipxe does not load the initrd %s:\n%s", m[2], s)
	}
	s = strings.Replace(s, m[0], m[0]+" sysname=net", 1)
	os.WriteFile(filepath.Join(dir, "ants.ipxe"), []byte(s), 0o644)

	// Over TFTP from QEMU's own server, and over HTTP from one on the host's
	// loopback (reached as 10.0.2.100:80 through a guestfwd): DHCP's boot file is
	// then a URL, and iPXE resolves the script's names against it.
	bb := "/bin/busybox"
	if _, err := os.Stat(bb); err != nil {
		bb = "/usr/bin/busybox"
	}
	for _, c := range []struct{ name, bootfile string }{
		{"tftp", "ants.ipxe"},
		{"http", "http://10.0.2.100/ants.ipxe"},
	} {
		t.Run(c.name, func(t *testing.T) {
			nic := qvm.NIC{Model: "virtio-net-pci", Restrict: true, TFTP: dir, BootFile: c.bootfile}
			var mu sync.Mutex
			var got []string
			if c.name == "http" {
				files := http.FileServer(http.Dir(dir))
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					got = append(got, r.URL.Path)
					mu.Unlock()
					files.ServeHTTP(w, r)
				}))
				t.Cleanup(srv.Close)
				port := srv.Listener.Addr().(*net.TCPAddr).Port
				nic.GuestFwds = append(nic.GuestFwds, qvm.GuestFwd{Addr: "10.0.2.100", Port: 80, Cmd: fmt.Sprintf("%s nc 127.0.0.1 %d", bb, port)})
			}
			start := time.Now()
			vm := startMedia(t, qvm.Args{"-boot", "n"}, nic)
			vm.Expect(`Command line: initrd=initramfs.cpio `+regexp.QuoteMeta(mediaCmdline)+` sysname=net\r?\n`, bootTimeout)
			vm.Expect(prompt("net"), bootTimeout)
			t.Logf("admin prompt %.1f s after QEMU started", time.Since(start).Seconds())
			contains(t, "cmdline", vm.Run("cat /proc/cmdline; echo $((6*7))", "net% ", cmdTimeout),
				mediaCmdline+" sysname=net", "42")
			if c.name == "http" {
				mu.Lock()
				defer mu.Unlock()
				if want := []string{"/ants.ipxe", "/vmlinuz", "/initramfs.cpio"}; strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("HTTP requests %q, want %q", got, want)
				}
			}
		})
	}
}
