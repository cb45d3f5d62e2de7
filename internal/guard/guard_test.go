package guard

import (
	"strings"
	"testing"
)

func TestDeviceFilterProgram(t *testing.T) {
	for _, tc := range []struct {
		typ, major, minor int
		want              bool
		what              string
	}{
		{Char, 1, 3, true, "null"},
		{Char, 1, 9, true, "urandom"},
		{Char, 5, 0, true, "tty"},
		{Char, 5, 2, true, "ptmx"},
		{Char, 136, 0, true, "pts/0"},
		{Char, 143, 4095, true, "pts in the last major"},
		{Char, 10, 229, true, "fuse"},
		{Block, 254, 0, true, "vda"},
		{Block, 8, 1, true, "sda1"},
		{Char, 1, 1, false, "mem"},
		{Char, 1, 2, false, "kmem"},
		{Char, 1, 4, false, "port"},
		{Char, 1, 11, false, "kmsg"},
		{Char, 4, 0, false, "tty0"},
		{Char, 4, 1, false, "tty1"},
		{Char, 4, 64, false, "ttyS0"},
		{Char, 5, 1, false, "console"},
		{Char, 7, 0, false, "vcs"},
		{Char, 7, 128, false, "vcsa"},
		{Char, 188, 0, false, "ttyUSB0"},
		{Char, 229, 0, false, "hvc0"},
		{Char, 10, 1, false, "psaux"},
		{Char, 144, 0, false, "just above the pts majors"},
		{Char, 135, 0, false, "just below the pts majors"},
		{3, 1, 3, false, "an unknown device type"},
	} {
		if got := Allowed(RootDevices, tc.typ, tc.major, tc.minor); got != tc.want {
			t.Errorf("%s (%s): allowed %v, want %v", tc.what, DevName(tc.typ, tc.major, tc.minor), got, tc.want)
		}
	}
	// The admin side's loop device (the image's squashfs) is refused; its
	// neighbours, and a char device of the same numbers (vcs), are what they were.
	hidden := []DevRule{{7, 0, "loop0"}, {8, 3, "sda3"}}
	for _, tc := range []struct {
		typ, major, minor int
		want              bool
	}{
		{Block, 7, 0, false}, {Block, 8, 3, false}, {Block, 7, 1, true}, {Block, 8, 0, true},
		{Block, 254, 0, true}, {Char, 7, 0, false}, {Char, 1, 3, true}, {Char, 4, 64, false},
	} {
		if got := Allowed(RootDevices, tc.typ, tc.major, tc.minor, hidden...); got != tc.want {
			t.Errorf("with %v hidden: %s allowed %v, want %v", hidden, DevName(tc.typ, tc.major, tc.minor), got, tc.want)
		}
	}
}

func TestDeviceFilterJumpsInRange(t *testing.T) {
	p := program(RootDevices, []DevRule{{7, 0, "loop0"}, {7, 1, "loop1"}})
	for i, in := range p {
		if in.code&0x07 == clsJMP && in.code != clsJMP|jmpEXIT {
			to := i + 1 + int(in.off)
			if to <= i || to >= len(p) {
				t.Errorf("instruction %d jumps to %d, outside (%d..%d)", i, to, i+1, len(p)-1)
			}
		}
	}
	if last := p[len(p)-1]; last.code != clsJMP|jmpEXIT {
		t.Errorf("the program does not end in exit: %#x", last.code)
	}
	if b := p[0].bytes(); len(b) != 8 || b[0] != 0x61 || b[1] != 0x12 {
		t.Errorf("ldx r2 = [r1+0] encodes as % x, want 61 12 00 00 00 00 00 00", b)
	}
}

func TestParseLimits(t *testing.T) {
	const mib = 1 << 20
	m := Machine{MemTotal: 1024 * mib, Tasks: 32768}
	for _, tc := range []struct {
		mem, pids string
		m         Machine
		want      Limits
		err       string
	}{
		{"", "", m, Limits{MemoryMax: 896 * mib, PidsMax: 28672}, ""},
		{"auto", "auto", Machine{MemTotal: 256 * mib, Tasks: 1900}, Limits{MemoryMax: 192 * mib, PidsMax: 1663}, ""},
		{"", "", Machine{MemTotal: 80 * mib, Tasks: 200}, Limits{MemoryMax: 40 * mib, PidsMax: 100}, ""},
		{"max", "max", m, Limits{}, ""},
		{"512m", "1000", m, Limits{MemoryMax: 512 * mib, PidsMax: 1000}, ""},
		{"50%", "", m, Limits{MemoryMax: 512 * mib, PidsMax: 28672}, ""},
		{"1g", "", m, Limits{MemoryMax: 1024 * mib, PidsMax: 28672}, ""},
		{"", "", Machine{}, Limits{}, ""},
		{"lots", "", m, Limits{}, "ants.rootmem=lots"},
		{"1m", "", m, Limits{}, "too small"},
		{"0%", "", m, Limits{}, "percentage"},
		{"99999999999999999999g", "", m, Limits{}, "ants.rootmem"},
		{"", "-5", m, Limits{}, "ants.rootpids=-5"},
		{"", "3", m, Limits{}, "from 16"},
		{"", "99999999999999999999", m, Limits{}, "ants.rootpids"},
	} {
		got, err := ParseLimits(tc.mem, tc.pids, tc.m)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseLimits(%q, %q): error %v, want one with %q", tc.mem, tc.pids, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseLimits(%q, %q, %+v) = %+v, %v; want %+v", tc.mem, tc.pids, tc.m, got, err, tc.want)
		}
	}
}

func TestParseUevent(t *testing.T) {
	ev, ok := ParseUevent([]byte("add@/devices/pci0000:00/0000:00:04.0/virtio1/block/vdb\x00ACTION=add\x00DEVPATH=/devices/x\x00SUBSYSTEM=block\x00MAJOR=254\x00MINOR=16\x00DEVNAME=vdb\x00DEVTYPE=disk\x00SEQNUM=1234\x00"))
	want := Uevent{Action: "add", Subsystem: "block", DevName: "vdb", Major: 254, Minor: 16, HasDev: true}
	if !ok || ev != want {
		t.Errorf("ParseUevent = %+v, %v; want %+v", ev, ok, want)
	}
	if _, ok := ParseUevent([]byte("libudev\x00\xfe\xed\xca\xfe")); ok {
		t.Errorf("a libudev message was taken for the kernel's")
	}
	if ev, ok := ParseUevent([]byte("change@/x\x00ACTION=change\x00MAJOR=x\x00MINOR=1")); !ok || ev.HasDev {
		t.Errorf("a bad MAJOR gave %+v, %v", ev, ok)
	}
}

func FuzzParseUevent(f *testing.F) {
	f.Add([]byte("add@/x\x00ACTION=add\x00SUBSYSTEM=block\x00MAJOR=8\x00MINOR=0\x00DEVNAME=sda"))
	f.Add([]byte("@\x00="))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, ok := ParseUevent(b)
		if ok && ev.Action == "" {
			t.Errorf("ok with no action: %+v", ev)
		}
	})
}
