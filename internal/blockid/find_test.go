package blockid

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

var findDevs = []Dev{
	{Name: "loop0", Path: "/dev/loop0"},
	{Name: "nvme0n1", Path: "/dev/nvme0n1"},
	{Name: "nvme0n1p1", Path: "/dev/nvme0n1p1", Parent: "nvme0n1", Partition: 1, FSType: "ext4", UUID: uuidGPT, Label: "gptroot",
		PartUUID: "c0ffee00-aaaa-bbbb-cccc-ddddeeeeffff", PartLabel: "ants root"},
	{Name: "nvme0n1p2", Path: "/dev/nvme0n1p2", Parent: "nvme0n1", Partition: 2, FSType: "vfat", UUID: "2024-ABCD", Label: "ESP",
		PartUUID: "c0ffee00-aaaa-bbbb-cccc-000000000002", PartLabel: "EFI system"},
	{Name: "vda", Path: "/dev/vda"},
	{Name: "vda1", Path: "/dev/vda1", Parent: "vda", Partition: 1, FSType: "ext4", UUID: uuidMBR, Label: "antsroot", PartUUID: "deadbeef-01"},
	{Name: "vda2", Path: "/dev/vda2", Parent: "vda", Partition: 2, PartUUID: "deadbeef-02", FSType: "swap", Label: "antsroot"},
	{Name: "cciss!c0d0", Path: "/dev/cciss/c0d0", FSType: "xfs", Label: "my data"},
}

func TestFind(t *testing.T) {
	cases := []struct {
		spec string
		want string // device name
	}{
		{"/dev/vda1", "vda1"},
		{"/dev/vda", "vda"},
		{"/dev//vda1", "vda1"},
		{"vda1", "vda1"},
		{"nvme0n1p2", "nvme0n1p2"},
		{"/dev/cciss/c0d0", "cciss!c0d0"},
		{"cciss!c0d0", "cciss!c0d0"},
		{"LABEL=antsroot", "vda1"}, // the first of two
		{"LABEL=gptroot", "nvme0n1p1"},
		{`LABEL="my data"`, "cciss!c0d0"},
		{"LABEL=my data", "cciss!c0d0"},
		{"UUID=" + uuidMBR, "vda1"},
		{"UUID=" + strings.ToUpper(uuidGPT), "nvme0n1p1"},
		{"UUID=2024-abcd", "nvme0n1p2"},
		{"PARTUUID=deadbeef-02", "vda2"},
		{"PARTUUID=DEADBEEF-01", "vda1"},
		{"PARTUUID=C0FFEE00-AAAA-BBBB-CCCC-DDDDEEEEFFFF", "nvme0n1p1"},
		{"PARTLABEL=ants root", "nvme0n1p1"},
		{"PARTLABEL=EFI system", "nvme0n1p2"},
		{"/dev/disk/by-label/gptroot", "nvme0n1p1"},
		{`/dev/disk/by-label/my\x20data`, "cciss!c0d0"},
		{"/dev/disk/by-uuid/2024-ABCD", "nvme0n1p2"},
		{"/dev/disk/by-partuuid/deadbeef-01", "vda1"},
		{`/dev/disk/by-partlabel/EFI\x20system`, "nvme0n1p2"},
	}
	for _, c := range cases {
		t.Run(c.spec, func(t *testing.T) {
			d, err := Find(findDevs, c.spec)
			if err != nil {
				t.Fatalf("Find(%q): %v", c.spec, err)
			}
			if d.Name != c.want {
				t.Errorf("Find(%q) = %s, want %s", c.spec, d.Name, c.want)
			}
		})
	}
}

func TestFindNotFound(t *testing.T) {
	for _, spec := range []string{
		"LABEL=ANTSROOT", // labels are case-sensitive
		"LABEL=nope",
		"UUID=00000000-0000-0000-0000-000000000000",
		"PARTUUID=deadbeef-03",
		"PARTUUID=deadbeef", // no prefix matching
		"PARTLABEL=ants",
		"PARTLABEL=ANTS ROOT",
		"/dev/vdz",
		"vdz",
		"/dev/disk/by-label/nope",
		"/tmp/vda1", // not in /dev
	} {
		t.Run(spec, func(t *testing.T) {
			d, err := Find(findDevs, spec)
			if err == nil {
				t.Fatalf("Find(%q) = %s, want an error", spec, d)
			}
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Find(%q): %v does not match ErrNotFound", spec, err)
			}
			if !strings.HasPrefix(err.Error(), "no block device with "+spec+"; found: loop0 (), nvme0n1 (), nvme0n1p1 (ext4 ") {
				t.Errorf("Find(%q): %v", spec, err)
			}
		})
	}
}

func TestFindErrorMessage(t *testing.T) {
	devs := []Dev{
		{Name: "vda", Path: "/dev/vda"},
		{Name: "vda1", Path: "/dev/vda1", Parent: "vda", Partition: 1, FSType: "ext4", Label: "antsroot", UUID: uuidMBR, PartUUID: "deadbeef-01"},
		{Name: "vdb1", FSType: "vfat", Label: "a (b)", PartLabel: "x"},
	}
	_, err := Find(devs, "LABEL=root")
	want := "no block device with LABEL=root; found: vda (), vda1 (ext4 LABEL=antsroot UUID=" + uuidMBR +
		" PARTUUID=deadbeef-01), vdb1 (vfat LABEL=\"a (b)\" PARTLABEL=x)"
	if err == nil || err.Error() != want {
		t.Errorf("Find error:\n%v\nwant:\n%s", err, want)
	}
	_, err = Find(nil, "vda1")
	if want := "no block device with vda1; found: none"; err == nil || err.Error() != want {
		t.Errorf("Find in nothing: %v, want %s", err, want)
	}
}

func TestFindBadSpec(t *testing.T) {
	for _, c := range []struct{ spec, msg string }{
		{"", "empty"},
		{"LABEL=", "empty value"},
		{`UUID=""`, "empty value"},
		{"PARTUUID=", "empty value"},
		{"PARTLABEL=", "empty value"},
		{"FOO=bar", "unknown tag FOO="},
		{"PARTUUID=deadbeef-01/PARTNROFF=1", "PARTNROFF"},
		{"PARTUUID=deadbeef-01/partnroff=-1", "PARTNROFF"},
		{"PARTUUID=deadbeef-01/junk", "malformed"},
	} {
		t.Run(c.spec, func(t *testing.T) {
			d, err := Find(findDevs, c.spec)
			if err == nil {
				t.Fatalf("Find(%q) = %s, want an error", c.spec, d)
			}
			if errors.Is(err, ErrNotFound) {
				t.Errorf("Find(%q): %v matches ErrNotFound", c.spec, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("Find(%q): %v, want it to say %q", c.spec, err, c.msg)
			}
		})
	}
	if _, err := Find(findDevs, "PARTUUID=deadbeef-01/PARTNROFF=1"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("PARTNROFF: %v does not match errors.ErrUnsupported", err)
	}
}

// Find on what List made of the fake tree, whose nodes are not in /dev.
func TestFindListed(t *testing.T) {
	f, _ := buildFakeSys(t)
	devs, err := List(f.classDir, f.devDir)
	if err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string]string{
		"/dev/vda1":                          "vda1",
		filepath.Join(f.devDir, "vda1"):      "vda1",
		"vdb":                                "vdb",
		"LABEL=antsroot":                     "vda1",
		"UUID=" + strings.ToUpper(uuidWhole): "vdb",
		"PARTUUID=DEADBEEF-01":               "vda1",
		"PARTUUID=deadbeef-02":               "vda2",
		"PARTUUID=c0ffee00-aaaa-bbbb-cccc-ddddeeeeffff": "nvme0n1p1",
		"PARTLABEL=ants root":                           "nvme0n1p1",
	} {
		d, err := Find(devs, spec)
		if err != nil || d.Name != want {
			t.Errorf("Find(%q) = %s, %v; want %s", spec, d.Name, err, want)
		}
	}
	_, err = Find(devs, "LABEL=root")
	if err == nil || !strings.HasPrefix(err.Error(), "no block device with LABEL=root; found: loop0 (), nvme0n1 (), nvme0n1p1 (ext4 LABEL=gptroot UUID="+uuidGPT) {
		t.Errorf("Find(LABEL=root): %v", err)
	}
}
