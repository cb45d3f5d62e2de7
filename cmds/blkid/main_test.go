package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ext4 is the start of an ext4 file system: its superblock at 1024 with the
// magic, an incompat feature beyond ext3's (extents), UUID and label.
func ext4(uuid [16]byte, label string) []byte {
	b := make([]byte, 4096)
	sb := b[1024:]
	binary.LittleEndian.PutUint16(sb[56:], 0xEF53)
	binary.LittleEndian.PutUint32(sb[96:], 0x40)
	copy(sb[104:120], uuid[:])
	copy(sb[120:136], label)
	return b
}

// fakeTree makes sys/class/block and dev: vda, an MS-DOS disk (signature
// deadbeef) whose first partition vda1 holds ext4; vdb, an empty disk; and an
// image file outside both.
func fakeTree(t *testing.T) (sysBlock, devDir, img string) {
	root := t.TempDir()
	sysBlock = filepath.Join(root, "sys/class/block")
	devDir = filepath.Join(root, "dev")
	for _, d := range []string{"vda/vda1", "vdb"} {
		if err := os.MkdirAll(filepath.Join(sysBlock, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(devDir, 0o755)
	write := func(p string, b []byte) {
		t.Helper()
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(sysBlock, "vda/vda1/partition"), []byte("1\n"))
	write(filepath.Join(sysBlock, "vdb/size"), []byte("8\n"))
	fs := ext4([16]byte{0x0e, 0x4d, 0xdc, 0xf8, 0x1f, 0x5b, 0x4f, 0x0e, 0x9e, 0x3c, 0x7f, 0x4b, 0x6f, 0x3a, 0x1c, 0x01}, `demo "root"`)
	disk := make([]byte, 2048*512+len(fs))
	binary.LittleEndian.PutUint32(disk[440:], 0xdeadbeef)
	e := disk[446:]
	e[4] = 0x83
	binary.LittleEndian.PutUint32(e[8:], 2048)
	binary.LittleEndian.PutUint32(e[12:], uint32(len(fs)/512))
	disk[510], disk[511] = 0x55, 0xAA
	copy(disk[2048*512:], fs)
	write(filepath.Join(devDir, "vda"), disk)
	write(filepath.Join(devDir, "vda1"), fs)
	write(filepath.Join(devDir, "vdb"), make([]byte, 4096))
	img = filepath.Join(root, "root.img")
	write(img, ext4([16]byte{15: 2}, "image"))
	return sysBlock, devDir, img
}

func TestBlkid(t *testing.T) {
	sysBlock, devDir, img := fakeTree(t)
	vda, vda1 := filepath.Join(devDir, "vda"), filepath.Join(devDir, "vda1")
	uuid := "0e4ddcf8-1f5b-4f0e-9e3c-7f4b6f3a1c01"
	full1 := vda1 + `: LABEL="demo \"root\"" UUID="` + uuid + `" TYPE="ext4" PARTUUID="deadbeef-01"` + "\n"
	for _, tc := range []struct {
		name   string
		args   []string
		status int
		out    string
		errHas string
	}{
		{"all", nil, 0, vda + `: PTUUID="deadbeef" PTTYPE="dos"` + "\n" + full1, ""},
		{"one device", []string{vda1}, 0, full1, ""},
		{"by kernel name", []string{"vda1"}, 0, full1, ""},
		{"value of UUID", []string{"-o", "value", "-s", "UUID", vda1}, 0, uuid + "\n", ""},
		{"joined options", []string{"-ovalue", "-sTYPE", vda1}, 0, "ext4\n", ""},
		{"two tags", []string{"-s", "TYPE", "-s", "label", "-o", "value", vda1}, 0, "demo \"root\"\next4\n", ""},
		{"device", []string{"-o", "device"}, 0, vda + "\n" + vda1 + "\n", ""},
		{"export", []string{"-o", "export", "-s", "LABEL", "-s", "PTTYPE"}, 0,
			"DEVNAME=" + vda + "\nPTTYPE=dos\n\nDEVNAME=" + vda1 + "\nLABEL=demo\\ \\\"root\\\"\n", ""},
		{"-L", []string{"-L", `demo "root"`}, 0, vda1 + "\n", ""},
		{"-U, any case", []string{"-U", strings.ToUpper(uuid)}, 0, vda1 + "\n", ""},
		{"-t TYPE=ext4", []string{"-t", "TYPE=ext4", "-o", "device"}, 0, vda1 + "\n", ""},
		{"-t nothing", []string{"-t", "TYPE=xfs"}, 2, "", ""},
		{"-L nothing", []string{"-L", "nope"}, 2, "", ""},
		{"an empty disk", []string{filepath.Join(devDir, "vdb")}, 2, "", ""},
		{"an image file", []string{"-c", "/dev/null", "-p", img}, 0, img + `: LABEL="image" UUID="00000000-0000-0000-0000-000000000002" TYPE="ext4"` + "\n", ""},
		{"a missing file", []string{filepath.Join(devDir, "nope")}, 2, "", "no such file or directory"},
		{"a missing file and one there", []string{filepath.Join(devDir, "nope"), vda1}, 0, full1, "nope"},
		{"bad option", []string{"-x"}, 4, "", "unknown option -x"},
		{"bad output", []string{"-o", "list"}, 4, "", "not one of"},
		{"-s without its tag", []string{"-s"}, 4, "", "needs an argument"},
		{"bad token", []string{"-t", "ext4"}, 4, "", "not TAG=VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			status := run(tc.args, sysBlock, devDir, &out, &errb)
			if status != tc.status || out.String() != tc.out || !strings.Contains(errb.String(), tc.errHas) {
				t.Errorf("blkid %q: status %d, stdout\n%s\nstderr %q; want %d, stdout\n%s\nstderr with %q",
					tc.args, status, out.String(), errb.String(), tc.status, tc.out, tc.errHas)
			}
		})
	}
}

func TestBlkidNoSysfs(t *testing.T) {
	var out, errb bytes.Buffer
	if status := run(nil, filepath.Join(t.TempDir(), "nope"), "/dev", &out, &errb); status != 2 || errb.Len() == 0 {
		t.Errorf("blkid without sysfs: status %d, stderr %q; want 2 and an error", status, errb.String())
	}
}
