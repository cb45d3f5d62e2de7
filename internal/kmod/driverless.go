package kmod

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Device is a device that has no driver: no module of the index matches its
// modalias and none is bound to it (a built-in driver shows as its driver link).
type Device struct {
	Path     string // its directory under sysfs/devices: ".../devices/pci0000:00/0000:00:05.0"
	Bus      string // "pci", "usb", ...
	Modalias string
	What     string // "0x040100 Multimedia audio controller", "USB interface class 0x0e Video", "serio i8042 AUX port", or "BUS device"
}

// driverBuses are the buses whose devices are peripherals that do nothing without a
// driver. The others are left out: ACPI, PNP and platform devices describe the
// firmware's view of the machine (dozens on a PC, most with no driver at all, those
// with one bound through another bus), and cpu and the like are features, not devices.
var driverBuses = map[string]bool{
	"pci": true, "usb": true, "virtio": true, "scsi": true, "mmc": true, "sdio": true,
	"hid": true, "serio": true, "pcmcia": true, "ieee1394": true, "thunderbolt": true,
}

// Driverless lists the devices on the buses of driverBuses whose modalias matches
// no module of the index (an alias naming a module that modules.dep lacks does not
// count) and that have no driver bound, sorted by path. PCI devices that need no driver are left
// out: bridges (host, ISA, PCI-to-PCI: base class 0x06), memory controllers (0x05),
// processors (0x0b), signal processing controllers (0x11, thermal sensors), and
// system peripherals (0x08: interrupt, DMA and timer controllers, IOMMUs), except
// SD host controllers (0x0805). A device that went away meanwhile is skipped.
func (ix *Index) Driverless(sysfs string) ([]Device, []error) {
	buses, err := os.ReadDir(filepath.Join(sysfs, "bus"))
	if err != nil {
		return nil, []error{fmt.Errorf("kmod: driverless: %w", err)}
	}
	var out []Device
	var errs []error
	for _, b := range buses {
		if !driverBuses[b.Name()] {
			continue
		}
		dir := filepath.Join(sysfs, "bus", b.Name(), "devices")
		devs, err := os.ReadDir(dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("kmod: driverless: %w", err))
			}
			continue
		}
		for _, d := range devs {
			p, err := filepath.EvalSymlinks(filepath.Join(dir, d.Name()))
			if err != nil {
				continue // gone
			}
			data, err := os.ReadFile(filepath.Join(p, "modalias"))
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENODEV) {
					errs = append(errs, fmt.Errorf("kmod: driverless: %w", err))
				}
				continue
			}
			alias := strings.TrimSpace(string(data))
			if alias == "" || len(ix.known(ix.MatchAlias(alias))) > 0 {
				continue
			}
			if _, err := os.Lstat(filepath.Join(p, "driver")); err == nil {
				continue
			}
			dev := Device{Path: p, Bus: b.Name(), Modalias: alias, What: b.Name() + " device"}
			switch b.Name() {
			case "pci":
				class, ok := readHex(filepath.Join(p, "class"))
				if ok && !pciNeedsDriver(class) {
					continue
				}
				if ok {
					dev.What = fmt.Sprintf("0x%06x %s", class, pciClassName(class))
				}
			case "usb":
				if c, ok := readHex(filepath.Join(p, "bInterfaceClass")); ok {
					dev.What = fmt.Sprintf("USB interface class 0x%02x %s", c, usbClassName(c))
				}
			case "serio":
				if desc, err := os.ReadFile(filepath.Join(p, "description")); err == nil && len(bytes.TrimSpace(desc)) > 0 {
					dev.What = "serio " + string(bytes.TrimSpace(desc)) // "i8042 AUX port": a PS/2 mouse
				}
			}
			out = append(out, dev)
		}
	}
	slices.SortFunc(out, func(a, b Device) int { return strings.Compare(a.Path, b.Path) })
	return out, errs
}

func readHex(p string) (uint32, bool) {
	data, err := os.ReadFile(p)
	if err != nil {
		return 0, false
	}
	s := strings.TrimPrefix(strings.TrimSpace(string(data)), "0x")
	n, err := strconv.ParseUint(s, 16, 32)
	return uint32(n), err == nil
}

// pciNeedsDriver says whether a PCI device of class (the sysfs class file: base
// class, subclass, programming interface) does anything only with a driver; see
// Driverless.
func pciNeedsDriver(class uint32) bool {
	switch class >> 16 {
	case 0x05, 0x06, 0x0b, 0x11:
		return false
	case 0x08:
		return class>>8 == 0x0805
	}
	return true
}

// pciSubclasses names the common PCI subclasses (base class, subclass), as the
// PCI ID database (lspci) names them.
var pciSubclasses = map[uint32]string{
	0x0100: "SCSI storage controller", 0x0101: "IDE interface", 0x0104: "RAID bus controller",
	0x0106: "SATA controller", 0x0107: "Serial Attached SCSI controller", 0x0108: "Non-Volatile memory controller",
	0x0200: "Ethernet controller", 0x0280: "Network controller",
	0x0300: "VGA compatible controller", 0x0302: "3D controller", 0x0380: "Display controller",
	0x0400: "Multimedia video controller", 0x0401: "Multimedia audio controller", 0x0403: "Audio device",
	0x0700: "Serial controller", 0x0780: "Communication controller",
	0x0805: "SD Host controller",
	0x0c00: "FireWire (IEEE 1394)", 0x0c03: "USB controller", 0x0c04: "Fibre Channel", 0x0c05: "SMBus",
	0x0c80: "Serial bus controller", 0x0d11: "Bluetooth", 0x0d80: "Wireless controller",
}

// pciBaseClasses names the PCI base classes.
var pciBaseClasses = map[uint32]string{
	0x00: "Unclassified device", 0x01: "Mass storage controller", 0x02: "Network controller",
	0x03: "Display controller", 0x04: "Multimedia controller", 0x05: "Memory controller",
	0x06: "Bridge", 0x07: "Communication controller", 0x08: "Generic system peripheral",
	0x09: "Input device controller", 0x0a: "Docking station", 0x0b: "Processor",
	0x0c: "Serial bus controller", 0x0d: "Wireless controller", 0x0e: "Intelligent controller",
	0x0f: "Satellite communications controller", 0x10: "Encryption controller",
	0x11: "Signal processing controller", 0x12: "Processing accelerators",
	0x13: "Non-Essential Instrumentation", 0xff: "Unassigned class",
}

func pciClassName(class uint32) string {
	if s, ok := pciSubclasses[class>>8]; ok {
		return s
	}
	if s, ok := pciBaseClasses[class>>16]; ok {
		return s
	}
	return "PCI device"
}

// usbClasses names the USB interface classes (bInterfaceClass).
var usbClasses = map[uint32]string{
	0x01: "Audio", 0x02: "Communications", 0x03: "Human Interface Device", 0x05: "Physical",
	0x06: "Image", 0x07: "Printer", 0x08: "Mass Storage", 0x09: "Hub", 0x0a: "CDC Data",
	0x0b: "Smart Card", 0x0d: "Content Security", 0x0e: "Video", 0x0f: "Personal Healthcare",
	0x10: "Audio/Video", 0xdc: "Diagnostic", 0xe0: "Wireless", 0xef: "Miscellaneous",
	0xfe: "Application Specific", 0xff: "Vendor Specific",
}

func usbClassName(c uint32) string {
	if s, ok := usbClasses[c]; ok {
		return s
	}
	return "unknown"
}
