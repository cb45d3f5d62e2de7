package pid1

import (
	"github.com/ants/ants/internal/mount"
	"golang.org/x/sys/unix"
)

// PID 1's mounts are Once: a target that is a mount point already (the kernel's
// devtmpfs.mount=1, an earlier program) is left alone, and so is EBUSY.

// EarlyMounts are the kernel file systems every later step needs.
var EarlyMounts = mount.Table{
	{Source: "proc", Target: "/proc", FSType: "proc", Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, Once: true},
	{Source: "sysfs", Target: "/sys", FSType: "sysfs", Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, Once: true},
	{Source: "devtmpfs", Target: "/dev", FSType: "devtmpfs", Flags: unix.MS_NOSUID, Data: "mode=0755", Once: true},
	{Source: "tmpfs", Target: "/run", FSType: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_NODEV, Data: "mode=0755,size=10%", Once: true},
}

// LateMounts come after the switch into the admin tmpfs.
var LateMounts = mount.Table{
	{Source: "devpts", Target: "/dev/pts", FSType: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "gid=5,mode=0620,ptmxmode=0666", Once: true},
	{Source: "tmpfs", Target: "/dev/shm", FSType: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_NODEV, Data: "mode=1777", Once: true},
}

// cgroupMount is cgroup2 with nsdelegate: a root with its own cgroup namespace
// manages its subtree.
var cgroupMount = mount.Entry{Source: "cgroup2", Target: cgroupRoot, FSType: "cgroup2", Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, Data: "nsdelegate", Once: true}

// MountPoints lists the mount points in /proc/self/mountinfo, in mount order.
func MountPoints() ([]string, error) { return mount.Points("/proc/self/mountinfo") }
