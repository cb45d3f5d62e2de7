package antscmd

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/ants/ants/internal/mount"
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
// it and unmounts its "/" with MNT_FORCE|MNT_DETACH. The force lets the file system
// abort what it can (NFS and 9P begin their disconnect); the detach takes the whole
// tree below and keeps the kernel from first remounting one's own root read-only
// (whose sync would wait for ever on a hung server). Only "/" is named: looking up
// any path below it would walk through the hung file system and hang here too.
// PID 1 runs it when a stopped root's processes stay, and never waits long.
func rootAbort(args []string, out io.Writer) error {
	if len(args) != 0 {
		return fmt.Errorf("usage: ants root-abort (init runs it with the namespace on fd 3)")
	}
	ns := os.NewFile(3, "mntns")
	return nsjoin.Do(map[string]*os.File{"mnt": ns}, func() error {
		err := mount.Unmount("/", unix.MNT_FORCE|unix.MNT_DETACH)
		fmt.Fprintf(out, "root-abort: /: %v\n", errText(mount.Errno(err)))
		return err
	})
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}
