package guard

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Cap is one capability, with its name.
type Cap struct {
	N    uintptr
	Name string
}

// DroppedCaps leave the bounding set of a contained root: what systemd-nspawn keeps
// out of a container by default (CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME,
// CAP_SYSLOG, CAP_WAKE_ALARM, the MAC and accounting ones, BPF, perf), and
// CAP_DAC_READ_SEARCH, as Docker does: with it, open_by_handle_at(2) opens a file by
// its handle anywhere on a file system the root can mount, the cgroup file system
// above its cgroup namespace among them. CAP_NET_ADMIN stays: the root shares the
// machine's network and a distribution configures it (docs/security.md).
var DroppedCaps = []Cap{
	{unix.CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH"},
	{unix.CAP_IPC_LOCK, "CAP_IPC_LOCK"},
	{unix.CAP_SYS_MODULE, "CAP_SYS_MODULE"},
	{unix.CAP_SYS_RAWIO, "CAP_SYS_RAWIO"},
	{unix.CAP_SYS_PACCT, "CAP_SYS_PACCT"},
	{unix.CAP_SYS_TIME, "CAP_SYS_TIME"},
	{unix.CAP_MAC_OVERRIDE, "CAP_MAC_OVERRIDE"},
	{unix.CAP_MAC_ADMIN, "CAP_MAC_ADMIN"},
	{unix.CAP_SYSLOG, "CAP_SYSLOG"},
	{unix.CAP_WAKE_ALARM, "CAP_WAKE_ALARM"},
	{unix.CAP_BLOCK_SUSPEND, "CAP_BLOCK_SUSPEND"},
	{unix.CAP_AUDIT_READ, "CAP_AUDIT_READ"},
	{unix.CAP_PERFMON, "CAP_PERFMON"},
	{unix.CAP_BPF, "CAP_BPF"},
	{unix.CAP_CHECKPOINT_RESTORE, "CAP_CHECKPOINT_RESTORE"},
}

// CapNames lists caps by name, for the log.
func CapNames(caps []Cap) string {
	var n []string
	for _, c := range caps {
		n = append(n, strings.TrimPrefix(c.Name, "CAP_"))
	}
	return strings.Join(n, " ")
}

// DropBounding takes caps out of this process's bounding set (and clears the
// ambient set), so that nothing it execs can have them again: the root's init runs
// as uid 0, whose permitted set after exec is the bounding set. A capability the
// running kernel does not know (EINVAL) is skipped.
func DropBounding(caps []Cap) error {
	for _, c := range caps {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, c.N, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("dropping %s from the bounding set: %w", c.Name, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("clearing the ambient capabilities: %w", err)
	}
	return nil
}

// InBounding says whether capability c is in this process's bounding set.
func InBounding(c uintptr) bool {
	// PR_CAPBSET_READ answers as the call's value, which unix.Prctl drops.
	r, _, e := unix.Syscall6(unix.SYS_PRCTL, unix.PR_CAPBSET_READ, c, 0, 0, 0, 0)
	return e == 0 && r == 1
}
