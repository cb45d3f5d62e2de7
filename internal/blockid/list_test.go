package blockid

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// fakeSys is a fake /sys and /dev in a temporary directory, laid out like
// the real ones: /sys/class/block/vda1 is a symlink to
// ../../devices/.../block/vda/vda1, /sys/block/vda to ../devices/.../block/vda,
// and the "devices" in dev/ are regular files holding disk images and
// copies of their partitions' bytes.
type fakeSys struct {
	t        *testing.T
	root     string
	classDir string // sys/class/block
	blockDir string // sys/block
	devDir   string // dev
	disks    map[string]string
}

func newFakeSys(t *testing.T) *fakeSys {
	root := t.TempDir()
	f := &fakeSys{
		t:        t,
		root:     root,
		classDir: filepath.Join(root, "sys", "class", "block"),
		blockDir: filepath.Join(root, "sys", "block"),
		devDir:   filepath.Join(root, "dev"),
		disks:    map[string]string{},
	}
	for _, d := range []string{f.classDir, f.blockDir, f.devDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fakeSys) write(path, content string) {
	f.t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeSys) symlink(target, link string) {
	f.t.Helper()
	if err := os.Symlink(target, link); err != nil {
		f.t.Fatal(err)
	}
}

// disk adds a whole disk under sys/devices/<bus>/block/<name>. If img is
// not "", the image is moved to dev/<name> and its size goes into sysfs.
func (f *fakeSys) disk(name, bus, img string) {
	f.t.Helper()
	rel := filepath.Join("devices", bus, "block", name)
	dir := filepath.Join(f.root, "sys", rel)
	if err := os.MkdirAll(filepath.Join(dir, "queue"), 0o755); err != nil {
		f.t.Fatal(err)
	}
	f.write(filepath.Join(dir, "queue", "logical_block_size"), "512\n")
	f.write(filepath.Join(dir, "dev"), "254:0\n")
	f.symlink(filepath.Join("..", "..", rel), filepath.Join(f.classDir, name))
	f.symlink(filepath.Join("..", rel), filepath.Join(f.blockDir, name))
	f.disks[name] = dir
	if img == "" {
		return
	}
	fi, err := os.Stat(img)
	if err != nil {
		f.t.Fatal(err)
	}
	f.write(filepath.Join(dir, "size"), strconv.FormatInt(fi.Size()/512, 10)+"\n")
	if err := os.Rename(img, filepath.Join(f.devDir, name)); err != nil {
		f.t.Fatal(err)
	}
}

// partName names partition n of disk as the kernel does.
func partName(disk string, n int) string {
	if last := disk[len(disk)-1]; last >= '0' && last <= '9' {
		return disk + "p" + strconv.Itoa(n)
	}
	return disk + strconv.Itoa(n)
}

// part adds partition n of disk, sectors [start, start+length), and copies
// its bytes from the disk's image into its own node.
func (f *fakeSys) part(disk string, n int, start, length int64) string {
	f.t.Helper()
	name := partName(disk, n)
	dir := filepath.Join(f.disks[disk], name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	f.write(filepath.Join(dir, "partition"), strconv.Itoa(n)+"\n")
	f.write(filepath.Join(dir, "start"), strconv.FormatInt(start, 10)+"\n")
	f.write(filepath.Join(dir, "size"), strconv.FormatInt(length, 10)+"\n")
	rel, err := filepath.Rel(f.classDir, dir)
	if err != nil {
		f.t.Fatal(err)
	}
	f.symlink(rel, filepath.Join(f.classDir, name))
	extract(f.t, filepath.Join(f.devDir, disk), filepath.Join(f.devDir, name), start*512, length*512)
	return name
}

// dd copies a file system image into a disk image at sector seek.
func dd(t *testing.T, fs, disk string, seek int64) {
	t.Helper()
	run(t, "", "dd", "if="+fs, "of="+disk, "bs=512", "seek="+strconv.FormatInt(seek, 10), "conv=notrunc", "status=none")
}

const (
	uuidMBR   = "0e4ddcf8-1f5b-4f0e-9e3c-7f4b6f3a1c01"
	uuidGPT   = "0e4ddcf8-1f5b-4f0e-9e3c-7f4b6f3a1c02"
	uuidWhole = "0e4ddcf8-1f5b-4f0e-9e3c-7f4b6f3a1c03"
)

// buildFakeSys makes the fake tree that TestList and TestFind use, and the
// devices List should report in it.
func buildFakeSys(t *testing.T) (*fakeSys, []Dev) {
	need(t, "mkfs.ext4", "sfdisk", "dd")
	f := newFakeSys(t)
	tmp := t.TempDir()

	// vda: an MBR disk with ext4 in its first partition and a second,
	// empty one.
	vda := filepath.Join(tmp, "vda.img")
	sparse(t, vda, 32<<20)
	run(t, "label: dos\nlabel-id: 0xdeadbeef\nstart=2048, size=16384, type=83\nstart=18432, size=4096, type=83\n", "sfdisk", "-q", vda)
	root := filepath.Join(tmp, "root.img")
	mkext4(t, root, "antsroot", uuidMBR)
	dd(t, root, vda, 2048)
	f.disk("vda", "pci0000:00/0000:00:04.0/virtio2", vda)
	f.part("vda", 1, 2048, 16384)
	f.part("vda", 2, 18432, 4096)

	// nvme0n1: a GPT disk with ext4 in its first partition and, if
	// mkfs.vfat is here, vfat in its second.
	nvme := filepath.Join(tmp, "nvme.img")
	sparse(t, nvme, 32<<20)
	run(t, `label: gpt
label-id: 6A1B2C3D-1111-2222-3333-444455556666
start=2048, size=16384, type=L, uuid=C0FFEE00-AAAA-BBBB-CCCC-DDDDEEEEFFFF, name="ants root"
start=18432, size=8192, type=U, uuid=C0FFEE00-AAAA-BBBB-CCCC-000000000002, name="EFI system"
`, "sfdisk", "-q", nvme)
	groot := filepath.Join(tmp, "groot.img")
	mkext4(t, groot, "gptroot", uuidGPT)
	dd(t, groot, nvme, 2048)
	vfat := Dev{}
	if _, err := findTool("mkfs.vfat"); err == nil {
		esp := filepath.Join(tmp, "esp.img")
		sparse(t, esp, 4<<20)
		run(t, "", "mkfs.vfat", "-n", "ESP", "-i", "2024abcd", esp)
		dd(t, esp, nvme, 18432)
		vfat = Dev{FSType: "vfat", UUID: "2024-ABCD", Label: "ESP"}
	}
	f.disk("nvme0n1", "pci0000:00/0000:00:05.0/nvme/nvme0", nvme)
	f.part("nvme0n1", 1, 2048, 16384)
	f.part("nvme0n1", 2, 18432, 8192)

	// vdb: ext4 on the whole disk.
	vdb := filepath.Join(tmp, "vdb.img")
	mkext4(t, vdb, "whole", uuidWhole)
	f.disk("vdb", "pci0000:00/0000:00:06.0/virtio3", vdb)

	// vdc: in sysfs, but its node is missing.
	f.disk("vdc", "pci0000:00/0000:00:07.0/virtio4", "")

	// loop0: unbound (size 0), so its node is not even opened.
	f.disk("loop0", "virtual", "")
	f.write(filepath.Join(f.disks["loop0"], "size"), "0\n")
	f.write(filepath.Join(f.devDir, "loop0"), "not a device")

	dev := func(name string) string { return filepath.Join(f.devDir, name) }
	want := []Dev{
		{Name: "loop0", Path: dev("loop0")},
		{Name: "nvme0n1", Path: dev("nvme0n1"), PTType: "gpt", PTUUID: "6a1b2c3d-1111-2222-3333-444455556666"},
		{Name: "nvme0n1p1", Path: dev("nvme0n1p1"), Parent: "nvme0n1", Partition: 1, FSType: "ext4", UUID: uuidGPT, Label: "gptroot",
			PartUUID: "c0ffee00-aaaa-bbbb-cccc-ddddeeeeffff", PartLabel: "ants root"},
		{Name: "nvme0n1p2", Path: dev("nvme0n1p2"), Parent: "nvme0n1", Partition: 2, FSType: vfat.FSType, UUID: vfat.UUID, Label: vfat.Label,
			PartUUID: "c0ffee00-aaaa-bbbb-cccc-000000000002", PartLabel: "EFI system"},
		{Name: "vda", Path: dev("vda"), PTType: "dos", PTUUID: "deadbeef"},
		{Name: "vda1", Path: dev("vda1"), Parent: "vda", Partition: 1, FSType: "ext4", UUID: uuidMBR, Label: "antsroot", PartUUID: "deadbeef-01"},
		{Name: "vda2", Path: dev("vda2"), Parent: "vda", Partition: 2, PartUUID: "deadbeef-02"},
		{Name: "vdb", Path: dev("vdb"), FSType: "ext4", UUID: uuidWhole, Label: "whole"},
		{Name: "vdc", Path: dev("vdc")},
	}
	return f, want
}

func TestList(t *testing.T) {
	f, want := buildFakeSys(t)
	for name, dir := range map[string]string{"class-block": f.classDir, "sys-block": f.blockDir} {
		t.Run(name, func(t *testing.T) {
			got, err := List(dir, f.devDir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("List:\n%s\nwant:\n%s", devLines(got), devLines(want))
			}
		})
	}
}

func devLines(devs []Dev) string {
	var b strings.Builder
	for _, d := range devs {
		b.WriteString("\t" + d.String())
		b.WriteString(" parent=" + d.Parent + " partition=" + strconv.Itoa(d.Partition) + " path=" + d.Path + "\n")
	}
	return b.String()
}

// blkid agrees with what List found on the fake tree's partition nodes.
func TestListAgreesWithBlkid(t *testing.T) {
	need(t, "blkid")
	f, _ := buildFakeSys(t)
	devs, err := List(f.classDir, f.devDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if _, err := os.Stat(d.Path); err != nil || d.Name == "loop0" {
			continue
		}
		tags := blkidExport(t, d.Path)
		if tags["TYPE"] != d.FSType || tags["UUID"] != d.UUID || tags["LABEL"] != d.Label {
			t.Errorf("%s: List says %q %q %q, blkid %q %q %q", d.Name, d.FSType, d.UUID, d.Label, tags["TYPE"], tags["UUID"], tags["LABEL"])
		}
		if tags["PTTYPE"] != d.PTType || tags["PTUUID"] != d.PTUUID {
			t.Errorf("%s: List says PTTYPE %q PTUUID %q, blkid %q %q", d.Name, d.PTType, d.PTUUID, tags["PTTYPE"], tags["PTUUID"])
		}
	}
}

func TestListOddities(t *testing.T) {
	f := newFakeSys(t)
	// A dangling link and a stray file are skipped.
	f.symlink("../../devices/gone/block/vdz", filepath.Join(f.classDir, "vdz"))
	f.write(filepath.Join(f.classDir, "README"), "not a device")
	// A node that is a directory is listed without a file system.
	f.disk("sr0", "pci0000:00/ata1/host0/target0:0:0/0:0:0:0", "")
	if err := os.Mkdir(filepath.Join(f.devDir, "sr0"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Kernel names with "!" have their node in a subdirectory.
	img := filepath.Join(t.TempDir(), "c0d0.img")
	mkext4(t, img, "cciss", uuidWhole)
	f.disk("cciss!c0d0", "pci0000:00/cciss0", img)
	if err := os.Mkdir(filepath.Join(f.devDir, "cciss"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(f.devDir, "cciss!c0d0"), filepath.Join(f.devDir, "cciss", "c0d0")); err != nil {
		t.Fatal(err)
	}

	got, err := List(f.classDir, f.devDir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Dev{
		{Name: "cciss!c0d0", Path: filepath.Join(f.devDir, "cciss", "c0d0"), FSType: "ext4", UUID: uuidWhole, Label: "cciss"},
		{Name: "sr0", Path: filepath.Join(f.devDir, "sr0")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List:\n%s\nwant:\n%s", devLines(got), devLines(want))
	}

	if _, err := List(filepath.Join(f.root, "nonexistent"), f.devDir); err == nil {
		t.Error("List of a missing sysfs directory: no error")
	}
}
