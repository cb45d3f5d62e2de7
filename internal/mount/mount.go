// Package mount is ants' one mount layer: mount(2), umount2(2) and pivot_root(2)
// wrappers whose errors say what failed (the operation, source, target, type, flag
// names and data, as runc's mountError does), the one mountinfo parser, and the
// table type of the mounts PID 1 and the root child make.
package mount

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Error is a failed mount, unmount or pivot_root with its context. errors.Is and
// errors.As reach the errno through Unwrap.
type Error struct {
	Op     string // mount, bind, move, remount, propagate, unmount, pivot_root
	Source string // for pivot_root, the new root
	Target string // for pivot_root, where the old root goes
	FSType string
	Flags  uintptr // MS_* flags; MNT_* and UMOUNT_* flags for unmount
	Data   string
	Err    error
}

// Error reads as "mount proc on /proc (type proc, flags MS_NOSUID|MS_NODEV,
// data "hidepid=2"): permission denied", leaving out the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	switch {
	case e.Op == "pivot_root":
		fmt.Fprintf(&b, " %s %s", e.Source, e.Target)
	case e.Source != "" && e.Op == "move":
		fmt.Fprintf(&b, " %s to %s", e.Source, e.Target)
	case e.Source != "":
		fmt.Fprintf(&b, " %s on %s", e.Source, e.Target)
	default:
		fmt.Fprintf(&b, " %s", e.Target)
	}
	var parts []string
	if e.FSType != "" {
		parts = append(parts, "type "+e.FSType)
	}
	if e.Flags != 0 {
		f := FlagString(e.Flags)
		if e.Op == "unmount" {
			f = UnmountFlagString(int(e.Flags))
		}
		parts = append(parts, "flags "+f)
	}
	if e.Data != "" {
		parts = append(parts, fmt.Sprintf("data %q", e.Data))
	}
	if len(parts) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errno is the errno of a mount error in err's chain, or err itself: for a message
// that names the mount already.
func Errno(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e.Err
	}
	return err
}

type flagName struct {
	f    uintptr
	name string
}

var flagNames = []flagName{
	{unix.MS_RDONLY, "MS_RDONLY"},
	{unix.MS_NOSUID, "MS_NOSUID"},
	{unix.MS_NODEV, "MS_NODEV"},
	{unix.MS_NOEXEC, "MS_NOEXEC"},
	{unix.MS_SYNCHRONOUS, "MS_SYNCHRONOUS"},
	{unix.MS_REMOUNT, "MS_REMOUNT"},
	{unix.MS_MANDLOCK, "MS_MANDLOCK"},
	{unix.MS_DIRSYNC, "MS_DIRSYNC"},
	{unix.MS_NOSYMFOLLOW, "MS_NOSYMFOLLOW"},
	{unix.MS_NOATIME, "MS_NOATIME"},
	{unix.MS_NODIRATIME, "MS_NODIRATIME"},
	{unix.MS_BIND, "MS_BIND"},
	{unix.MS_MOVE, "MS_MOVE"},
	{unix.MS_REC, "MS_REC"},
	{unix.MS_SILENT, "MS_SILENT"},
	{unix.MS_POSIXACL, "MS_POSIXACL"},
	{unix.MS_UNBINDABLE, "MS_UNBINDABLE"},
	{unix.MS_PRIVATE, "MS_PRIVATE"},
	{unix.MS_SLAVE, "MS_SLAVE"},
	{unix.MS_SHARED, "MS_SHARED"},
	{unix.MS_RELATIME, "MS_RELATIME"},
	{unix.MS_I_VERSION, "MS_I_VERSION"},
	{unix.MS_STRICTATIME, "MS_STRICTATIME"},
	{unix.MS_LAZYTIME, "MS_LAZYTIME"},
}

var unmountFlagNames = []flagName{
	{unix.MNT_FORCE, "MNT_FORCE"},
	{unix.MNT_DETACH, "MNT_DETACH"},
	{unix.MNT_EXPIRE, "MNT_EXPIRE"},
	{unix.UMOUNT_NOFOLLOW, "UMOUNT_NOFOLLOW"},
}

// FlagString prints mount(2) flags as MS_BIND|MS_REC; bits without a name in hex.
func FlagString(f uintptr) string { return flagString(f, flagNames) }

// UnmountFlagString prints umount2(2) flags as MNT_FORCE|MNT_DETACH.
func UnmountFlagString(f int) string { return flagString(uintptr(f), unmountFlagNames) }

func flagString(f uintptr, names []flagName) string {
	var parts []string
	for _, n := range names {
		if f&n.f != 0 {
			parts = append(parts, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", f))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

func do(op, source, target, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return &Error{Op: op, Source: source, Target: target, FSType: fstype, Flags: flags, Data: data, Err: err}
	}
	return nil
}

// Mount is mount(2).
func Mount(source, target, fstype string, flags uintptr, data string) error {
	return do("mount", source, target, fstype, flags, data)
}

// Bind bind-mounts source on target: mount(2) with MS_BIND and flags (MS_REC for
// the mounts below source; the kernel ignores the others on a new bind, see
// Remount).
func Bind(source, target string, flags uintptr) error {
	return do("bind", source, target, "", flags|unix.MS_BIND, "")
}

// Move moves the mount at source to target (MS_MOVE).
func Move(source, target string) error {
	return do("move", source, target, "", unix.MS_MOVE, "")
}

// Remount changes the flags (and data) of the mount at target: mount(2) with
// MS_REMOUNT and flags; with MS_BIND in flags only the per-mount flags change, which
// is how a bind becomes read-only, nosuid or noexec.
func Remount(target string, flags uintptr, data string) error {
	return do("remount", "", target, "", flags|unix.MS_REMOUNT, data)
}

// Propagate sets the propagation of the mount at target: flags is one of
// MS_SHARED, MS_SLAVE, MS_PRIVATE and MS_UNBINDABLE, with MS_REC for the mounts
// below it.
func Propagate(target string, flags uintptr) error {
	return do("propagate", "", target, "", flags, "")
}

// Unmount is umount2(2); flags are MNT_FORCE, MNT_DETACH, MNT_EXPIRE and
// UMOUNT_NOFOLLOW.
func Unmount(target string, flags int) error {
	if err := unix.Unmount(target, flags); err != nil {
		return &Error{Op: "unmount", Target: target, Flags: uintptr(flags), Err: err}
	}
	return nil
}

// PivotRoot is pivot_root(2): newRoot becomes "/", the old root goes to putOld.
func PivotRoot(newRoot, putOld string) error {
	if err := unix.PivotRoot(newRoot, putOld); err != nil {
		return &Error{Op: "pivot_root", Source: newRoot, Target: putOld, Err: err}
	}
	return nil
}
