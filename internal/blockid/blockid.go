// Package blockid finds block devices by the names that root= uses: a
// device node or kernel name, or LABEL=, UUID=, PARTUUID= or PARTLABEL=
// with the values blkid and udev would show. It reads sysfs for the list of
// devices and partitions, sniffs file system superblocks for type, UUID and
// label, and reads MBR and GPT partition tables for PARTUUID and PARTLABEL.
// It needs no udev, no blkid and no /dev/disk/by-* links.
package blockid

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Dev is one block device or partition.
type Dev struct {
	Name      string // kernel name: "vda1"
	Path      string // device node: "/dev/vda1"
	Parent    string // "vda" for a partition, "" for a whole disk
	Partition int    // partition number, 0 for a whole disk
	FSType    string // "ext4", "ext3", "ext2", "vfat", "squashfs", "iso9660", "xfs", "btrfs", "swap" ("jbd": an ext journal device), "" if unknown
	UUID      string // file system UUID as blkid prints it: lowercase with dashes (ext*, xfs, btrfs, swap), "ABCD-1234" (vfat), a date (iso9660)
	Label     string // file system label
	PartUUID  string // MBR: "%08x-%02x" of disk signature and partition number; GPT: partition GUID, lowercase
	PartLabel string // GPT partition name, "" for MBR
	PTType    string // a whole disk's partition table: "dos" or "gpt" ("" for a partition, a disk without one, or one with a file system on it)
	PTUUID    string // its identifier as blkid prints it: dos "%08x" (the disk signature), gpt the disk GUID
}

// String describes d in one line: `vda1 (ext4 LABEL=root UUID=...)`.
func (d Dev) String() string {
	var f []string
	if d.FSType != "" {
		f = append(f, d.FSType)
	}
	for _, kv := range [][2]string{{"LABEL", d.Label}, {"UUID", d.UUID}, {"PARTUUID", d.PartUUID}, {"PARTLABEL", d.PartLabel}} {
		if kv[1] != "" {
			f = append(f, kv[0]+"="+quote(kv[1]))
		}
	}
	return d.Name + " (" + strings.Join(f, " ") + ")"
}

func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"'(),;\\") || strings.ContainsFunc(s, func(r rune) bool { return !strconv.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}

// List returns every block device in sysBlock (normally /sys/class/block;
// /sys/block, where partitions are subdirectories of their disk, works too),
// probing each through its node in devDir (normally /dev). A partition is an
// entry with a "partition" file; its parent disk is the directory that holds
// it once symlinks are resolved. A device whose node cannot be opened or
// read is still listed, with what sysfs tells about it. Devices are sorted
// by disk and partition number. List fails only if sysBlock cannot be read.
func List(sysBlock, devDir string) ([]Dev, error) {
	ents, err := os.ReadDir(sysBlock)
	if err != nil {
		return nil, err
	}
	top, err := filepath.EvalSymlinks(sysBlock)
	if err != nil {
		top = sysBlock
	}
	byName := map[string]*Dev{}
	sysDir := map[string]string{} // device name -> its sysfs directory
	var devs []*Dev
	add := func(name, dir, parent string) {
		if _, ok := byName[name]; ok {
			return
		}
		d := &Dev{Name: name, Path: filepath.Join(devDir, strings.ReplaceAll(name, "!", "/"))}
		if n, ok := readInt(filepath.Join(dir, "partition")); ok && n > 0 {
			d.Partition = n
			d.Parent = parent
		}
		sysDir[name] = dir
		byName[name] = d
		devs = append(devs, d)
	}
	for _, e := range ents {
		dir := filepath.Join(sysBlock, e.Name())
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			continue // a dangling link: nothing to say about it
		}
		if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
			continue
		}
		parent := ""
		if up := filepath.Dir(real); up != top {
			parent = filepath.Base(up)
		}
		add(e.Name(), real, parent)
		// In /sys/block and under a disk's own directory, its partitions
		// are subdirectories with a "partition" file.
		subs, _ := os.ReadDir(real)
		for _, s := range subs {
			if s.IsDir() && fileExists(filepath.Join(real, s.Name(), "partition")) {
				add(s.Name(), filepath.Join(real, s.Name()), e.Name())
			}
		}
	}

	tables := map[string]*table{}
	for _, d := range devs {
		probeDev(d, sysDir[d.Name])
	}
	for _, d := range devs {
		if n, ok := readInt(filepath.Join(sysDir[d.Name], "size")); d.Partition == 0 && d.FSType == "" && (!ok || n > 0) {
			// A disk with a file system on it has no table (a vfat one
			// would pass for an MS-DOS table), as blkid decides too.
			t := readTableOf(d.Path, sysDir[d.Name])
			tables[d.Name] = t
			if t != nil {
				d.PTType, d.PTUUID = t.kind, t.id
			}
		}
	}
	for _, d := range devs {
		if d.Partition == 0 || d.Parent == "" {
			continue
		}
		t, ok := tables[d.Parent]
		if !ok {
			parentPath := filepath.Join(devDir, strings.ReplaceAll(d.Parent, "!", "/"))
			t = readTableOf(parentPath, sysDir[d.Parent])
			tables[d.Parent] = t
		}
		if t != nil {
			d.PartUUID = t.partUUID(d.Partition)
			d.PartLabel = t.partLabel(d.Partition)
		}
	}

	slices.SortStableFunc(devs, func(a, b *Dev) int {
		ka, kb := a.Name, b.Name
		if a.Parent != "" {
			ka = a.Parent
		}
		if b.Parent != "" {
			kb = b.Parent
		}
		return cmp.Or(strings.Compare(ka, kb), cmp.Compare(a.Partition, b.Partition), strings.Compare(a.Name, b.Name))
	})
	out := make([]Dev, len(devs))
	for i, d := range devs {
		out[i] = *d
	}
	return out, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func readInt(p string) (int, bool) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return n, err == nil
}

// openDev opens a device node for reading without waiting for media, and
// returns its size in bytes.
func openDev(path string) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, err
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, 0, errors.New("is a directory")
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, size, nil
}

// probeDev fills in d's file system, unless sysfs says the device is empty
// (an unbound loop device, a drive without media) or its node won't open.
func probeDev(d *Dev, sysDir string) {
	if n, ok := readInt(filepath.Join(sysDir, "size")); ok && n == 0 {
		return
	}
	f, size, err := openDev(d.Path)
	if err != nil {
		return
	}
	defer f.Close()
	d.FSType, d.UUID, d.Label = Probe(f, size)
}

// readTableOf reads the partition table of the disk at path, with the
// logical sector size that sysfs gives (512 if it says nothing); nil if
// there is none or the disk can't be read.
func readTableOf(path, sysDir string) *table {
	ss := 512
	if sysDir != "" {
		if n, ok := readInt(filepath.Join(sysDir, "queue", "logical_block_size")); ok {
			ss = n
		}
	}
	f, size, err := openDev(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	t, err := readTable(f, size, ss)
	if err != nil {
		return nil
	}
	return t
}

// ErrNotFound is matched (with errors.Is) by Find's error when no device
// fits the spec, as opposed to a spec that is malformed or unsupported; a
// caller waiting for its root device to show up keeps trying on it.
var ErrNotFound = errors.New("block device not found")

type notFoundError struct {
	spec string
	devs []Dev
}

func (e *notFoundError) Error() string {
	var b strings.Builder
	b.WriteString("no block device with ")
	b.WriteString(e.spec)
	b.WriteString("; found: ")
	if len(e.devs) == 0 {
		b.WriteString("none")
	}
	for i, d := range e.devs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.String())
	}
	return b.String()
}

func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

// Find returns the first of devs that spec names. spec is a device node
// ("/dev/vda1"), a kernel name ("vda1"), or one of LABEL=, UUID=, PARTUUID=
// and PARTLABEL= with a value (UUID and PARTUUID compare without regard to
// case; labels exactly). The /dev/disk/by-label/, by-uuid/, by-partuuid/ and
// by-partlabel/ paths that udev would make are taken as the same tags. The
// kernel's PARTUUID=.../PARTNROFF=n is not supported. If nothing matches,
// the error (which matches ErrNotFound) names spec and lists devs.
func Find(devs []Dev, spec string) (Dev, error) {
	if spec == "" {
		return Dev{}, errors.New("empty block device spec")
	}
	match, err := matcher(spec)
	if err != nil {
		return Dev{}, err
	}
	for _, d := range devs {
		if match(d) {
			return d, nil
		}
	}
	return Dev{}, &notFoundError{spec: spec, devs: devs}
}

var byDirs = map[string]string{
	"/dev/disk/by-label/":     "LABEL",
	"/dev/disk/by-uuid/":      "UUID",
	"/dev/disk/by-partuuid/":  "PARTUUID",
	"/dev/disk/by-partlabel/": "PARTLABEL",
}

func matcher(spec string) (func(Dev) bool, error) {
	key, val, isTag := strings.Cut(spec, "=")
	if !isTag {
		for dir, k := range byDirs {
			if v, ok := strings.CutPrefix(spec, dir); ok && v != "" && !strings.Contains(v, "/") {
				key, val, isTag = k, unescapeUdev(v), true
			}
		}
	}
	if !isTag {
		if strings.Contains(spec, "/") {
			clean := filepath.Clean(spec)
			name, inDev := strings.CutPrefix(clean, "/dev/")
			name = strings.ReplaceAll(name, "/", "!")
			return func(d Dev) bool {
				return filepath.Clean(d.Path) == clean || (inDev && d.Name == name)
			}, nil
		}
		return func(d Dev) bool { return d.Name == spec }, nil
	}
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
		val = val[1 : len(val)-1]
	}
	if val == "" {
		return nil, fmt.Errorf("empty value in block device spec %q", spec)
	}
	switch strings.ToUpper(key) {
	case "LABEL":
		return func(d Dev) bool { return d.Label == val }, nil
	case "UUID":
		return func(d Dev) bool { return d.UUID != "" && strings.EqualFold(d.UUID, val) }, nil
	case "PARTLABEL":
		return func(d Dev) bool { return d.PartLabel == val }, nil
	case "PARTUUID":
		if i := strings.Index(val, "/"); i >= 0 {
			if strings.HasPrefix(strings.ToUpper(val[i+1:]), "PARTNROFF=") {
				return nil, fmt.Errorf("%s: PARTUUID=.../PARTNROFF= is not supported: %w", spec, errors.ErrUnsupported)
			}
			return nil, fmt.Errorf("malformed block device spec %q", spec)
		}
		return func(d Dev) bool { return d.PartUUID != "" && strings.EqualFold(d.PartUUID, val) }, nil
	}
	return nil, fmt.Errorf("unknown tag %s= in block device spec %q (want LABEL=, UUID=, PARTUUID= or PARTLABEL=)", key, spec)
}

// unescapeUdev undoes udev's \xNN escaping of /dev/disk/by-* names.
func unescapeUdev(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
