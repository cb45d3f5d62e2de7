package blockid

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// shifted is data seen at offset off of an otherwise zero device, so that
// small fuzz inputs can reach superblocks far into it.
type shifted struct {
	data []byte
	off  int64
}

func (s shifted) ReadAt(p []byte, off int64) (int, error) {
	end := s.off + int64(len(s.data))
	if off < 0 || off >= end {
		return 0, io.EOF
	}
	n := 0
	if off < s.off {
		n = int(min(int64(len(p)), s.off-off))
		clear(p[:n])
	}
	if n < len(p) {
		n += copy(p[n:], s.data[off+int64(n)-s.off:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

var knownTypes = map[string]bool{
	"": true, "ext2": true, "ext3": true, "ext4": true, "jbd": true, "vfat": true,
	"squashfs": true, "iso9660": true, "xfs": true, "btrfs": true, "swap": true,
}

func checkProbe(t *testing.T, what string, typ, uuid, label string) {
	if !knownTypes[typ] {
		t.Errorf("%s: unknown type %q", what, typ)
	}
	if typ == "" && (uuid != "" || label != "") {
		t.Errorf("%s: no type but UUID %q, label %q", what, uuid, label)
	}
	if !utf8.ValidString(uuid) || !utf8.ValidString(label) {
		t.Errorf("%s: invalid UTF-8 in %q %q", what, uuid, label)
	}
}

func FuzzProbe(f *testing.F) {
	// Small seeds, placed by off where the superblock lies: the fuzzer
	// (and its minimizer) work much faster on them than on whole images.
	f.Add([]byte{}, uint32(0))
	f.Add(extImage(0x4, 0x40, 0, "antsroot").b[1024:1024+256], uint32(1024))
	f.Add(extImage(0, 0, 0, "two").b[1024:1024+256], uint32(1024))
	f.Add(fat32Image("ANTSBOOT").b[:512], uint32(0))
	f.Add(fatDirEntry(fat16Image("SMALL"), 17*512, "ROOTDIR", 0x08).b[:512], uint32(0))
	f.Add([]byte("hsqs"), uint32(0))
	f.Add(isoImage("LIVE").b[16*2048:16*2048+900], uint32(16*2048))
	f.Add(append([]byte("SWAPSPACE2"), testUUID[:]...), uint32(4096-10))
	f.Add(newImage(4096).str(0, "XFSB").uuid(32, testUUID).str(108, "x").b[:120], uint32(0))
	f.Add(newImage(600).uuid(32, testUUID).str(64, "_BHRfS_M").str(299, "b").b, uint32(65536))
	f.Fuzz(func(t *testing.T, data []byte, off uint32) {
		typ, uuid, label := Probe(bytes.NewReader(data), int64(len(data)))
		checkProbe(t, "plain", typ, uuid, label)
		typ, uuid, label = Probe(bytes.NewReader(data), -1)
		checkProbe(t, "unknown size", typ, uuid, label)
		s := shifted{data: data, off: int64(off % (80 << 10))}
		typ, uuid, label = Probe(s, s.off+int64(len(data)))
		checkProbe(t, "shifted", typ, uuid, label)
		typ, uuid, label = Probe(s, 1<<40) // a size larger than what can be read
		checkProbe(t, "oversized", typ, uuid, label)
	})
}

// fixGPT recomputes the CRCs of a GPT header at LBA 1 and of its entries,
// where they lie within data, so that fuzzing gets past them.
func fixGPT(data []byte, ss int) {
	if len(data) < 2*ss || string(data[ss:ss+8]) != "EFI PART" {
		return
	}
	h := data[ss : 2*ss]
	hsize := int(binary.LittleEndian.Uint32(h[12:]))
	entLBA := binary.LittleEndian.Uint64(h[72:])
	n := uint64(binary.LittleEndian.Uint32(h[80:])) * uint64(binary.LittleEndian.Uint32(h[84:]))
	if entLBA < uint64(len(data)/ss) && n <= uint64(len(data))-entLBA*uint64(ss) {
		start := entLBA * uint64(ss)
		binary.LittleEndian.PutUint32(h[88:], crc32.ChecksumIEEE(data[start:start+n]))
	}
	if hsize >= 20 && hsize <= ss {
		clear(h[16:20])
		binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h[:hsize]))
	}
}

func FuzzReadTable(f *testing.F) {
	// Small seeds (few entries, 512-byte sectors where it can) keep the
	// fuzzer fast.
	gpt := makeGPT(512, 8, 4, testDiskID, []gptPart{
		{typ: linuxFSType, uuid: testUUID, first: 3, end: 4, name: "ants root"},
		{typ: linuxFSType, uuid: testDiskID, first: 5, end: 5, name: "ünïcode"},
	})
	f.Add(gpt[:3*512], false, false) // without the backup
	f.Add(gpt, false, true)
	f.Add(makeGPT(4096, 5, 4, testDiskID, []gptPart{{typ: linuxFSType, uuid: testUUID, first: 3, end: 3}})[:3*4096], true, false)
	f.Add(logicalImage().b, false, false)
	f.Add(fat32Image("X").b[:512], false, false)
	f.Fuzz(func(t *testing.T, data []byte, big, fix bool) {
		ss := 512
		if big {
			ss = 4096
		}
		if fix {
			data = append([]byte(nil), data...)
			fixGPT(data, ss)
		}
		tab, err := readTable(bytes.NewReader(data), int64(len(data)), ss)
		if err != nil {
			if tab != nil {
				t.Errorf("readTable returned a table and %v", err)
			}
			return
		}
		if tab.kind != "dos" && tab.kind != "gpt" {
			t.Errorf("table kind %q", tab.kind)
		}
		seen := map[int]bool{}
		for _, p := range tab.parts {
			if p.num <= 0 || seen[p.num] {
				t.Errorf("partition number %d: bad or repeated in %+v", p.num, tab.parts)
			}
			seen[p.num] = true
			if !utf8.ValidString(p.name) {
				t.Errorf("partition %d: invalid UTF-8 name %q", p.num, p.name)
			}
			if tab.kind == "dos" && tab.partUUID(p.num) != p.uuid {
				t.Errorf("partition %d: partUUID %q, entry %q", p.num, tab.partUUID(p.num), p.uuid)
			}
		}
	})
}

// logicalImage is an MBR disk of 16 sectors with one primary partition
// and an extended one holding a chain of two logical partitions.
func logicalImage() *image {
	return newImage(8192).magic55AA(0).le32(440, 0xdeadbeef).
		put(446+4, 0x83).le32(446+8, 1).le32(446+12, 1).
		put(446+16+4, 0x05).le32(446+16+8, 4).le32(446+16+12, 12).
		magic55AA(4*512).put(4*512+446+4, 0x83).le32(4*512+446+8, 1).le32(4*512+446+12, 2).
		put(4*512+446+16+4, 0x05).le32(4*512+446+16+8, 4).le32(4*512+446+16+12, 4).
		magic55AA(8*512).put(8*512+446+4, 0x83).le32(8*512+446+8, 1).le32(8*512+446+12, 2)
}

// The hand-made logical-partition seed is what it claims to be.
func TestLogicalChain(t *testing.T) {
	img := filepath.Join(t.TempDir(), "logical.img")
	if err := os.WriteFile(img, logicalImage().b, 0o644); err != nil {
		t.Fatal(err)
	}
	checkTable(t, img, 512, "dos", "deadbeef", []string{
		`1 1+1 deadbeef-01 "" 0x83`,
		`2 4+12 deadbeef-02 "" 0x5`,
		`5 5+2 deadbeef-05 "" 0x83`,
		`6 9+2 deadbeef-06 "" 0x83`,
	})
}

// The small GPT seeds are valid tables, so fuzzing starts from inside the
// parser rather than at its first check.
func TestSmallGPTSeeds(t *testing.T) {
	gpt := makeGPT(512, 8, 4, testDiskID, []gptPart{{typ: linuxFSType, uuid: testUUID, first: 3, end: 4, name: "a"}})
	for _, c := range []struct {
		name string
		data []byte
		ss   int
		ok   bool
	}{
		{"512", gpt, 512, true},
		{"512 without backup", gpt[:3*512], 512, true},
		{"without protective MBR", gpt[512:], 512, false},
		{"4096 without backup", makeGPT(4096, 5, 4, testDiskID, []gptPart{{typ: linuxFSType, uuid: testUUID, first: 3, end: 3}})[:3*4096], 4096, true},
	} {
		tab, err := readTable(bytes.NewReader(c.data), int64(len(c.data)), c.ss)
		if !c.ok {
			if err == nil {
				t.Errorf("%s: readTable = %+v, want an error", c.name, tab)
			}
			continue
		}
		if err != nil || tab.kind != "gpt" || len(tab.parts) != 1 || tab.parts[0].uuid != "2a1c5e3d-479b-104f-8e21-0abcdef01234" {
			t.Errorf("%s: readTable = %+v, %v", c.name, tab, err)
		}
	}
}
