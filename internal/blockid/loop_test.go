package blockid

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoopDevice checks List and Find against the real kernel, sysfs and
// blkid: an image with an MBR partition holding ext4 is attached to a loop
// device with partition scanning. It needs root and working loop devices,
// and is skipped otherwise.
func TestLoopDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	need(t, "losetup", "sfdisk", "mkfs.ext4", "dd", "blkid")
	if _, err := os.Stat("/sys/class/block"); err != nil {
		t.Skip("no /sys/class/block")
	}

	tmp := t.TempDir()
	img := filepath.Join(tmp, "disk.img")
	sparse(t, img, 32<<20)
	run(t, "label: dos\nlabel-id: 0x7e57ab1e\nstart=2048, size=16384, type=83\n", "sfdisk", "-q", img)
	fs := filepath.Join(tmp, "fs.img")
	const label, uuid = "antslooptest", "6c1a8f0e-2b3d-4c5e-8f9a-0b1c2d3e4f50"
	mkext4(t, fs, label, uuid)
	dd(t, fs, img, 2048)

	out, err := exec.Command(need(t, "losetup"), "-P", "-f", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("losetup -P -f --show: %v: %s", err, out)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command(need(t, "losetup"), "-d", loop).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", loop, err, out)
		}
	})
	name := filepath.Base(loop)
	part := name + "p1"
	node := "/dev/" + part

	// The kernel scans the table as the device is set up, but the node
	// may take a moment; where the scan did not happen (some containers),
	// ask for it with partx.
	if !waitFor(node, time.Second) {
		if _, err := findTool("partx"); err == nil {
			out, err := exec.Command(need(t, "partx"), "-a", loop).CombinedOutput()
			t.Logf("%s did not appear; partx -a %s: %v %s", node, loop, err, out)
		}
		if !waitFor(node, 2*time.Second) {
			t.Skipf("%s did not appear after losetup -P", node)
		}
	}

	devs, err := List("/sys/class/block", "/dev")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range devs {
		lines = append(lines, d.String())
	}
	t.Logf("List: %s", strings.Join(lines, ", "))

	byLabel, err := Find(devs, "LABEL="+label)
	if err != nil {
		t.Fatal(err)
	}
	if byLabel.Name != part || byLabel.Path != node || byLabel.Parent != name || byLabel.Partition != 1 ||
		byLabel.FSType != "ext4" || byLabel.UUID != uuid {
		t.Errorf("Find(LABEL=%s) = %+v, want %s, partition 1 of %s, ext4 %s", label, byLabel, part, name, uuid)
	}
	if byLabel.PartUUID != "7e57ab1e-01" {
		t.Errorf("PartUUID = %q, want 7e57ab1e-01", byLabel.PartUUID)
	}
	blkid := strings.TrimSpace(run(t, "", "blkid", "-c", "/dev/null", "-s", "PARTUUID", "-o", "value", node))
	if byLabel.PartUUID != blkid {
		t.Errorf("PartUUID = %q, blkid says %q", byLabel.PartUUID, blkid)
	}
	// The kernel says what it took, where it scanned the table itself.
	if ue, err := os.ReadFile("/sys/class/block/" + part + "/uevent"); err == nil {
		for _, line := range strings.Split(string(ue), "\n") {
			if v, ok := strings.CutPrefix(line, "PARTUUID="); ok && v != byLabel.PartUUID {
				t.Errorf("PartUUID = %q, the kernel says %q", byLabel.PartUUID, v)
			}
		}
	}
	byPartUUID, err := Find(devs, "PARTUUID="+strings.ToUpper(blkid))
	if err != nil {
		t.Fatal(err)
	}
	if byPartUUID.Name != part {
		t.Errorf("Find(PARTUUID=%s) = %s, want %s", blkid, byPartUUID.Name, part)
	}
	byUUID, err := Find(devs, "UUID="+uuid)
	if err != nil || byUUID.Name != part {
		t.Errorf("Find(UUID=%s) = %s, %v; want %s", uuid, byUUID.Name, err, part)
	}
	whole, err := Find(devs, loop)
	if err != nil || whole.Name != name || whole.Parent != "" || whole.Partition != 0 {
		t.Errorf("Find(%s) = %+v, %v", loop, whole, err)
	}
}

func waitFor(path string, d time.Duration) bool {
	for end := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}
