package qemu

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

// File is a file to add to an image: path inside the image, content, permissions.
type File struct {
	Path    string
	Content string
	Mode    uint64
}

// Overlay returns an initrd made of base followed by a cpio archive of files, the way
// a user adds host configuration to the shipped image without rebuilding it (the
// kernel unpacks concatenated archives in order, later files replacing earlier ones).
// The shipped image is the unchanged first part.
func Overlay(t testing.TB, base string, files ...File) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "initrd")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, err := os.Open(base)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	n, err := io.Copy(f, in)
	if err != nil {
		t.Fatal(err)
	}
	// Each archive starts on a 4-byte boundary.
	if pad := (4 - n%4) % 4; pad > 0 {
		f.Write(make([]byte, pad))
	}
	var recs []cpio.Record
	for _, fl := range files {
		mode := fl.Mode
		if mode == 0 {
			mode = 0o644
		}
		recs = append(recs, cpio.StaticFile(fl.Path, fl.Content, mode))
	}
	w := cpio.Newc.Writer(f)
	if err := cpio.WriteRecordsAndDirs(w, recs); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	return out
}
