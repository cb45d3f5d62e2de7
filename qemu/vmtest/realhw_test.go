//go:build !race

package vmtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/qvm"
	"github.com/ants/ants/internal/qvm/qvmtest"
)

// The parts of a real machine the serial line does not show: the VGA console
// and its PC keyboard, the ACPI power button, and the admin's toolkit.

// qmpConn is one QMP session with QEMU, for many commands (typing a line is a
// send-key per character).
type qmpConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialQMP(t *testing.T, sock string) *qmpConn {
	t.Helper()
	var c net.Conn
	var err error
	for i := 0; i < 50; i++ {
		if c, err = net.Dial("unix", sock); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("QMP socket %s: %v", sock, err)
	}
	q := &qmpConn{t: t, c: c, r: bufio.NewReader(c)}
	t.Cleanup(func() { c.Close() })
	q.line() // the greeting
	q.do(map[string]any{"execute": "qmp_capabilities"})
	return q
}

func (q *qmpConn) line() string {
	q.t.Helper()
	q.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	s, err := q.r.ReadString('\n')
	if err != nil {
		q.t.Fatalf("QMP: %v", err)
	}
	return s
}

// do sends a command and waits for its return (events on the way are skipped).
func (q *qmpConn) do(cmd map[string]any) {
	q.t.Helper()
	b, _ := json.Marshal(cmd)
	fmt.Fprintf(q.c, "%s\n", b)
	for {
		s := q.line()
		if strings.Contains(s, `"return"`) {
			return
		}
		if strings.Contains(s, `"error"`) {
			q.t.Fatalf("QMP %s: %s", b, s)
		}
	}
}

// qcodes of the characters the tests type; a shifted one is "shift-CODE".
var qcodes = map[rune]string{
	' ': "spc", '\r': "ret", '-': "minus", '=': "equal", '/': "slash", '.': "dot",
	',': "comma", ';': "semicolon", '\'': "apostrophe", '[': "bracket_left",
	']': "bracket_right", '\\': "backslash", '`': "grave_accent",
	'$': "shift-4", '(': "shift-9", ')': "shift-0", '*': "shift-8", '|': "shift-backslash",
	'&': "shift-7", '?': "shift-slash", '_': "shift-minus", '>': "shift-dot",
	'<': "shift-comma", '"': "shift-apostrophe", ':': "shift-semicolon", '+': "shift-equal",
	'!': "shift-1", '@': "shift-2", '#': "shift-3", '%': "shift-5", '^': "shift-6",
	'~': "shift-grave_accent", '{': "shift-bracket_left", '}': "shift-bracket_right",
	'\x1d': "ctrl-bracket_right", // Ctrl-], the escape key
}

// keys gives the chord for one character: qcodes pressed together.
func keys(r rune) []string {
	switch {
	case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return []string{string(r)}
	case r >= 'A' && r <= 'Z':
		return []string{"shift", string(r - 'A' + 'a')}
	}
	c, ok := qcodes[r]
	if !ok {
		panic(fmt.Sprintf("no qcode for %q", r))
	}
	if m, k, ok := strings.Cut(c, "-"); ok && (m == "shift" || m == "ctrl") && k != "" {
		return []string{m, k}
	}
	return []string{c}
}

// typeKeys types s on the PC keyboard, a key (chord) at a time.
func (q *qmpConn) typeKeys(s string) {
	q.t.Helper()
	for _, r := range s {
		var ks []map[string]string
		for _, k := range keys(r) {
			ks = append(ks, map[string]string{"type": "qcode", "data": k})
		}
		q.do(map[string]any{"execute": "send-key", "arguments": map[string]any{"keys": ks}})
		time.Sleep(20 * time.Millisecond)
	}
}

// vgaBoot boots with the VGA console beside the serial one (the serial line is
// the kernel's /dev/console, the last console=) and a QMP socket.
func vgaBoot(t *testing.T, o qvm.Options, files ...qvm.File) (*qvmtest.VM, *qmpConn) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "qmp")
	o.Append = strings.TrimSpace("console=tty0 console=ttyS0 " + o.Append)
	o.Devices = append(o.Devices, qvm.Args{"-vga", "std", "-qmp", "unix:" + sock + ",server=on,wait=off"})
	vm := boot(t, o, files...)
	return vm, dialQMP(t, sock)
}

// TestVGAKeyboard: with the VGA console and the serial line, keys typed on the PC
// keyboard reach the admin shell one at a time (raw, not a line at a time), the
// escape key works from the keyboard, the shell's pty has the VGA console's size,
// and the VGA screen shows the console (not blank).
func TestVGAKeyboard(t *testing.T) {
	t.Parallel()
	vm, q := vgaBoot(t, qvm.Options{})
	vm.Expect(`admin shell on ttyS0`, bootTimeout)
	vm.Expect(`\[ants: admin shell;`, bootTimeout)
	vm.Expect(prompt("ants"), cmdTimeout)
	// A key reaches the shell before Enter: the shell's echo shows on the serial
	// console (the mux writes the focused client's output to every console).
	q.typeKeys("echo kbd-$((6*7))")
	vm.Expect(`echo kbd-\$\(\(6\*7\)\)`, cmdTimeout)
	q.typeKeys("\r")
	vm.Expect(`kbd-42`, cmdTimeout)
	vm.Expect(`ants% `, cmdTimeout)
	// The escape key and ? from the keyboard, no Enter: the mux's help.
	q.typeKeys("\x1d?")
	vm.Expect(`\[ants: \^\] then: a admin shell`, cmdTimeout)
	q.typeKeys("\x1dl")
	vm.Expect(`\* a admin shell`, cmdTimeout)
	// The pty has the VGA console's size (80x25 in text mode), not 80x24.
	q.typeKeys("stty\r")
	m := vm.Expect(`rows:(\d+) cols:(\d+) `, cmdTimeout) // the space: the whole number
	if m[1] != "25" || m[2] != "80" {
		t.Errorf("admin shell's pty: rows %s cols %s, want the VGA console's 25x80", m[1], m[2])
	}
	vm.Expect(`ants% `, cmdTimeout)
	q.typeKeys("echo vga-$((7*8))\r")
	vm.Expect(`vga-56`, cmdTimeout)
	vm.Expect(`ants% `, cmdTimeout)
	time.Sleep(time.Second) // the VGA console draws the last output
	ppm := filepath.Join(t.TempDir(), "vga.ppm")
	q.do(map[string]any{"execute": "screendump", "arguments": map[string]any{"filename": ppm}})
	img, err := readPPM(ppm)
	if err != nil {
		t.Fatal(err)
	}
	lit := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r+g+bl > 0x3000 {
				lit++
			}
		}
	}
	// A screen of text lights a few percent of its pixels; a blank one none.
	if lit < b.Dx()*b.Dy()/200 {
		t.Errorf("VGA screen %dx%d has %d lit pixels: blank", b.Dx(), b.Dy(), lit)
	}
	out := filepath.Join(qvm.Root(), "build/vmlogs", "vga.png")
	if f, err := os.Create(out); err == nil {
		png.Encode(f, img)
		f.Close()
		t.Logf("VGA screen %dx%d, %d lit pixels: %s", b.Dx(), b.Dy(), lit, out)
	}
	vm.Line("poweroff")
	vm.Wait(powerTimeout)
}

// readPPM reads a binary PPM (P6, maxval 255), QEMU's screendump format.
func readPPM(path string) (image.Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(bytes.NewReader(data))
	var fields []int
	var magic string
	for len(fields) < 3 {
		var w string
		if _, err := fmt.Fscan(r, &w); err != nil {
			return nil, fmt.Errorf("%s: header: %v", path, err)
		}
		if strings.HasPrefix(w, "#") {
			r.ReadString('\n')
			continue
		}
		if magic == "" {
			magic = w
			continue
		}
		n, err := strconv.Atoi(w)
		if err != nil {
			return nil, fmt.Errorf("%s: header %q", path, w)
		}
		fields = append(fields, n)
	}
	if magic != "P6" || fields[2] != 255 {
		return nil, fmt.Errorf("%s: %s maxval %d, want P6 255", path, magic, fields[2])
	}
	r.ReadByte() // the one whitespace after the header
	w, h := fields[0], fields[1]
	px := make([]byte, 3*w*h)
	if _, err := io.ReadFull(r, px); err != nil {
		return nil, fmt.Errorf("%s: pixels: %v", path, err)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		img.Set(i%w, i/w, color.RGBA{px[3*i], px[3*i+1], px[3*i+2], 255})
	}
	return img, nil
}

// TestPowerButton: the ACPI power button (QEMU's system_powerdown) powers off in
// order with a disk root: the root is stopped, the disk is clean, what the root
// wrote is kept.
func TestPowerButton(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "qmp")
	dir := qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	disk := qvmtest.MakeDisk(t, dir, "pwrbtn", true)
	vm := boot(t, qvm.Options{Append: "root=LABEL=pwrbtn rootwait", Devices: []qvm.Device{disk, qvm.Args{"-qmp", "unix:" + sock + ",server=on,wait=off"}}})
	vm.Expect(`power button on /dev/input/event\d+`, bootTimeout)
	vm.Expect(`demo root: up`, bootTimeout)
	vm.Line("")
	p := `demo# `
	vm.Expect(p, cmdTimeout)
	vm.Run("echo button-$((6*7)) > /root/button; sync", p, cmdTimeout)
	q := dialQMP(t, sock)
	q.do(map[string]any{"execute": "system_powerdown"})
	vm.Expect(`power button pressed: powering off`, cmdTimeout)
	vm.Expect(`powering off: synced`, powerTimeout)
	vm.Wait(powerTimeout)
	e2fsckClean(t, disk, "the power button")
	if got := debugfsCat(t, disk, "/root/button"); !strings.Contains(got, "button-42") {
		t.Errorf("/root/button after the power button: %q", got)
	}
}

// TestToolkit: the admin's tools are there and their exit statuses are what
// scripts rely on (u-root's mkdir exited 0 after an error); blkid shows the disk
// as util-linux's does; `ants coldplug -v` lists the sound card the image has no
// driver for (an ES1370) and, of QEMU's own machine, nothing that needs none.
func TestToolkit(t *testing.T) {
	t.Parallel()
	dir := qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	disk := qvmtest.MakeDisk(t, dir, "toolkit", true)
	sound := qvm.Args{"-audiodev", "none,id=snd0", "-device", "ES1370,audiodev=snd0"}
	vm := boot(t, qvm.Options{Append: "root=LABEL=toolkit rootwait", Devices: []qvm.Device{disk, sound}})
	vm.Expect(`demo root: up`, bootTimeout)
	p := `ants% `
	toAdmin(t, vm, p)
	// The README's own style: the root's namespace through a pipe to head.
	out := vm.Run("echo lines=$(ns $(cat /run/ants/root.pid) | head -3 | wc -l)", p, cmdTimeout)
	contains(t, "ns | head -3 | wc -l", out, "lines=3\r\n")
	out = vm.Run("head -n 1 /nope || echo status=$?", p, cmdTimeout)
	contains(t, "head of a missing file", out, "\nstatus=1")
	out = vm.Run("mkdir /dev/x/y && echo made-$((6*7)); echo status=$?", p, cmdTimeout)
	if strings.Contains(out, "made-42") {
		t.Errorf("mkdir of a missing parent succeeded:\n%s", out)
	}
	contains(t, "mkdir /dev/x/y", out, "\nstatus=1", "no such file or directory")
	out = vm.Run("mkdir -p /tmp/a/b && echo made-$((6*7))", p, cmdTimeout)
	contains(t, "mkdir -p", out, "made-42")
	out = vm.Run("printf 'b\\na\\nb\\n' | sort | uniq | tee /tmp/t | tr ab AB; cat /tmp/t | wc -l", p, cmdTimeout)
	contains(t, "sort | uniq | tee | tr", out, "A\r\nB\r\n", "\n2\r\n")
	out = vm.Run("cd /tmp && touch f && ls -l f && tar -cf f.tar t && tar -tf f.tar && echo tar-$((6*7)); cd /", p, cmdTimeout)
	contains(t, "touch, tar", out, " f\r\n", "\nt\r\n", "tar-42")
	out = vm.Run("printf 'hello\\n' > /tmp/ed.txt; printf '1s/hello/ed-works/\\nw\\nq\\n' | ed /tmp/ed.txt; cat /tmp/ed.txt", p, cmdTimeout)
	contains(t, "ed", out, "ed-works")
	for _, c := range []string{"ping", "wget", "strace", "kexec", "losetup", "netcat", "dmesg", "hdparm", "partprobe", "tac", "stty", "which", "xargs", "gzip"} {
		out = vm.Run("which "+c+" >/dev/null && echo have-"+c, p, cmdTimeout)
		contains(t, c, out, "have-"+c+"\r\n")
	}

	out = vm.Run("blkid", p, cmdTimeout)
	pt, _, _ := strings.Cut(disk.PartUUID, "-")
	contains(t, "blkid", out, `/dev/vda: PTUUID="`+pt+`" PTTYPE="dos"`+"\r\n",
		`/dev/vda1: LABEL="toolkit" UUID="`+disk.UUID+`" TYPE="ext4" PARTUUID="`+disk.PartUUID+`"`+"\r\n")
	out = vm.Run("blkid -o value -s UUID /dev/vda1; blkid -L toolkit; blkid -L nope; echo status=$?", p, cmdTimeout)
	contains(t, "blkid -o value, -L", out, disk.UUID+"\r\n/dev/vda1\r\nstatus=2\r\n")

	out = vm.Run("ants coldplug -v; echo status=$?", p, 2*cmdTimeout)
	contains(t, "ants coldplug -v", out, "\nstatus=0", "0x040100 Multimedia audio controller, modalias pci:v00001274d00005000",
		"add their modules to initramfs/modules.txt")
	// What else QEMU's pc machine has without a driver in the image: the IDE
	// controller (ata_piix), the VGA card (the console needs no DRM driver but it
	// has none) and the PS/2 mouse port (psmouse). Its bridges need none and are
	// left out, as are ACPI and platform devices.
	listed := 0
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, "no driver in the image for") {
			continue
		}
		listed++
		ok := false
		for _, w := range []string{"Multimedia audio controller", "IDE interface", "VGA compatible controller", "i8042 AUX port"} {
			ok = ok || strings.Contains(l, w)
		}
		if !ok {
			t.Errorf("ants coldplug -v lists a device of QEMU's pc machine that needs no driver or should have one: %s", l)
		}
	}
	contains(t, "ants coldplug -v count", out, fmt.Sprintf("coldplug: %d devices have no driver in the image", listed))
	vm.Line("poweroff")
	vm.Wait(powerTimeout)
}
