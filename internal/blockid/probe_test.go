package blockid

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
)

// image is a hand-made disk image: size zero bytes with patches applied.
type image struct {
	b []byte
}

func newImage(size int) *image { return &image{b: make([]byte, size)} }

func (m *image) put(off int, data ...byte) *image  { copy(m.b[off:], data); return m }
func (m *image) str(off int, s string) *image      { copy(m.b[off:], s); return m }
func (m *image) set(off int, v byte) *image        { m.b[off] = v; return m }
func (m *image) le16(off int, v uint16) *image     { binary.LittleEndian.PutUint16(m.b[off:], v); return m }
func (m *image) le32(off int, v uint32) *image     { binary.LittleEndian.PutUint32(m.b[off:], v); return m }
func (m *image) be32(off int, v uint32) *image     { binary.BigEndian.PutUint32(m.b[off:], v); return m }
func (m *image) uuid(off int, u [16]byte) *image   { copy(m.b[off:], u[:]); return m }
func (m *image) zero(off, n int) *image            { clear(m.b[off : off+n]); return m }
func (m *image) cut(n int) *image                  { m.b = m.b[:n]; return m }
func (m *image) then(f func(*image) *image) *image { return f(m) }
func (m *image) magic55AA(off int) *image          { return m.put(off+510, 0x55, 0xAA) }

func (m *image) fill(off, n int, c byte) *image {
	copy(m.b[off:off+n], bytes.Repeat([]byte{c}, n))
	return m
}

// label writes s padded with spaces to n bytes.
func (m *image) label(off, n int, s string) *image { return m.fill(off, n, ' ').str(off, s) }

func (m *image) withSize(n int) *image {
	nb := make([]byte, n)
	copy(nb, m.b)
	m.b = nb
	return m
}

func (m *image) utf16be(off int, s string) *image { return putUTF16(m, off, s, binary.BigEndian) }

func (m *image) probe() (string, string, string) { return m.probeSize(int64(len(m.b))) }
func (m *image) probeSize(n int64) (string, string, string) {
	return Probe(bytes.NewReader(m.b), n)
}

func putUTF16(m *image, off int, s string, order binary.ByteOrder) *image {
	for i, r := range []rune(s) {
		order.PutUint16(m.b[off+2*i:], uint16(r))
	}
	return m
}

var testUUID = [16]byte{0x3d, 0x5e, 0x1c, 0x2a, 0x9b, 0x47, 0x4f, 0x10, 0x8e, 0x21, 0x0a, 0xbc, 0xde, 0xf0, 0x12, 0x34}

const testUUIDString = "3d5e1c2a-9b47-4f10-8e21-0abcdef01234"

func extImage(compat, incompat, rocompat uint32, label string) *image {
	return newImage(8192).
		le16(1024+56, 0xEF53).
		le32(1024+92, compat).
		le32(1024+96, incompat).
		le32(1024+100, rocompat).
		uuid(1024+104, testUUID).
		str(1024+120, label)
}

// fat32Image is a minimal valid FAT32 boot sector: 512-byte sectors, one
// sector per cluster, 32 reserved sectors, two FATs of 16 sectors, root at
// cluster 2.
func fat32Image(bootLabel string) *image {
	m := newImage(128<<10).
		put(0, 0xEB, 0x58, 0x90).str(3, "mkfs.fat").
		le16(11, 512).set(13, 1).le16(14, 32).set(16, 2).set(21, 0xF8).
		le32(32, 256).le32(36, 16).le32(44, 2).
		set(66, 0x29).put(67, 0xCD, 0xAB, 0x34, 0x12).
		label(71, 11, bootLabel).str(82, "FAT32   ").
		magic55AA(0)
	return m
}

// fat16Image: 512-byte sectors, 4 sectors per cluster, 1 reserved sector,
// two FATs of 8 sectors, 512 root entries right after them (sector 17).
func fat16Image(bootLabel string) *image {
	return newImage(64<<10).
		put(0, 0xEB, 0x3C, 0x90).str(3, "mkfs.fat").
		le16(11, 512).set(13, 4).le16(14, 1).set(16, 2).le16(17, 512).le16(19, 8192).set(21, 0xF8).
		le16(22, 8).
		set(38, 0x29).put(39, 0x78, 0x56, 0x34, 0x12).
		label(43, 11, bootLabel).str(54, "FAT16   ").
		magic55AA(0)
}

func fatDirEntry(m *image, off int, name string, attr byte) *image {
	return m.label(off, 11, name).set(off+11, attr)
}

func isoImage(label string) *image {
	m := newImage(40 << 10)
	pvd := 16 * 2048
	m.set(pvd, 1).str(pvd+1, "CD001").set(pvd+6, 1).
		label(pvd+8, 32, "LINUX").label(pvd+40, 32, label).
		str(pvd+813, "2024010203040500").
		str(pvd+830, "2024050607080900")
	// Volume descriptor set terminator.
	m.set(pvd+2048, 0xFF).str(pvd+2049, "CD001").set(pvd+2054, 1)
	return m
}

func TestProbe(t *testing.T) {
	type want struct{ fstype, uuid, label string }
	cases := []struct {
		name string
		img  *image
		want want
	}{
		{"empty", newImage(1 << 20), want{}},
		{"tiny", newImage(10), want{}},
		{"nothing at all", newImage(0), want{}},
		{"garbage", newImage(70<<10).fill(0, 70<<10, 0xA5), want{}},

		{"ext2", extImage(0, 0x2, 0x1|0x2, "root2"), want{"ext2", testUUIDString, "root2"}},
		{"ext3 has_journal", extImage(0x4, 0x2, 0x1, "root3"), want{"ext3", testUUIDString, "root3"}},
		{"ext3 recovering", extImage(0x4, 0x2|0x4, 0x1, "r"), want{"ext3", testUUIDString, "r"}},
		{"ext4 extents", extImage(0x4, 0x2|0x40, 0x1, "antsroot"), want{"ext4", testUUIDString, "antsroot"}},
		{"ext4 64bit", extImage(0x4, 0x80, 0, "x"), want{"ext4", testUUIDString, "x"}},
		{"ext4 without journal", extImage(0, 0x40, 0, "nj"), want{"ext4", testUUIDString, "nj"}},
		{"ext4 by ro_compat metadata_csum", extImage(0x4, 0x2, 0x400, ""), want{"ext4", testUUIDString, ""}},
		{"ext journal device", extImage(0, 0x8, 0, "log"), want{"jbd", testUUIDString, "log"}},
		{"ext 16-byte label", extImage(0x4, 0x40, 0, "0123456789abcdef"), want{"ext4", testUUIDString, "0123456789abcdef"}},
		{"ext zero uuid", extImage(0x4, 0, 0, "z").zero(1024+104, 16), want{"ext3", "", "z"}},
		{"ext bad block size", extImage(0x4, 0, 0, "z").le32(1024+24, 40), want{}},
		{"ext cut short", extImage(0x4, 0, 0, "z").cut(1024 + 100), want{}},

		{"vfat fat32", fat32Image("ANTSBOOT"), want{"vfat", "1234-ABCD", "ANTSBOOT"}},
		{"vfat fat32 no name", fat32Image("NO NAME"), want{"vfat", "1234-ABCD", ""}},
		{"vfat fat32 root dir label wins", fatDirEntry(fat32Image("OLD"), (32+2*16)*512, "NEW LABEL", 0x08),
			want{"vfat", "1234-ABCD", "NEW LABEL"}},
		{"vfat fat32 label after deleted and long-name entries",
			fatDirEntry(fatDirEntry(fatDirEntry(fat32Image("OLD"), (32+2*16)*512, "\xE5DELETED", 0x08),
				(32+2*16)*512+32, "LONGNAME", 0x0F), (32+2*16)*512+64, "THIRD", 0x08),
			want{"vfat", "1234-ABCD", "THIRD"}},
		{"vfat fat32 dir label NO NAME falls back", fatDirEntry(fat32Image("BOOTSECT"), (32+2*16)*512, "NO NAME", 0x08),
			want{"vfat", "1234-ABCD", "BOOTSECT"}},
		{"vfat fat32 MSWIN", fat32Image("W").zero(82, 8).str(82, "MSWIN4.1"), want{"vfat", "1234-ABCD", "W"}},
		{"vfat fat16", fat16Image("SMALL"), want{"vfat", "1234-5678", "SMALL"}},
		{"vfat fat16 root dir label", fatDirEntry(fat16Image("SMALL"), 17*512, "ROOTDIR", 0x08|0x20),
			want{"vfat", "1234-5678", "ROOTDIR"}},
		{"vfat fat16 directory is no label", fatDirEntry(fat16Image("SMALL"), 17*512, "SUBDIR", 0x08|0x10),
			want{"vfat", "1234-5678", "SMALL"}},
		{"vfat zero serial", fat32Image("Z").zero(67, 4), want{"vfat", "", "Z"}},
		{"vfat bad sector size", fat32Image("X").le16(11, 100), want{}},
		{"vfat no FATs", fat32Image("X").set(16, 0), want{}},
		{"vfat bad media", fat32Image("X").set(21, 0x12), want{}},
		{"vfat cluster size not power of 2", fat32Image("X").set(13, 3), want{}},
		{"vfat no fat length", fat32Image("X").le32(36, 0), want{}},
		{"vfat root cluster loop", fat32Image("X").le32(32*512+2*4, 2), want{"vfat", "1234-ABCD", "X"}},
		{"mbr is not vfat", newImage(4096).magic55AA(0).put(446, 0x80, 0, 0, 0, 0x83), want{}},

		{"squashfs", newImage(4096).str(0, "hsqs"), want{"squashfs", "", ""}},

		{"iso9660", isoImage("ANTS_LIVE"), want{"iso9660", "2024-05-06-07-08-09-00", "ANTS_LIVE"}},
		{"iso9660 created date only", isoImage("A").zero(16*2048+830, 17).fill(16*2048+830, 16, '0'),
			want{"iso9660", "2024-01-02-03-04-05-00", "A"}},
		{"iso9660 no dates", isoImage("A").fill(16*2048+813, 16, '0').set(16*2048+829, 0).fill(16*2048+830, 16, '0').set(16*2048+846, 0),
			want{"iso9660", "", "A"}},
		{"iso9660 joliet label", isoImage("ANTS_LIVE").then(func(m *image) *image {
			svd := 17 * 2048
			m.withSize(48<<10).set(svd, 2).str(svd+1, "CD001").set(svd+6, 1).str(svd+88, "%/E").
				utf16be(svd+40, "Ants Live ünï")
			m.set(svd+2048, 0xFF).str(svd+2049, "CD001")
			return m
		}), want{"iso9660", "2024-05-06-07-08-09-00", "Ants Live ünï"}},
		{"iso9660 joliet same as primary", isoImage("ANTSLIVE").then(func(m *image) *image {
			svd := 17 * 2048
			m.withSize(48<<10).set(svd, 2).str(svd+1, "CD001").set(svd+6, 1).str(svd+88, "%/E").
				utf16be(svd+40, "ANTSLIVE        ")
			return m
		}), want{"iso9660", "2024-05-06-07-08-09-00", "ANTSLIVE"}},
		{"iso9660 cut short", isoImage("A").cut(16*2048 + 100), want{}},

		{"swap v1", newImage(8192).str(4096-10, "SWAPSPACE2").le32(1024, 1).uuid(1024+12, testUUID).str(1024+28, "swappy"),
			want{"swap", testUUIDString, "swappy"}},
		{"swap 64k pages", newImage(65536).str(65536-10, "SWAPSPACE2").uuid(1024+12, testUUID),
			want{"swap", testUUIDString, ""}},
		{"swap v0", newImage(4096).str(4096-10, "SWAP-SPACE"), want{"swap", "", ""}},

		{"xfs", newImage(4096).str(0, "XFSB").be32(4, 4096).uuid(32, testUUID).str(108, "xfsroot"),
			want{"xfs", testUUIDString, "xfsroot"}},
		{"xfs 12-byte label", newImage(4096).str(0, "XFSB").uuid(32, testUUID).str(108, "abcdefghijkl"),
			want{"xfs", testUUIDString, "abcdefghijkl"}},

		{"btrfs", newImage(128<<10).uuid(65536+32, testUUID).str(65536+64, "_BHRfS_M").str(65536+299, "btr root"),
			want{"btrfs", testUUIDString, "btr root"}},
		{"btrfs cut short", newImage(65536+100).str(65536+64, "_BHRfS_M"), want{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			typ, uuid, label := c.img.probe()
			if got := (want{typ, uuid, label}); got != c.want {
				t.Errorf("Probe = %q, want %q", got, c.want)
			}
		})
	}
}

// A size smaller than the data hides what lies beyond it; a size larger
// than the data (or unknown) must not break anything.
func TestProbeSize(t *testing.T) {
	m := extImage(0x4, 0x40, 0, "sized")
	if typ, _, _ := m.probeSize(1024); typ != "" {
		t.Errorf("Probe with size 1024 = %q, want nothing", typ)
	}
	for _, size := range []int64{-1, 1 << 40} {
		if typ, _, label := m.probeSize(size); typ != "ext4" || label != "sized" {
			t.Errorf("Probe with size %d = %q %q, want ext4 sized", size, typ, label)
		}
	}
	if typ, _, _ := newImage(100).probeSize(-1); typ != "" {
		t.Errorf("Probe of 100 zero bytes, size unknown = %q", typ)
	}
}

type errReader struct{}

func (errReader) ReadAt([]byte, int64) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestProbeReadError(t *testing.T) {
	if typ, uuid, label := Probe(errReader{}, 1<<30); typ+uuid+label != "" {
		t.Errorf("Probe of an unreadable device = %q %q %q", typ, uuid, label)
	}
}
