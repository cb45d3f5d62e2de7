package mount

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Entry is one row of a mount table (u-root's libinit Creator is the model): a
// file system, or with MS_BIND in Flags a bind, to mount on Target.
type Entry struct {
	Source, Target, FSType string
	Flags                  uintptr
	Data                   string
	Mode                   os.FileMode // of Target when it is made; 0 is 0755
	// Once leaves a Target that is a mount point already alone, and takes EBUSY
	// for success: the kernel or an earlier program mounted it (PID 1's tables).
	Once bool
}

func (e Entry) String() string {
	if e.Flags&unix.MS_BIND != 0 {
		return fmt.Sprintf("bind %s on %s (%s)", e.Source, e.Target, FlagString(e.Flags))
	}
	return fmt.Sprintf("%s on %s (%s)", e.Source, e.Target, e.FSType)
}

// step is one mount(2) call of an entry.
type step struct {
	op     string
	source string
	fstype string
	flags  uintptr
	data   string
}

// bindFlags are the flags a new bind mount takes; the others come by a remount.
const bindFlags = unix.MS_BIND | unix.MS_REC

// steps are the calls that mount e: one mount(2), and for a bind with more flags
// than MS_BIND and MS_REC a second, MS_REMOUNT|MS_BIND with those flags (a new bind
// ignores them).
func (e Entry) steps() []step {
	if e.Flags&unix.MS_BIND == 0 {
		return []step{{"mount", e.Source, e.FSType, e.Flags, e.Data}}
	}
	s := []step{{"bind", e.Source, "", e.Flags & bindFlags, ""}}
	if rest := e.Flags &^ bindFlags; rest != 0 {
		s = append(s, step{"remount", "", "", unix.MS_REMOUNT | unix.MS_BIND | rest, ""})
	}
	return s
}

// Do makes e's target (with its parents) and mounts e.
func (e Entry) Do() error {
	mode := e.Mode
	if mode == 0 {
		mode = 0o755
	}
	if err := os.MkdirAll(e.Target, mode); err != nil {
		return err
	}
	if e.Once && IsMountPoint(e.Target) {
		return nil
	}
	for _, s := range e.steps() {
		err := do(s.op, s.source, e.Target, s.fstype, s.flags, s.data)
		if err != nil && !(e.Once && errors.Is(err, unix.EBUSY)) {
			return err
		}
	}
	return nil
}

// Under is e with its target below root.
func (e Entry) Under(root string) Entry {
	e.Target = filepath.Join(root, e.Target)
	return e
}

// Table is a list of mounts made in order.
type Table []Entry

// Mount mounts the entries in order, their targets below root ("/" for none). It
// stops at the first failure, unless keepGoing; it returns the failures joined.
func (t Table) Mount(root string, keepGoing bool) error {
	var errs []error
	for _, e := range t {
		if err := e.Under(root).Do(); err != nil {
			errs = append(errs, err)
			if !keepGoing {
				break
			}
		}
	}
	return errors.Join(errs...)
}

// IsMountPoint reports whether path is the root of a mount: its device differs from
// its parent's (or it is "/").
func IsMountPoint(path string) bool {
	var st, pst unix.Stat_t
	if unix.Lstat(path, &st) != nil || unix.Lstat(path+"/..", &pst) != nil {
		return false
	}
	return st.Dev != pst.Dev || st.Ino == pst.Ino
}
