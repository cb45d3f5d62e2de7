package pid1

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/nsjoin"
	"golang.org/x/sys/unix"
)

// PID 1's own helpers run as /bbin/admin re-executed under the name HelperName
// (as runc re-executes itself for `runc init`), not as subcommands of the user's
// 24 MiB `ants` busybox: the admin program links only PID 1 and the shell, and
// starts in about half the time (docs/design.md, item 9). Each is a child for a
// reason: it touches the root's file system or joins its mount namespace, where a
// hung server would hold it for ever; PID 1 never waits for one long.
const HelperName = "ants-helper"

// helperPath is the program PID 1 starts a helper from (argv[0] HelperName).
func helperPath() string { return BinDir + "/admin" }

// Helper runs a helper: `probe PID` or `root-abort` (with the namespace on fd 3).
func Helper(args []string, out io.Writer) int {
	var err error
	switch {
	case len(args) == 2 && args[0] == "probe":
		err = probe(args[1])
	case len(args) == 1 && args[0] == "root-abort":
		err = rootAbort(out)
	default:
		fmt.Fprintf(out, "%s: PID 1's helper (probe PID | root-abort); not for use by hand\n", HelperName)
		return 2
	}
	if err != nil {
		fmt.Fprintf(out, "%s %s: %v\n", HelperName, args[0], err)
		return 1
	}
	return 0
}

// probe looks at the root's "/" through /proc/PID/root: a stat and a read of one
// name, which a hung network file system does not answer.
func probe(arg string) error {
	pid, err := strconv.Atoi(arg)
	if err != nil {
		return fmt.Errorf("%q is not a pid", arg)
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/root/", pid))
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); err != nil && err != io.EOF {
		return err
	}
	return nil
}

// rootAbort joins the root's mount namespace (fd 3) and unmounts its "/" with
// MNT_FORCE|MNT_DETACH. The force lets the file system abort what it can (NFS and
// 9P begin their disconnect); the detach takes the whole tree below and keeps the
// kernel from first remounting one's own root read-only (whose sync would wait for
// ever on a hung server). Only "/" is named: looking up any path below it would
// walk through the hung file system and hang here too.
func rootAbort(out io.Writer) error {
	ns := os.NewFile(3, "mntns")
	return nsjoin.Do(map[string]*os.File{"mnt": ns}, func() error {
		err := mount.Unmount("/", unix.MNT_FORCE|unix.MNT_DETACH)
		res := "ok"
		if err != nil {
			res = mount.Errno(err).Error()
		}
		fmt.Fprintf(out, "root-abort: /: %s\n", res)
		return err
	})
}
