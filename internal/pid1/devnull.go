package pid1

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

var (
	nullOnce sync.Once
	nullFile *os.File
)

// devNull is /dev/null, opened once: children started under the reaper's lock get
// it as stdio, so that nothing is opened there (a /dev/null a root replaced, with
// ants.rootpriv=full, could be a FIFO that never opens).
func devNull() *os.File {
	nullOnce.Do(func() {
		nullFile, _ = os.OpenFile("/dev/null", os.O_RDWR|unix.O_NONBLOCK, 0)
	})
	return nullFile
}
