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

// Window is the zstd window the image is written with. The kernel unpacks the
// initramfs in a stream and allocates a workspace a little larger than the window
// (zstd_dstream_workspace_bound in lib/decompress_unzstd.c) for as long as it
// unpacks, beside the compressed image it was given and the files it has written
// so far: the machine's peak of memory at boot. A window of 8 MiB cost 8.4 MiB of
// that peak; 256 KiB costs 0.7 MiB, and the image (Go binaries and modules that are
// compressed already) 2.4% more bytes (12.83 MiB against 12.53). Measured with
// `go run ./qemu/bench -only mem`: docs/performance.md, "Memory".
const Window = 256 << 10

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
		w, err = zstd.NewWriter(out, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithWindowSize(Window))
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
