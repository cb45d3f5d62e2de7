package antscmd

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ants/ants/internal/nsjoin"
	"golang.org/x/sys/unix"
)

// probe is `ants probe PID`: the watchdog's child. It looks at the root's "/"
// through /proc/PID/root, a path lookup that goes through the root's mount
// namespace: on a hung 9P server it blocks (PID 1 kills it after a timeout, and
// never waits for it), on a dead one it fails.
func probe(args []string, out io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: ants probe PID")
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil {
		return fmt.Errorf("%q is not a pid", args[0])
	}
	root := fmt.Sprintf("/proc/%d/root/", pid)
	if _, err := os.Stat(root); err != nil {
		return err
	}
	f, err := os.Open(root)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); err != nil && err != io.EOF {
		return err
	}
	return nil
}

// rootAbort is `ants root-abort` with the root's mount namespace on fd 3: it joins
// it and unmounts everything there, newest first, with MNT_FORCE (a network file
// system aborts its pending requests, so processes stuck on a hung server wake up
// with EIO) and then MNT_DETACH. PID 1 runs it when a stopped root's processes do
// not go away.
func rootAbort(args []string, out io.Writer) error {
	if len(args) != 0 {
		return fmt.Errorf("usage: ants root-abort (init runs this with the namespace on fd 3)")
	}
	ns := os.NewFile(3, "mntns")
	return nsjoin.Do(map[string]*os.File{"mnt": ns}, func() error {
		b, err := os.ReadFile("/proc/thread-self/mountinfo")
		if err != nil {
			return err
		}
		var points []string
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) > 4 {
				points = append(points, f[4])
			}
		}
		for i := len(points) - 1; i >= 0; i-- {
			p := points[i]
			ferr := unix.Unmount(p, unix.MNT_FORCE)
			derr := unix.Unmount(p, unix.MNT_DETACH)
			fmt.Fprintf(out, "root-abort: %s: force %v, detach %v\n", p, errText(ferr), errText(derr))
		}
		return nil
	})
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}
