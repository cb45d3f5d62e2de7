package blockid

import (
	"os"
	"path/filepath"
	"testing"
)

// TestProbeRealFileSystems makes file systems with the real tools, where
// they are installed, and checks Probe against what was asked for and
// against `blkid -p`.
func TestProbeRealFileSystems(t *testing.T) {
	const uuid = "5b1f6a2e-0c3d-4e8f-9a7b-1c2d3e4f5a6b"
	cases := []struct {
		name   string
		tool   string
		size   int64 // of the sparse image made first; 0: the tool makes it
		args   func(img string) []string
		fstype string
		uuid   string // "" when the tool picks it
		label  string
	}{
		{name: "ext4", tool: "mkfs.ext4", args: func(img string) []string {
			return []string{"-q", "-F", "-L", "antsroot", "-U", uuid, img, "8M"}
		}, fstype: "ext4", uuid: uuid, label: "antsroot"},
		{name: "ext3", tool: "mkfs.ext4", args: func(img string) []string {
			return []string{"-q", "-F", "-t", "ext3", "-L", "three", "-U", uuid, img, "8M"}
		}, fstype: "ext3", uuid: uuid, label: "three"},
		{name: "ext2", tool: "mkfs.ext4", args: func(img string) []string {
			return []string{"-q", "-F", "-t", "ext2", "-L", "two", "-U", uuid, img, "8M"}
		}, fstype: "ext2", uuid: uuid, label: "two"},
		{name: "ext4 no journal", tool: "mkfs.ext4", args: func(img string) []string {
			return []string{"-q", "-F", "-O", "^has_journal", "-L", "nj", "-U", uuid, img, "8M"}
		}, fstype: "ext4", uuid: uuid, label: "nj"},
		{name: "vfat fat32", tool: "mkfs.vfat", size: 64 << 20, args: func(img string) []string {
			return []string{"-F", "32", "-n", "ANTSBOOT", "-i", "1234abcd", img}
		}, fstype: "vfat", uuid: "1234-ABCD", label: "ANTSBOOT"},
		{name: "vfat fat16", tool: "mkfs.vfat", size: 16 << 20, args: func(img string) []string {
			return []string{"-F", "16", "-n", "SIXTEEN", "-i", "0badf00d", img}
		}, fstype: "vfat", uuid: "0BAD-F00D", label: "SIXTEEN"},
		{name: "vfat fat12 no label", tool: "mkfs.vfat", size: 1 << 20, args: func(img string) []string {
			return []string{"-F", "12", "-i", "00c0ffee", img}
		}, fstype: "vfat", uuid: "00C0-FFEE", label: ""},
		{name: "vfat zero serial", tool: "mkfs.vfat", size: 1 << 20, args: func(img string) []string {
			return []string{"-i", "00000000", "-n", "ZED", img}
		}, fstype: "vfat", label: "ZED"},
		{name: "vfat 4k sectors", tool: "mkfs.vfat", size: 64 << 20, args: func(img string) []string {
			return []string{"-S", "4096", "-n", "BIGSECT", "-i", "11112222", img}
		}, fstype: "vfat", uuid: "1111-2222", label: "BIGSECT"},
		{name: "swap", tool: "mkswap", size: 1 << 20, args: func(img string) []string {
			return []string{"-L", "swappy", "-U", uuid, img}
		}, fstype: "swap", uuid: uuid, label: "swappy"},
		{name: "xfs", tool: "mkfs.xfs", size: 320 << 20, args: func(img string) []string {
			return []string{"-q", "-f", "-L", "xfsroot", "-m", "uuid=" + uuid, img}
		}, fstype: "xfs", uuid: uuid, label: "xfsroot"},
		{name: "btrfs", tool: "mkfs.btrfs", size: 128 << 20, args: func(img string) []string {
			return []string{"-q", "-f", "-L", "btr root", "-U", uuid, img}
		}, fstype: "btrfs", uuid: uuid, label: "btr root"},
		{name: "squashfs", tool: "mksquashfs", args: func(img string) []string {
			dir := filepath.Join(filepath.Dir(img), "tree")
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "hello"), []byte("hello\n"), 0o644)
			return []string{dir, img, "-quiet", "-no-progress", "-noappend"}
		}, fstype: "squashfs"},
		{name: "iso9660 joliet", tool: "xorriso", args: func(img string) []string {
			dir := filepath.Join(filepath.Dir(img), "tree")
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "hello"), []byte("hello\n"), 0o644)
			return []string{"-as", "mkisofs", "-quiet", "-J", "-V", "ANTS_LIVE", "-o", img, dir}
		}, fstype: "iso9660", label: "ANTS_LIVE"},
		{name: "iso9660 joliet long label", tool: "xorriso", args: func(img string) []string {
			dir := filepath.Join(filepath.Dir(img), "tree")
			os.MkdirAll(dir, 0o755)
			return []string{"-as", "mkisofs", "-quiet", "-J", "-V", "ANTS_LIVE_2024_X86_64", "-o", img, dir}
		}, fstype: "iso9660", label: "ANTS_LIVE_2024_X86_64"},
		{name: "iso9660 joliet mixed-case label", tool: "xorriso", args: func(img string) []string {
			dir := filepath.Join(filepath.Dir(img), "tree")
			os.MkdirAll(dir, 0o755)
			return []string{"-as", "mkisofs", "-quiet", "-J", "-V", "Ants live", "-o", img, dir}
		}, fstype: "iso9660", label: "Ants live"},
		{name: "iso9660 plain", tool: "xorriso", args: func(img string) []string {
			dir := filepath.Join(filepath.Dir(img), "tree")
			os.MkdirAll(dir, 0o755)
			return []string{"-as", "mkisofs", "-quiet", "-V", "PLAIN", "-o", img, dir}
		}, fstype: "iso9660", label: "PLAIN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			need(t, c.tool)
			img := filepath.Join(t.TempDir(), "fs.img")
			if c.size > 0 {
				sparse(t, img, c.size)
			}
			run(t, "", c.tool, c.args(img)...)
			f, err := os.Open(img)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			typ, u, label := Probe(f, fi.Size())
			t.Logf("Probe = %q %q %q", typ, u, label)
			if typ != c.fstype || label != c.label || (c.uuid != "" && u != c.uuid) {
				t.Errorf("Probe = %q %q %q, want %q %q %q", typ, u, label, c.fstype, c.uuid, c.label)
			}
			if _, err := findTool("blkid"); err != nil {
				return
			}
			tags := blkidExport(t, img)
			if tags["TYPE"] != typ || tags["UUID"] != u || tags["LABEL"] != label {
				t.Errorf("Probe = %q %q %q, blkid says %q %q %q", typ, u, label, tags["TYPE"], tags["UUID"], tags["LABEL"])
			}
		})
	}
}
