package nsfile

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/nsjoin"
	"golang.org/x/sys/unix"
)

// mountKey identifies a mount across namespaces: where, what file system, which
// part of it, and the file system type.
type mountKey struct{ point, dev, root, fstype string }

func keyOf(m Mount) mountKey { return mountKey{m.Point, m.Dev, m.Root, m.FSType} }

// Terminal reports whether m is a terminal or console mount (/dev/pts, /dev/console,
// /dev/tty*), which cpns -r leaves alone.
func Terminal(m Mount) bool {
	p := m.Point
	return p == "/dev/pts" || strings.HasPrefix(p, "/dev/pts/") || p == "/dev/console" ||
		strings.HasPrefix(p, "/dev/tty")
}

// CopyPlan is what Copy does: unmount Unmount (newest first), then attach copies of
// Mount, in order.
type CopyPlan struct {
	Unmount []Mount // mounts of TO that FROM lacks, newest first
	Mount   []Mount // mounts of FROM that TO lacks, parents first
}

// PlanCopy computes the difference between two mount tables; skip, when not nil,
// names mounts to leave alone on both sides.
func PlanCopy(from, to []Mount, skip func(Mount) bool) CopyPlan {
	var p CopyPlan
	from, to = Ordered(from), Ordered(to)
	inFrom, inTo := map[mountKey]bool{}, map[mountKey]bool{}
	for _, m := range from {
		inFrom[keyOf(m)] = true
	}
	for _, m := range to {
		inTo[keyOf(m)] = true
	}
	for i := len(to) - 1; i >= 0; i-- {
		m := to[i]
		if m.Point == "/" || inFrom[keyOf(m)] || (skip != nil && skip(m)) {
			continue
		}
		p.Unmount = append(p.Unmount, m)
	}
	for _, m := range from {
		if m.Point == "/" || inTo[keyOf(m)] || (skip != nil && skip(m)) {
			continue
		}
		p.Mount = append(p.Mount, m)
	}
	return p
}

// Copy makes TO's mount namespace match FROM's (Plan 9's cpns): it unmounts what
// FROM lacks, newest first, then attaches to TO a copy of each mount FROM has and
// TO lacks (open_tree(OPEN_TREE_CLONE) in FROM, move_mount in TO: the same file
// system and subtree, not a new instance), in order. Failures do not stop it; they
// are returned, and each step is logged to log (when not nil) in ns syntax.
func Copy(from, to int, skip func(Mount) bool, log io.Writer) []error {
	if err := CheckPermission(to); err != nil {
		return []error{err}
	}
	if err := CheckPermission(from); err != nil {
		return []error{err}
	}
	fms, err := ProcMounts(from)
	if err != nil {
		return []error{err}
	}
	tms, err := ProcMounts(to)
	if err != nil {
		return []error{err}
	}
	plan := PlanCopy(fms, tms, skip)
	ffds, err := nsjoin.Open(from, "mnt")
	if err != nil {
		return []error{err}
	}
	defer nsjoin.Close(ffds)
	tfds, err := nsjoin.Open(to, "mnt")
	if err != nil {
		return []error{err}
	}
	defer nsjoin.Close(tfds)
	var errs []error
	gone := map[string]bool{}
	err = nsjoin.Do(tfds, func() error {
		for _, m := range plan.Unmount {
			err := mount.Unmount(m.Point, 0)
			if errors.Is(err, unix.EBUSY) {
				err = mount.Unmount(m.Point, unix.MNT_DETACH)
			}
			if err != nil {
				if ancestorGone(m.Point, gone) {
					continue
				}
				errs = append(errs, err)
				continue
			}
			gone[m.Point] = true
			if log != nil {
				fmt.Fprintln(log, Format(Op{Cmd: "unmount", Dst: m.Point}))
			}
		}
		return nil
	})
	if err != nil {
		return append(errs, err)
	}
	for _, m := range plan.Mount {
		var fd int
		err := nsjoin.Do(ffds, func() error {
			var err error
			fd, err = unix.OpenTree(unix.AT_FDCWD, m.Point, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("copy %s from pid %d: %w", Quote(m.Point), from, err))
			continue
		}
		err = nsjoin.Do(tfds, func() error {
			if err := unix.MoveMount(fd, "", unix.AT_FDCWD, m.Point, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
				return err
			}
			if p := m.Propagation(); p == "shared" || p == "unbindable" {
				return setProp(m.Point, p)
			}
			return nil
		})
		unix.Close(fd)
		if err != nil {
			errs = append(errs, fmt.Errorf("attach %s in pid %d: %w", Quote(m.Point), to, err))
			continue
		}
		if log != nil {
			fmt.Fprintf(log, "%s\n", Format(Op{Cmd: "mount", Type: m.FSType, Opts: mountOpts(m), Src: m.Source, Dst: m.Point}))
		}
	}
	return errs
}

func ancestorGone(p string, gone map[string]bool) bool {
	for d := filepath.Dir(p); ; d = filepath.Dir(d) {
		if gone[d] {
			return true
		}
		if d == "/" {
			return false
		}
	}
}
