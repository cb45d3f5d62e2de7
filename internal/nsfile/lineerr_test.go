package nsfile

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ants/ants/internal/mount"
	"golang.org/x/sys/unix"
)

// TestLineErr: a report says the errno of the line's own mount call (the line
// names it), and the whole error of any other call.
func TestLineErr(t *testing.T) {
	bind := Op{Cmd: "bind", Src: "/a", Dst: "/b"}
	own := &mount.Error{Op: "bind", Source: "/a", Target: "/b", Flags: unix.MS_BIND, Err: unix.ENOENT}
	remount := &mount.Error{Op: "remount", Target: "/b", Flags: unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY, Err: unix.EPERM}
	hidden := &mount.Error{Op: "bind", Source: "/b", Target: "/run/ants/union/1/old", Flags: unix.MS_BIND, Err: unix.EINVAL}
	unmount := &mount.Error{Op: "unmount", Target: "/b", Err: unix.EINVAL}
	other := errors.New("not a mount error")
	for _, tc := range []struct {
		op   Op
		err  error
		want error
	}{
		{bind, own, unix.ENOENT},
		{bind, fmt.Errorf("wrapped: %w", own), unix.ENOENT},
		{bind, remount, remount},
		{bind, hidden, hidden},
		{Op{Cmd: "unmount", Dst: "/b"}, unmount, unix.EINVAL},
		{Op{Cmd: "mount", Src: "/a", Dst: "/b"}, own, own},
		{bind, other, other},
	} {
		if got := LineErr(tc.op, tc.err); got != tc.want {
			t.Errorf("LineErr(%+v, %v) = %v, want %v", tc.op, tc.err, got, tc.want)
		}
	}
}
