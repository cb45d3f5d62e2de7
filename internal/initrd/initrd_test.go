package initrd

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestCompressZstdRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "in")
	data := bytes.Repeat([]byte("070701 cpio-ish data "), 50000)
	os.WriteFile(src, data, 0o644)
	for _, how := range []string{"zstd", "gzip", "none"} {
		out := filepath.Join(dir, "out."+how)
		n, err := Compress(src, out, how)
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		if how != "none" && n >= int64(len(data)) {
			t.Errorf("%s: %d bytes out of %d in", how, n, len(data))
		}
		if how == "zstd" {
			raw, _ := os.ReadFile(out)
			var h zstd.Header
			if err := h.Decode(raw); err != nil {
				t.Fatalf("zstd frame header: %v", err)
			}
			// The kernel allocates its workspace from the header's window.
			if h.WindowSize == 0 || h.WindowSize > Window {
				t.Errorf("zstd window %d bytes, want at most %d", h.WindowSize, Window)
			}
			f, _ := os.Open(out)
			d, err := zstd.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			back, err := io.ReadAll(d)
			f.Close()
			if err != nil || !bytes.Equal(back, data) {
				t.Errorf("zstd round trip differs (%v)", err)
			}
		}
	}
	if _, err := Compress(src, filepath.Join(dir, "x"), "lzma"); err == nil {
		t.Error("an unknown compression is accepted")
	}
}
