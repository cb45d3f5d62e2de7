package blockid

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var partxPair = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*")`)

// partxParts lists the partitions of a disk image as `partx -P` sees them,
// in the form partString gives (with START and SECTORS, as partx gives them,
// in 512-byte units whatever the sector size).
func partxParts(t *testing.T, img string, sectorSize int) []string {
	t.Helper()
	out := run(t, "", "partx", "-S", strconv.Itoa(sectorSize), "-P", "-o", "NR,START,SECTORS,UUID,NAME,TYPE", img)
	var parts []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		f := map[string]string{}
		for _, m := range partxPair.FindAllStringSubmatch(line, -1) {
			uq, err := strconv.Unquote(m[2])
			if err != nil {
				t.Fatalf("partx line %q: %v", line, err)
			}
			f[m[1]] = uq
		}
		parts = append(parts, fmt.Sprintf("%s %s+%s %s %q %s", f["NR"], f["START"], f["SECTORS"], f["UUID"], f["NAME"], f["TYPE"]))
	}
	return parts
}

func partString(p part, sectorSize int) string {
	k := uint64(sectorSize / 512)
	return fmt.Sprintf("%d %d+%d %s %q %s", p.num, p.start*k, p.length*k, p.uuid, p.name, p.typ)
}

func readTableFile(t *testing.T, img string, sectorSize int) (*table, error) {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return readTable(f, fi.Size(), sectorSize)
}

func checkTable(t *testing.T, img string, sectorSize int, kind, id string, want []string) *table {
	t.Helper()
	tab, err := readTableFile(t, img, sectorSize)
	if err != nil {
		t.Fatalf("readTable: %v", err)
	}
	if tab.kind != kind || tab.id != id {
		t.Errorf("table %s %s, want %s %s", tab.kind, tab.id, kind, id)
	}
	var got []string
	for _, p := range tab.parts {
		got = append(got, partString(p, sectorSize))
	}
	if want != nil && strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("partitions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := findTool("partx"); err == nil {
		if px := partxParts(t, img, sectorSize); strings.Join(got, "\n") != strings.Join(px, "\n") {
			t.Errorf("partitions:\n%s\npartx says:\n%s", strings.Join(got, "\n"), strings.Join(px, "\n"))
		}
	}
	return tab
}

func sfdiskImage(t *testing.T, size int64, script string) string {
	t.Helper()
	need(t, "sfdisk")
	img := filepath.Join(t.TempDir(), "disk.img")
	sparse(t, img, size)
	run(t, script, "sfdisk", "-q", img)
	return img
}

func TestReadTableMBR(t *testing.T) {
	img := sfdiskImage(t, 32<<20, `label: dos
label-id: 0x12345678
start=2048, size=4096, type=83, bootable
start=6144, size=4096, type=82
start=10240, size=20480, type=5
start=12288, size=2048, type=83
start=16384, size=2048, type=c
`)
	tab := checkTable(t, img, 512, "dos", "12345678", []string{
		`1 2048+4096 12345678-01 "" 0x83`,
		`2 6144+4096 12345678-02 "" 0x82`,
		`3 10240+20480 12345678-03 "" 0x5`,
		`5 12288+2048 12345678-05 "" 0x83`,
		`6 16384+2048 12345678-06 "" 0xc`,
	})
	for n, want := range map[int]string{1: "12345678-01", 6: "12345678-06", 10: "12345678-0a", 0: ""} {
		if got := tab.partUUID(n); got != want {
			t.Errorf("partUUID(%d) = %q, want %q", n, got, want)
		}
	}
	if got := tab.partLabel(1); got != "" {
		t.Errorf("partLabel(1) = %q on MBR", got)
	}
}

func TestReadTableGPT(t *testing.T) {
	img := sfdiskImage(t, 32<<20, `label: gpt
label-id: 0A1B2C3D-1111-2222-3333-444455556666
start=2048, size=16384, type=L, uuid=AABBCCDD-0011-2233-4455-66778899AABB, name="ants root"
start=18432, size=2048, type=S, uuid=11111111-2222-3333-4444-555555555555, name="ünïcode ☃"
start=20480, size=2048, uuid=22222222-2222-3333-4444-555555555555
`)
	tab := checkTable(t, img, 512, "gpt", "0a1b2c3d-1111-2222-3333-444455556666", []string{
		`1 2048+16384 aabbccdd-0011-2233-4455-66778899aabb "ants root" 0fc63daf-8483-4772-8e79-3d69d8477de4`,
		`2 18432+2048 11111111-2222-3333-4444-555555555555 "ünïcode ☃" 0657fd6d-a4ab-43c4-84e5-0933c84b4f4f`,
		`3 20480+2048 22222222-2222-3333-4444-555555555555 "" 0fc63daf-8483-4772-8e79-3d69d8477de4`,
	})
	if got := tab.partUUID(2); got != "11111111-2222-3333-4444-555555555555" {
		t.Errorf("partUUID(2) = %q", got)
	}
	if got := tab.partLabel(1); got != "ants root" {
		t.Errorf("partLabel(1) = %q", got)
	}
	if got := tab.partUUID(4); got != "" {
		t.Errorf("partUUID(4) = %q for a missing partition", got)
	}

	// With the primary header gone, the backup at the end of the disk
	// still gives the same table.
	writeAt(t, img, 512, make([]byte, 512))
	checkTable(t, img, 512, "gpt", "0a1b2c3d-1111-2222-3333-444455556666", []string{
		`1 2048+16384 aabbccdd-0011-2233-4455-66778899aabb "ants root" 0fc63daf-8483-4772-8e79-3d69d8477de4`,
		`2 18432+2048 11111111-2222-3333-4444-555555555555 "ünïcode ☃" 0657fd6d-a4ab-43c4-84e5-0933c84b4f4f`,
		`3 20480+2048 22222222-2222-3333-4444-555555555555 "" 0fc63daf-8483-4772-8e79-3d69d8477de4`,
	})

	// With the backup gone too, a protective MBR alone is no table.
	fi, err := os.Stat(img)
	if err != nil {
		t.Fatal(err)
	}
	writeAt(t, img, fi.Size()-512, make([]byte, 512))
	if tab, err := readTableFile(t, img, 512); err == nil {
		t.Errorf("readTable without GPT headers = %+v, want an error", tab)
	}
}

// gptPart is one entry for makeGPT.
type gptPart struct {
	typ, uuid  [16]byte
	first, end uint64
	name       string
}

// makeGPT builds a disk image with a protective MBR and primary and
// backup GPTs of count entries, for logical sectors of ss bytes.
func makeGPT(ss, sectors, count int, disk [16]byte, parts []gptPart) []byte {
	b := make([]byte, ss*sectors)
	// Protective MBR.
	e := b[446:]
	e[4] = 0xEE
	binary.LittleEndian.PutUint32(e[8:], 1)
	binary.LittleEndian.PutUint32(e[12:], uint32(min(sectors-1, 0xFFFFFFFF)))
	b[510], b[511] = 0x55, 0xAA

	const esize = 128
	ents := make([]byte, count*esize)
	for i, p := range parts {
		e := ents[i*esize:]
		copy(e[0:], p.typ[:])
		copy(e[16:], p.uuid[:])
		binary.LittleEndian.PutUint64(e[32:], p.first)
		binary.LittleEndian.PutUint64(e[40:], p.end)
		for j, r := range []rune(p.name) {
			binary.LittleEndian.PutUint16(e[56+2*j:], uint16(r))
		}
	}
	entSectors := (count*esize + ss - 1) / ss
	last := uint64(sectors - 1)
	header := func(my, alt, entLBA uint64) []byte {
		h := make([]byte, 92)
		copy(h, "EFI PART")
		binary.LittleEndian.PutUint32(h[8:], 0x00010000)
		binary.LittleEndian.PutUint32(h[12:], 92)
		binary.LittleEndian.PutUint64(h[24:], my)
		binary.LittleEndian.PutUint64(h[32:], alt)
		binary.LittleEndian.PutUint64(h[40:], uint64(2+entSectors))
		binary.LittleEndian.PutUint64(h[48:], last-1-uint64(entSectors))
		copy(h[56:], disk[:])
		binary.LittleEndian.PutUint64(h[72:], entLBA)
		binary.LittleEndian.PutUint32(h[80:], uint32(count))
		binary.LittleEndian.PutUint32(h[84:], esize)
		binary.LittleEndian.PutUint32(h[88:], crc32.ChecksumIEEE(ents))
		binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h))
		return h
	}
	copy(b[ss:], header(1, last, 2))
	copy(b[2*ss:], ents)
	backupEnt := last - uint64(entSectors)
	copy(b[int(backupEnt)*ss:], ents)
	copy(b[int(last)*ss:], header(last, 1, backupEnt))
	return b
}

var (
	linuxFSType = [16]byte{0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4}
	testDiskID  = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
)

// A GPT on a disk with 4 KiB logical sectors, which sfdisk can't make on
// an image file.
func TestReadTableGPT4K(t *testing.T) {
	img := filepath.Join(t.TempDir(), "disk4k.img")
	data := makeGPT(4096, 64, 128, testDiskID, []gptPart{
		{typ: linuxFSType, uuid: testUUID, first: 8, end: 39, name: "four k"},
		{}, // an unused entry: numbering goes on past it
		{typ: linuxFSType, uuid: [16]byte{0xff, 15: 0x01}, first: 40, end: 55, name: "third"},
	})
	if err := os.WriteFile(img, data, 0o644); err != nil {
		t.Fatal(err)
	}
	checkTable(t, img, 4096, "gpt", "04030201-0605-0807-090a-0b0c0d0e0f10", []string{
		`1 64+256 2a1c5e3d-479b-104f-8e21-0abcdef01234 "four k" 0fc63daf-8483-4772-8e79-3d69d8477de4`,
		`3 320+128 000000ff-0000-0000-0000-000000000001 "third" 0fc63daf-8483-4772-8e79-3d69d8477de4`,
	})
	// Read with 512-byte sectors, the same disk shows no GPT.
	if tab, err := readTableFile(t, img, 512); err == nil {
		t.Errorf("readTable with the wrong sector size = %+v", tab)
	}
}

func TestReadTableNone(t *testing.T) {
	fat := fat32Image("X").b
	copy(fat[446:], "boot code, not partitions")
	badCRC := makeGPT(512, 128, 128, testDiskID, []gptPart{{typ: linuxFSType, uuid: testUUID, first: 34, end: 90}})
	badCRC[2*512+60] ^= 1 // a bit of the first entry's name, in both copies
	badCRC[(127-32)*512+60] ^= 1
	selfLoop := newImage(64<<10).magic55AA(0).
		put(446+4, 0x05).le32(446+8, 1).le32(446+12, 100). // extended at sector 1
		magic55AA(512).put(512+446+4, 0x05).le32(512+446+8, 0).le32(512+446+12, 100).b
	cases := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"empty", nil, false},
		{"zeros", make([]byte, 1<<20), false},
		{"short", []byte{0x55, 0xAA}, false},
		{"fat boot sector", fat, false},
		{"bad entries crc", badCRC, false},
		{"empty mbr", newImage(4096).magic55AA(0).b, true},
		{"ebr pointing at itself", selfLoop, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab, err := readTable(bytes.NewReader(c.data), int64(len(c.data)), 512)
			if (err == nil) != c.ok {
				t.Errorf("readTable = %+v, %v; want ok=%v", tab, err, c.ok)
			}
		})
	}
	if _, err := readTable(bytes.NewReader(nil), 0, 520); err == nil {
		t.Error("readTable accepted a sector size of 520")
	}
}
