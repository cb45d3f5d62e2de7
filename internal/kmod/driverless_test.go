package kmod

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestDriverless(t *testing.T) {
	sys := t.TempDir()
	pci := "devices/pci0000:00/"
	files := map[string]string{}
	links := map[string]string{}
	// dev adds a device on a bus with a modalias and more files.
	dev := func(bus, path, alias string, more ...string) {
		files[path+"/modalias"] = alias + "\n"
		for i := 0; i+1 < len(more); i += 2 {
			files[path+"/"+more[i]] = more[i+1]
		}
		links["bus/"+bus+"/devices/"+filepath.Base(path)] = "../../../" + path
	}
	// Matched by a module of the index: d (any class), a (virtio 2).
	dev("pci", pci+"0000:00:03.0", "pci:v00001234d00000001sv0sd0bc02sc00i00", "class", "0x020000\n")
	dev("virtio", pci+"0000:00:04.0/virtio0", "virtio:d00000002v00001AF4")
	// No module, no driver: listed.
	dev("pci", pci+"0000:00:05.0", "pci:v00001274d00005000sv00001AF4sd00001100bc04sc01i00", "class", "0x040100\n")
	dev("pci", pci+"0000:00:06.0", "pci:v00008086d00007010sv0sd0bc01sc01i80", "class", "0x010180\n")
	dev("pci", pci+"0000:00:0c.0", "pci:v00008086d0000A0EFsv0sd0bc0Csc05i00", "class", "0x0c0500\n")
	dev("pci", pci+"0000:00:0d.0", "pci:v00001B36d00000001sv0sd0bcFFsc00i00", "class", "0xff0000\n")
	dev("pci", pci+"0000:00:0e.0", "pci:v00001B36d00000002sv0sd0bc0Csc10i00", "class", "0x0c1000\n") // a base class name only
	dev("pci", pci+"0000:00:0f.0", "pci:v00001B36d00000003sv0sd0bc08sc05i01", "class", "0x080501\n") // SD host
	dev("pci", pci+"0000:00:10.0", "pci:v00001B36d00000004sv0sd0bc0Csc03i30")                        // no class file
	dev("usb", pci+"0000:00:07.0/usb1/1-1/1-1:1.0", "usb:v046Dp0825d0010dcEFdsc02dp01ic0Eisc01ip00in00", "bInterfaceClass", "0e\n")
	dev("serio", "devices/platform/i8042/serio1", "serio:ty01pr00id00ex00", "description", "i8042 AUX port\n")
	dev("virtio", pci+"0000:00:08.0/virtio1", "virtio:d00000005v00001AF4")
	dev("scsi", pci+"0000:00:09.0/host0/target0:0:0/0:0:0:0", "scsi:t-0x01")
	// Matched only by a module the image does not carry (ghost): listed.
	dev("hid", pci+"0000:00:07.0/usb1/1-2/1-2:1.0/0003:0627:0001.0001", "ghost:hid")
	// No module but a (built-in) driver bound: not listed.
	dev("pci", pci+"0000:00:1f.0", "pci:v00008086d00002922sv0sd0bc01sc06i01", "class", "0x010601\n")
	links[pci+"0000:00:1f.0/driver"] = "../../../bus/pci/drivers/ahci"
	dev("serio", "devices/platform/i8042/serio0", "serio:ty06pr00id00ex00", "description", "i8042 KBD port\n")
	links["devices/platform/i8042/serio0/driver"] = "../../../../bus/serio/drivers/atkbd"
	// Need no driver: bridges, memory controllers, processors, signal processing,
	// system peripherals but SD hosts.
	for i, class := range []string{"060000", "060100", "060400", "068000", "050000", "0b4000", "118000", "088000", "080600"} {
		dev("pci", fmt.Sprintf("%s0000:01:%02x.0", pci, i), "pci:v00008086d00001237sv0sd0bc"+class[:2]+"sc"+class[2:4]+"i00", "class", "0x"+class+"\n")
	}
	// Buses left out: the firmware's devices, CPU features.
	dev("acpi", "devices/LNXSYSTM:00/PNP0A03:00", "acpi:PNP0A03:")
	dev("platform", "devices/platform/pcspkr", "platform:pcspkr")
	dev("pnp", "devices/pnp0/00:05", "pnp:dPNP0400")
	dev("cpu", "devices/system/cpu/cpu0", "cpu:type:x86,ven0000fam0006mod003F:feature:,0000")
	// Devices without a modalias, an empty one, one that went away.
	files[pci+"0000:00:11.0/class"] = "0x040100\n"
	links["bus/pci/devices/0000:00:11.0"] = "../../../" + pci + "0000:00:11.0"
	files[pci+"0000:00:12.0/modalias"] = ""
	links["bus/pci/devices/0000:00:12.0"] = "../../../" + pci + "0000:00:12.0"
	links["bus/pci/devices/0000:00:13.0"] = "../../../" + pci + "0000:00:13.0"
	writeTree(t, sys, files, links)

	devs, errs := testIndex(t).Driverless(sys)
	if len(errs) > 0 {
		t.Errorf("Driverless errors: %q", errs)
	}
	want := []string{
		pci + "0000:00:05.0 pci 0x040100 Multimedia audio controller",
		pci + "0000:00:06.0 pci 0x010180 IDE interface",
		pci + "0000:00:07.0/usb1/1-1/1-1:1.0 usb USB interface class 0x0e Video",
		pci + "0000:00:07.0/usb1/1-2/1-2:1.0/0003:0627:0001.0001 hid hid device",
		pci + "0000:00:08.0/virtio1 virtio virtio device",
		pci + "0000:00:09.0/host0/target0:0:0/0:0:0:0 scsi scsi device",
		pci + "0000:00:0c.0 pci 0x0c0500 SMBus",
		pci + "0000:00:0d.0 pci 0xff0000 Unassigned class",
		pci + "0000:00:0e.0 pci 0x0c1000 Serial bus controller",
		pci + "0000:00:0f.0 pci 0x080501 SD Host controller",
		pci + "0000:00:10.0 pci pci device",
		"devices/platform/i8042/serio1 serio serio i8042 AUX port",
	}
	var got []string
	for _, d := range devs {
		rel, _ := filepath.Rel(sys, d.Path)
		got = append(got, rel+" "+d.Bus+" "+d.What)
		b, _ := filepath.Rel(sys, d.Path)
		if d.Modalias != strings.TrimSpace(files[b+"/modalias"]) {
			t.Errorf("%s: modalias %q, want %q", rel, d.Modalias, files[b+"/modalias"])
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Driverless:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	if _, errs := testIndex(t).Driverless(filepath.Join(sys, "nope")); len(errs) != 1 {
		t.Errorf("Driverless without sysfs: errors %q, want one", errs)
	}
}

// The class tables: each subclass under a named base class, a name for each,
// and the lookups as lspci names them.
func TestClassNames(t *testing.T) {
	for sub, name := range pciSubclasses {
		if _, ok := pciBaseClasses[sub>>8]; !ok || name == "" {
			t.Errorf("PCI subclass %04x %q: no base class %02x or no name", sub, name, sub>>8)
		}
	}
	for base, name := range pciBaseClasses {
		if name == "" || pciClassName(base<<16|0x7700) != name {
			t.Errorf("PCI base class %02x: %q, pciClassName %q", base, name, pciClassName(base<<16|0x7700))
		}
	}
	for class, want := range map[uint32]string{
		0x020000: "Ethernet controller", 0x010802: "Non-Volatile memory controller", 0x0c0330: "USB controller",
		0x040300: "Audio device", 0x030000: "VGA compatible controller", 0x123456: "Processing accelerators", 0x420000: "PCI device",
	} {
		if got := pciClassName(class); got != want {
			t.Errorf("pciClassName(%06x) = %q, want %q", class, got, want)
		}
	}
	for c, want := range map[uint32]string{0x03: "Human Interface Device", 0x08: "Mass Storage", 0xe0: "Wireless", 0x42: "unknown"} {
		if got := usbClassName(c); got != want {
			t.Errorf("usbClassName(%02x) = %q, want %q", c, got, want)
		}
	}
	for class, want := range map[uint32]bool{
		0x060000: false, 0x060100: false, 0x060400: false, 0x050000: false, 0x0b4000: false, 0x118000: false,
		0x080000: false, 0x088000: false, 0x080501: true, 0x010601: true, 0x020000: true, 0x0c0330: true, 0x000000: true,
	} {
		if got := pciNeedsDriver(class); got != want {
			t.Errorf("pciNeedsDriver(%06x) = %v, want %v", class, got, want)
		}
	}
}
