// Package initrd compresses an initramfs image the one way ants does it, for the
// image builder and for the bench's stock u-root image, so that both are compressed
// alike.
package initrd

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
)

// Compress writes src to dst compressed with how (zstd, gzip or none) and returns
// dst's size; the kernel unpacks zstd, gzip and plain cpio (Debian's kernel has all
// three built in). dst appears whole or not at all (written beside, then renamed).
func Compress(src, dst, how string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	var w io.WriteCloser
	switch how {
	case "zstd":
		// The kernel's decompressor wants a window it can allocate; 8 MiB is safe.
		w, err = zstd.NewWriter(out, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithWindowSize(8<<20))
	case "gzip":
		w, err = gzip.NewWriterLevel(out, gzip.BestCompression)
	case "none":
		w = nopCloser{out}
	default:
		err = fmt.Errorf("-compress %q: use zstd, gzip or none", how)
	}
	if err != nil {
		out.Close()
		return 0, err
	}
	if _, err := io.Copy(w, in); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	if err := out.Close(); err != nil {
		return 0, err
	}
	st, err := os.Stat(tmp)
	if err != nil {
		return 0, err
	}
	return st.Size(), os.Rename(tmp, dst)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
