package blockid

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"unicode/utf16"
)

// table is a disk's partition table, as the kernel reads it to number the
// disk's partitions and give them their PARTUUIDs.
type table struct {
	kind  string // "dos" or "gpt"
	id    string // dos: the disk signature "%08x"; gpt: the disk GUID
	sig   uint32 // dos: the disk signature
	parts []part
}

type part struct {
	num    int    // the kernel's partition number
	start  uint64 // first sector
	length uint64 // in sectors
	typ    string // dos: "0x83" (as partx prints it); gpt: the type GUID
	uuid   string // PARTUUID
	name   string // PARTLABEL (gpt only)
}

// partUUID returns the PARTUUID the kernel gives partition n of the disk
// that holds t, or "".
func (t *table) partUUID(n int) string {
	if t.kind == "dos" {
		if n <= 0 {
			return ""
		}
		return fmt.Sprintf("%08x-%02x", t.sig, n)
	}
	for _, p := range t.parts {
		if p.num == n {
			return p.uuid
		}
	}
	return ""
}

// partLabel returns the GPT name of partition n, or "".
func (t *table) partLabel(n int) string {
	for _, p := range t.parts {
		if p.num == n {
			return p.name
		}
	}
	return ""
}

var errNoTable = errors.New("no partition table")

const (
	maxGPTEntries = 1 << 14 // the usual 128 entries, with a wide margin
	maxLogical    = 256     // a bound on the chain of extended boot records
)

// readTable reads the partition table of a disk of size bytes (negative:
// unknown) whose logical sectors are sectorSize bytes. Like the kernel it
// tries GPT (behind a protective MBR) first, then an MS-DOS table.
func readTable(r io.ReaderAt, size int64, sectorSize int) (*table, error) {
	switch sectorSize {
	case 512, 1024, 2048, 4096:
	default:
		return nil, fmt.Errorf("unsupported sector size %d", sectorSize)
	}
	s := src{r: r, size: size}
	mbr := s.at(0, 512)
	if mbr == nil {
		return nil, errNoTable
	}
	if mbr[510] != 0x55 || mbr[511] != 0xAA {
		return nil, errNoTable
	}
	protective := false
	for i := 0; i < 4; i++ {
		if mbr[446+16*i+4] == 0xEE {
			protective = true
		}
	}
	if protective {
		if t := readGPT(s, size, int64(sectorSize)); t != nil {
			return t, nil
		}
		// The kernel's msdos parser also leaves a disk with a protective
		// MBR alone: without a valid GPT it has no partitions.
		return nil, errors.New("protective MBR without a valid GPT")
	}
	return readMBR(s, mbr, int64(sectorSize))
}

func readMBR(s src, mbr []byte, ss int64) (*table, error) {
	for i := 0; i < 4; i++ {
		if b := mbr[446+16*i]; b != 0 && b != 0x80 {
			return nil, errNoTable // not a partition table (a FAT boot sector, say)
		}
	}
	t := &table{kind: "dos", sig: binary.LittleEndian.Uint32(mbr[440:])}
	t.id = fmt.Sprintf("%08x", t.sig)
	add := func(n int, e []byte, base uint64) {
		t.parts = append(t.parts, part{
			num:    n,
			start:  base + uint64(binary.LittleEndian.Uint32(e[8:])),
			length: uint64(binary.LittleEndian.Uint32(e[12:])),
			typ:    fmt.Sprintf("0x%x", e[4]),
			uuid:   fmt.Sprintf("%08x-%02x", t.sig, n),
		})
	}
	next := 5
	for i := 0; i < 4; i++ {
		e := mbr[446+16*i : 446+16*i+16]
		if binary.LittleEndian.Uint32(e[12:]) == 0 {
			continue
		}
		add(i+1, e, 0)
		if isExtended(e[4]) {
			next = readLogical(s, t, ss, uint64(binary.LittleEndian.Uint32(e[8:])), next, add)
		}
	}
	return t, nil
}

func isExtended(typ byte) bool { return typ == 0x05 || typ == 0x0F || typ == 0x85 }

// readLogical follows the chain of extended boot records that starts at
// sector ext, numbering logical partitions from next on as the kernel does.
func readLogical(s src, t *table, ss int64, ext uint64, next int, add func(int, []byte, uint64)) int {
	seen := map[uint64]bool{}
	this := ext
	for n := 0; n < maxLogical && !seen[this]; n++ {
		seen[this] = true
		if this > uint64(1<<62)/uint64(ss) {
			break
		}
		ebr := s.at(int64(this)*ss, 512)
		if ebr == nil || ebr[510] != 0x55 || ebr[511] != 0xAA {
			break
		}
		link := uint64(0)
		for i := 0; i < 4; i++ {
			e := ebr[446+16*i : 446+16*i+16]
			length := binary.LittleEndian.Uint32(e[12:])
			if length == 0 {
				continue
			}
			if isExtended(e[4]) {
				if link == 0 {
					link = ext + uint64(binary.LittleEndian.Uint32(e[8:]))
				}
				continue
			}
			add(next, e, this)
			next++
		}
		if link == 0 {
			break
		}
		this = link
	}
	return next
}

// readGPT reads the primary GPT header at LBA 1, or the backup one at the
// last LBA if the primary is damaged; nil if neither is valid.
func readGPT(s src, size int64, ss int64) *table {
	if t := gptAt(s, 1, ss); t != nil {
		return t
	}
	if size >= 2*ss {
		return gptAt(s, uint64(size/ss-1), ss)
	}
	return nil
}

func gptAt(s src, lba uint64, ss int64) *table {
	if lba > uint64(1<<62)/uint64(ss) {
		return nil
	}
	h := s.at(int64(lba)*ss, int(ss))
	if h == nil || string(h[0:8]) != "EFI PART" {
		return nil
	}
	hsize := binary.LittleEndian.Uint32(h[12:])
	if hsize < 92 || int64(hsize) > ss {
		return nil
	}
	hdr := append([]byte(nil), h[:hsize]...)
	want := binary.LittleEndian.Uint32(hdr[16:])
	clear(hdr[16:20])
	if crc32.ChecksumIEEE(hdr) != want {
		return nil
	}
	if binary.LittleEndian.Uint64(h[24:]) != lba {
		return nil
	}
	entLBA := binary.LittleEndian.Uint64(h[72:])
	count := binary.LittleEndian.Uint32(h[80:])
	esize := binary.LittleEndian.Uint32(h[84:])
	if esize < 128 || esize%8 != 0 || esize > 4096 || count == 0 || count > maxGPTEntries ||
		entLBA > uint64(1<<62)/uint64(ss) {
		return nil
	}
	ents := s.at(int64(entLBA)*ss, int(count*esize))
	if ents == nil || crc32.ChecksumIEEE(ents) != binary.LittleEndian.Uint32(h[88:]) {
		return nil
	}
	t := &table{kind: "gpt", id: formatGUID(h[56:72])}
	for i := uint32(0); i < count; i++ {
		e := ents[i*esize : i*esize+esize]
		if allZero(e[0:16]) {
			continue // unused entry
		}
		first := binary.LittleEndian.Uint64(e[32:])
		last := binary.LittleEndian.Uint64(e[40:])
		p := part{
			num:   int(i) + 1,
			start: first,
			typ:   formatGUID(e[0:16]),
			uuid:  formatGUID(e[16:32]),
			name:  utf16le(e[56:128]),
		}
		if last >= first {
			p.length = last - first + 1
		}
		t.parts = append(t.parts, p)
	}
	return t
}

func utf16le(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}
