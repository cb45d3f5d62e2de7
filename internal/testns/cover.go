package testns

import (
	"flag"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// KeepCoverage is for a re-executed test child that pivots or chroots away from the
// host's tree; Rerun calls it in the child. Under `go test -cover` the test binary
// writes its coverage when all tests are done, to -test.gocoverdir (GOCOVERDIR for
// the re-executed binary, which gets no such flag) or to a new temporary directory,
// and fails when it cannot: after a pivot, /tmp (where go test keeps that directory)
// is gone. KeepCoverage opens the directory now, while it can be reached, and at the
// end of the test points -test.gocoverdir at it through /proc/self/fd, or, in a root
// without a /proc, makes the open directory the working directory and the flag ".".
// The child's coverage is then counted with the parent's. Without -cover it does
// nothing.
func KeepCoverage(t *testing.T) {
	if testing.CoverMode() == "" {
		return
	}
	f := flag.Lookup("test.gocoverdir")
	if f == nil {
		return
	}
	dir := f.Value.String()
	if dir == "" {
		dir = os.Getenv("GOCOVERDIR")
	}
	if dir == "" {
		// Nowhere the go command reads: a directory of our own, kept open.
		d, err := os.MkdirTemp("", "gocoverdir")
		if err != nil {
			t.Fatal(err)
		}
		dir = d
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("opening the coverage directory: %v", err)
	}
	// Registered first, so it runs last: after the test's own cleanups, in the root
	// the test ends in.
	t.Cleanup(func() {
		p := "/proc/self/fd/" + strconv.Itoa(fd)
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			if err := unix.Fchdir(fd); err != nil {
				t.Errorf("the coverage directory: %v", err)
				return
			}
			p = "."
		}
		if err := f.Value.Set(p); err != nil {
			t.Errorf("-test.gocoverdir=%s: %v", p, err)
		}
	})
}
