package antscmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestColdplugDriverless: `ants coldplug -v` lists, after what it loaded, the
// devices with no driver in the image, then their count and what to do; a bridge and a
// device with a built-in driver bound are left out.
func TestColdplugDriverless(t *testing.T) {
	t.Parallel()
	p := setup(t)
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	rel := unix.ByteSliceToString(u.Release[:])
	mods := filepath.Join(p.ModulesDir, rel)
	write(t, filepath.Join(mods, "modules.dep"), "")
	write(t, filepath.Join(mods, "modules.alias"), "alias pci:v00001AF4d00001000sv*sd*bc*sc*i* virtio_net\n")
	pci := filepath.Join(p.Sysfs, "devices/pci0000:00")
	dev := func(slot, alias, class string) {
		write(t, filepath.Join(pci, slot, "modalias"), alias+"\n")
		write(t, filepath.Join(pci, slot, "class"), class+"\n")
		os.MkdirAll(filepath.Join(p.Sysfs, "bus/pci/devices"), 0o755)
		if err := os.Symlink("../../../devices/pci0000:00/"+slot, filepath.Join(p.Sysfs, "bus/pci/devices", slot)); err != nil {
			t.Fatal(err)
		}
	}
	dev("0000:00:00.0", "pci:v00008086d00001237sv00001AF4sd00001100bc06sc00i00", "0x060000")
	dev("0000:00:01.1", "pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80", "0x010180")
	dev("0000:00:04.0", "pci:v00001274d00005000sv00001AF4sd00001100bc04sc01i00", "0x040100")
	dev("0000:00:1f.2", "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01", "0x010601")
	os.Symlink("../../../bus/pci/drivers/ahci", filepath.Join(pci, "0000:00:1f.2", "driver"))

	rc, out, errs := p.run([]string{"coldplug", "-v"}, "")
	if rc != 0 || errs != "" {
		t.Fatalf("coldplug -v: %d, stderr %q", rc, errs)
	}
	sysDevs, _ := filepath.EvalSymlinks(pci)
	want := "coldplug: no driver in the image for " + sysDevs + "/0000:00:01.1: 0x010180 IDE interface, modalias pci:v00008086d00007010sv00001AF4sd00001100bc01sc01i80\n" +
		"coldplug: no driver in the image for " + sysDevs + "/0000:00:04.0: 0x040100 Multimedia audio controller, modalias pci:v00001274d00005000sv00001AF4sd00001100bc04sc01i00\n" +
		"coldplug: 2 devices have no driver in the image: add their modules to initramfs/modules.txt and build the image again " +
		"(on a machine with kernel " + rel + ", `modprobe -R MODALIAS` names the module)\n"
	if _, list, ok := strings.Cut(out, "modules for the devices present"); !ok || !strings.HasSuffix(list, want) {
		t.Errorf("coldplug -v:\n%s\nwant it to end with\n%s", out, want)
	}
	if strings.Contains(out, "00:00.0") || strings.Contains(out, "1f.2") {
		t.Errorf("coldplug -v lists the bridge or the bound device:\n%s", out)
	}

	// Without -v, no list; with nothing driverless, a line that says so.
	os.Remove(filepath.Join(p.Sysfs, "bus/pci/devices/0000:00:01.1"))
	os.Remove(filepath.Join(p.Sysfs, "bus/pci/devices/0000:00:04.0"))
	if rc, out, _ := p.run([]string{"coldplug"}, ""); rc != 0 || strings.Contains(out, "driver") {
		t.Errorf("coldplug: %d\n%s", rc, out)
	}
	if rc, out, _ := p.run([]string{"coldplug", "-v"}, ""); rc != 0 || !strings.HasSuffix(out, "coldplug: every device present has its driver (or needs none)\n") {
		t.Errorf("coldplug -v with every driver: %d\n%s", rc, out)
	}
}
