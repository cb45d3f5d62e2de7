package mount

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

func TestFlagString(t *testing.T) {
	for _, tc := range []struct {
		f    uintptr
		want string
	}{
		{0, "0"},
		{unix.MS_BIND | unix.MS_REC, "MS_BIND|MS_REC"},
		{unix.MS_REC | unix.MS_PRIVATE, "MS_REC|MS_PRIVATE"},
		{unix.MS_REC | unix.MS_SLAVE, "MS_REC|MS_SLAVE"},
		{unix.MS_SHARED, "MS_SHARED"},
		{unix.MS_UNBINDABLE, "MS_UNBINDABLE"},
		{unix.MS_MOVE, "MS_MOVE"},
		{unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, "MS_NOSUID|MS_NODEV|MS_NOEXEC"},
		{unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY, "MS_RDONLY|MS_REMOUNT|MS_BIND"},
		{unix.MS_NOATIME | unix.MS_STRICTATIME | unix.MS_RELATIME, "MS_NOATIME|MS_RELATIME|MS_STRICTATIME"},
		{unix.MS_RDONLY | 1<<30, "MS_RDONLY|0x40000000"},
		{1 << 31, "0x80000000"},
	} {
		if got := FlagString(tc.f); got != tc.want {
			t.Errorf("FlagString(0x%x) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestUnmountFlagString(t *testing.T) {
	for f, want := range map[int]string{
		0:                                "0",
		unix.MNT_DETACH:                  "MNT_DETACH",
		unix.MNT_FORCE | unix.MNT_DETACH: "MNT_FORCE|MNT_DETACH",
		unix.UMOUNT_NOFOLLOW | 64:        "UMOUNT_NOFOLLOW|0x40",
		unix.MNT_EXPIRE:                  "MNT_EXPIRE",
	} {
		if got := UnmountFlagString(f); got != want {
			t.Errorf("UnmountFlagString(%d) = %q, want %q", f, got, want)
		}
	}
}

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{Op: "mount", Source: "src", Target: "/tgt", FSType: "ext4", Flags: unix.MS_RDONLY, Data: "errors=remount-ro", Err: unix.ENOENT},
			`mount src on /tgt (type ext4, flags MS_RDONLY, data "errors=remount-ro"): no such file or directory`},
		{Error{Op: "mount", Source: "proc", Target: "/proc", FSType: "proc", Err: unix.EPERM},
			`mount proc on /proc (type proc): operation not permitted`},
		{Error{Op: "bind", Source: "/a b", Target: "/c", Flags: unix.MS_BIND | unix.MS_REC, Err: unix.ENOENT},
			`bind /a b on /c (flags MS_BIND|MS_REC): no such file or directory`},
		{Error{Op: "move", Source: "/proc", Target: "/new/proc", Flags: unix.MS_MOVE, Err: unix.EINVAL},
			`move /proc to /new/proc (flags MS_MOVE): invalid argument`},
		{Error{Op: "remount", Target: "/x", Flags: unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY, Err: unix.EPERM},
			`remount /x (flags MS_RDONLY|MS_REMOUNT|MS_BIND): operation not permitted`},
		{Error{Op: "propagate", Target: "/", Flags: unix.MS_REC | unix.MS_PRIVATE, Err: unix.EINVAL},
			`propagate / (flags MS_REC|MS_PRIVATE): invalid argument`},
		{Error{Op: "unmount", Target: "/", Flags: unix.MNT_FORCE | unix.MNT_DETACH, Err: unix.EBUSY},
			`unmount / (flags MNT_FORCE|MNT_DETACH): device or resource busy`},
		{Error{Op: "unmount", Target: "/mnt", Err: unix.EINVAL},
			`unmount /mnt: invalid argument`},
		{Error{Op: "pivot_root", Source: ".", Target: ".", Err: unix.EINVAL},
			`pivot_root . .: invalid argument`},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

func TestErrorUnwraps(t *testing.T) {
	var err error = &Error{Op: "mount", Source: "x", Target: "/y", Err: unix.EBUSY}
	err = fmt.Errorf("in the root: %w", err)
	if !errors.Is(err, unix.EBUSY) || errors.Is(err, unix.ENOENT) {
		t.Errorf("errors.Is through %v", err)
	}
	var me *Error
	if !errors.As(err, &me) || me.Target != "/y" {
		t.Errorf("errors.As: %+v", me)
	}
	var errno unix.Errno
	if !errors.As(err, &errno) || errno != unix.EBUSY {
		t.Errorf("errno %v", errno)
	}
	if Errno(err) != unix.EBUSY {
		t.Errorf("Errno(%v) = %v", err, Errno(err))
	}
	other := errors.New("other")
	if Errno(other) != other || Errno(nil) != nil {
		t.Error("Errno of a non-mount error is not that error")
	}
}
