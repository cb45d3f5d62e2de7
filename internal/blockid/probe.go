package blockid

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// src reads fixed-size pieces of a device. A read that would go past the
// end of the device, or that comes back short, yields nil.
type src struct {
	r    io.ReaderAt
	size int64 // < 0: unknown, read until the reader says EOF
}

// maxRead bounds any single read, so that a corrupt or hostile header can
// never make the probers allocate much.
const maxRead = 4 << 20

func (s src) at(off int64, n int) []byte {
	if off < 0 || n <= 0 || n > maxRead {
		return nil
	}
	if s.size >= 0 && (off > s.size || int64(n) > s.size-off) {
		return nil
	}
	b := make([]byte, n)
	m, _ := s.r.ReadAt(b, off)
	if m < n {
		return nil
	}
	return b
}

type prober func(s src) (fstype, uuid, label string, ok bool)

// probers in the order they are tried. Signatures far into the device
// (btrfs at 64 KiB) come before weaker ones near its start; vfat, whose
// boot sector is the easiest to imitate, is validated and tried late.
var probers = []prober{probeXFS, probeSquashfs, probeBtrfs, probeExt, probeISO9660, probeVFAT, probeSwap}

// Probe sniffs the file system on r, a device or image of size bytes (a
// negative size means unknown: read until r reports EOF). It returns the
// type as blkid names it ("ext4", "ext3", "ext2", "vfat", "squashfs",
// "iso9660", "xfs", "btrfs", "swap"; "jbd" for an ext3/4 external journal),
// the UUID formatted as blkid prints it and the label, or three empty
// strings when nothing is recognised. Probe never fails: unreadable or
// truncated data is simply not recognised.
func Probe(r io.ReaderAt, size int64) (fstype, uuid, label string) {
	s := src{r: r, size: size}
	for _, p := range probers {
		if t, u, l, ok := p(s); ok {
			return t, u, l
		}
	}
	return "", "", ""
}

// formatUUID prints 16 bytes as a lowercase RFC 4122 UUID, or "" if they
// are all zero (blkid does not report an empty UUID).
func formatUUID(b []byte) string {
	if len(b) != 16 || allZero(b) {
		return ""
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// formatGUID prints a mixed-endian GUID as stored on disk by GPT (the first
// three fields little-endian) in lowercase, or "" if it is all zero.
func formatGUID(b []byte) string {
	if len(b) != 16 || allZero(b) {
		return ""
	}
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]),
		binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16])
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// cstring returns b up to its first NUL, with trailing white space removed
// (as blkid does for labels) and invalid UTF-8 replaced.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return cleanLabel(string(b))
}

func cleanLabel(s string) string {
	s = strings.TrimRight(s, " \t\r\n\x00")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

func isPow2(n uint32) bool { return n != 0 && n&(n-1) == 0 }

// ext2/3/4: superblock at 1024.
const (
	extSB               = 1024
	extCompatHasJournal = 0x0004
	extIncompatJournal  = 0x0008 // an external journal device
	// What ext3 understands; anything beyond makes it ext4 (as blkid decides).
	ext3IncompatSupp = 0x0002 | 0x0004 | 0x0010 // filetype, recover, meta_bg
	ext3ROCompatSupp = 0x0001 | 0x0002 | 0x0004 // sparse_super, large_file, btree_dir
)

func probeExt(s src) (string, string, string, bool) {
	sb := s.at(extSB, 256)
	if sb == nil || binary.LittleEndian.Uint16(sb[56:]) != 0xEF53 {
		return "", "", "", false
	}
	if binary.LittleEndian.Uint32(sb[24:]) > 6 { // s_log_block_size: 1 KiB << 6 = 64 KiB at most
		return "", "", "", false
	}
	compat := binary.LittleEndian.Uint32(sb[92:])
	incompat := binary.LittleEndian.Uint32(sb[96:])
	rocompat := binary.LittleEndian.Uint32(sb[100:])
	var t string
	switch {
	case incompat&extIncompatJournal != 0:
		t = "jbd"
	case incompat&^ext3IncompatSupp != 0 || rocompat&^ext3ROCompatSupp != 0:
		t = "ext4"
	case compat&extCompatHasJournal != 0:
		t = "ext3"
	default:
		t = "ext2"
	}
	return t, formatUUID(sb[104:120]), cstring(sb[120:136]), true
}

// xfs: big-endian superblock at 0.
func probeXFS(s src) (string, string, string, bool) {
	sb := s.at(0, 120)
	if sb == nil || string(sb[0:4]) != "XFSB" {
		return "", "", "", false
	}
	return "xfs", formatUUID(sb[32:48]), cstring(sb[108:120]), true
}

// squashfs 4: little-endian "hsqs" at 0; no UUID or label.
func probeSquashfs(s src) (string, string, string, bool) {
	sb := s.at(0, 4)
	if sb == nil || string(sb) != "hsqs" {
		return "", "", "", false
	}
	return "squashfs", "", "", true
}

// btrfs: superblock at 64 KiB.
const btrfsSB = 64 << 10

func probeBtrfs(s src) (string, string, string, bool) {
	sb := s.at(btrfsSB, 299+256)
	if sb == nil || string(sb[64:72]) != "_BHRfS_M" {
		return "", "", "", false
	}
	return "btrfs", formatUUID(sb[32:48]), cstring(sb[299 : 299+256]), true
}

// iso9660: volume descriptors in 2048-byte sectors from sector 16.
const (
	isoVD     = 16 * 2048
	isoSector = 2048
)

func probeISO9660(s src) (string, string, string, bool) {
	pvd := s.at(isoVD, 881)
	if pvd == nil || string(pvd[1:6]) != "CD001" {
		return "", "", "", false
	}
	label := cstring(pvd[40:72])
	uuid := isoDate(pvd[830:847]) // modified, else created
	if uuid == "" {
		uuid = isoDate(pvd[813:830])
	}
	// A Joliet supplementary descriptor carries a UTF-16BE label of at most
	// 16 characters; like blkid, prefer it unless it just repeats the first
	// 16 characters of the primary one.
	for i := 1; i < 16; i++ {
		vd := s.at(isoVD+int64(i)*isoSector, 120)
		if vd == nil || vd[0] == 0xFF || string(vd[1:6]) != "CD001" {
			break
		}
		if vd[0] != 2 {
			continue
		}
		if esc := string(vd[88:91]); esc == "%/@" || esc == "%/C" || esc == "%/E" {
			if !asciiEqUTF16BE(pvd[40:56], vd[40:72]) {
				label = utf16be(vd[40:72])
			}
			break
		}
	}
	return "iso9660", uuid, label, true
}

// isoDate formats a 17-byte ISO 9660 date as blkid's iso9660 UUID
// ("2024-01-02-03-04-05-00"), or "" if it is unset.
func isoDate(d []byte) string {
	digits := d[:16]
	if string(digits) == "0000000000000000" && d[16] == 0 {
		return ""
	}
	for _, c := range digits {
		if c < ' ' || c > '~' {
			return "" // blkid would print garbage; we refuse to
		}
	}
	return fmt.Sprintf("%s-%s-%s-%s-%s-%s-%s", digits[0:4], digits[4:6], digits[6:8],
		digits[8:10], digits[10:12], digits[12:14], digits[14:16])
}

func asciiEqUTF16BE(ascii, u []byte) bool {
	for i := range ascii {
		if u[2*i] != 0 || u[2*i+1] != ascii[i] {
			return false
		}
	}
	return true
}

func utf16be(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.BigEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return cleanLabel(string(utf16.Decode(u)))
}

// vfat (FAT12/16/32): boot sector at 0.
const fatNoName = "NO NAME    "

func probeVFAT(s src) (string, string, string, bool) {
	bs := s.at(0, 512)
	if bs == nil {
		return "", "", "", false
	}
	fat32 := string(bs[82:90]) == "FAT32   " || string(bs[82:87]) == "MSWIN"
	switch {
	case fat32:
	case string(bs[54:62]) == "FAT12   ", string(bs[54:62]) == "FAT16   ",
		string(bs[54:62]) == "FAT     ", string(bs[54:59]) == "MSDOS":
	default:
		return "", "", "", false
	}
	bps := uint32(binary.LittleEndian.Uint16(bs[11:]))
	spc := uint32(bs[13])
	reserved := uint32(binary.LittleEndian.Uint16(bs[14:]))
	nfats := uint32(bs[16])
	rootEntries := uint32(binary.LittleEndian.Uint16(bs[17:]))
	media := bs[21]
	fatLen16 := uint32(binary.LittleEndian.Uint16(bs[22:]))
	fatLen32 := binary.LittleEndian.Uint32(bs[36:])
	if nfats == 0 || reserved == 0 || !(media >= 0xF8 || media == 0xF0) ||
		!isPow2(spc) || !isPow2(bps) || bps < 512 || bps > 4096 {
		return "", "", "", false
	}
	var serial, bootLabel []byte
	var dirLabel string
	if fatLen16 != 0 {
		// FAT12/16: the root directory follows the FATs.
		serial, bootLabel = bs[39:43], bs[43:54]
		root := (int64(reserved) + int64(fatLen16)*int64(nfats)) * int64(bps)
		dirLabel = fatDirLabel(s, root, rootEntries)
	} else if fatLen32 != 0 {
		// FAT32: the root directory is a cluster chain from root_cluster.
		serial, bootLabel = bs[67:71], bs[71:82]
		dataStart := int64(reserved) + int64(fatLen32)*int64(nfats) // in sectors
		clusterBytes := int64(spc) * int64(bps)
		maxCluster := uint64(fatLen32) * uint64(bps) / 4
		next := binary.LittleEndian.Uint32(bs[44:]) & 0x0FFFFFFF
		for loops := 0; next >= 2 && uint64(next) < maxCluster && loops < 100; loops++ {
			off := (dataStart + int64(next-2)*int64(spc)) * int64(bps)
			if dirLabel = fatDirLabel(s, off, uint32(clusterBytes/32)); dirLabel != "" {
				break
			}
			e := s.at(int64(reserved)*int64(bps)+int64(next)*4, 4)
			if e == nil {
				break
			}
			next = binary.LittleEndian.Uint32(e) & 0x0FFFFFFF
		}
	} else {
		return "", "", "", false
	}
	label := dirLabel
	if label == "" || label == fatNoName {
		label = string(bootLabel)
	}
	if label == fatNoName {
		label = ""
	}
	uuid := ""
	if !allZero(serial) {
		uuid = fmt.Sprintf("%02X%02X-%02X%02X", serial[3], serial[2], serial[1], serial[0])
	}
	return "vfat", uuid, cleanLabel(label), true
}

// fatDirLabel looks for the volume-label entry among the first entries of a
// FAT directory at off and returns its raw 11-byte name, or "".
func fatDirLabel(s src, off int64, entries uint32) string {
	if entries > 1<<16 {
		entries = 1 << 16
	}
	for i := uint32(0); i < entries; i++ {
		e := s.at(off+int64(i)*32, 32)
		if e == nil || e[0] == 0 {
			return ""
		}
		attr := e[11]
		if e[0] == 0xE5 || attr&0x3F == 0x0F || binary.LittleEndian.Uint16(e[20:]) != 0 ||
			binary.LittleEndian.Uint16(e[26:]) != 0 {
			continue // deleted, long-name part, or a real file
		}
		if attr&(0x08|0x10) == 0x08 {
			name := e[0:11]
			if name[0] == 0x05 {
				name = append([]byte{0xE5}, name[1:]...)
			}
			return string(name)
		}
	}
	return ""
}

// swap: signature in the last 10 bytes of the first page, for any page size.
func probeSwap(s src) (string, string, string, bool) {
	for _, page := range []int64{4096, 8192, 16384, 32768, 65536} {
		sig := s.at(page-10, 10)
		if sig == nil {
			break
		}
		switch string(sig) {
		case "SWAP-SPACE": // version 0: no UUID or label
			return "swap", "", "", true
		case "SWAPSPACE2":
			// struct swap_header_v1_2 after 1024 bytes of boot code:
			// version, last_page, nr_badpages (u32 each), uuid[16], label[16].
			h := s.at(1024, 44)
			if h == nil {
				return "swap", "", "", true
			}
			return "swap", formatUUID(h[12:28]), cstring(h[28:44]), true
		}
	}
	return "", "", "", false
}
