package nsfs

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Creds are what the write check needs of a process, from /proc/PID/status.
type Creds struct {
	FSUID, FSGID int
	CapEff       uint64 // effective capabilities, bit N = capability N
}

// Has says whether c's effective set holds capability cap (unix.CAP_*).
func (c Creds) Has(cap int) bool { return c.CapEff&(1<<uint(cap)) != 0 }

// mayWrite says whether the process caller may change pid's mount namespace, as
// setns(2) into it would need: CAP_SYS_ADMIN in its effective set, in pid's user
// namespace or an ancestor of it, and the kernel's ptrace attach check from
// caller to pid. It is asked on every write, so an fd opened by a privileged
// process is no use to one that is not. The error is the writer's (EPERM).
func (b *Backend) mayWrite(caller, pid int) error {
	creds, ancestor, attach := b.Creds, b.UserNSAncestor, b.MayAttach
	if creds == nil {
		creds = func(pid int) (Creds, error) { return ReadCreds(b.proc(), pid) }
	}
	if ancestor == nil {
		ancestor = func(caller, pid int) bool { return UserNSAncestor(b.proc(), caller, pid) }
	}
	if attach == nil {
		attach = func(c Creds, pid int) bool { return KernelMayAttach(b.proc(), c, pid) }
	}
	if caller <= 0 {
		return syscall.EPERM // no pid: a request from the kernel itself, or none
	}
	c, err := creds(caller)
	if err != nil {
		return syscall.EPERM
	}
	if !c.Has(unix.CAP_SYS_ADMIN) || !ancestor(caller, pid) || !attach(c, pid) {
		return syscall.EPERM
	}
	return nil
}

// ReadCreds reads the fs uid and gid and the effective capabilities of pid
// from proc/PID/status.
func ReadCreds(proc string, pid int) (Creds, error) {
	f, err := os.Open(fmt.Sprintf("%s/%d/status", proc, pid))
	if err != nil {
		return Creds{}, err
	}
	defer f.Close()
	var c Creds
	seen := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		switch k {
		case "Uid", "Gid": // real, effective, saved, fs
			if len(fields) != 4 {
				return Creds{}, fmt.Errorf("pid %d: status: %s: %q", pid, k, v)
			}
			n, err := strconv.Atoi(fields[3])
			if err != nil {
				return Creds{}, fmt.Errorf("pid %d: status: %s: %q", pid, k, v)
			}
			if k == "Uid" {
				c.FSUID = n
			} else {
				c.FSGID = n
			}
			seen++
		case "CapEff":
			if len(fields) != 1 {
				return Creds{}, fmt.Errorf("pid %d: status: CapEff: %q", pid, v)
			}
			n, err := strconv.ParseUint(fields[0], 16, 64)
			if err != nil {
				return Creds{}, fmt.Errorf("pid %d: status: CapEff: %q", pid, v)
			}
			c.CapEff = n
			seen++
		}
	}
	if err := sc.Err(); err != nil {
		return Creds{}, err
	}
	if seen != 3 {
		return Creds{}, fmt.Errorf("pid %d: status has no Uid, Gid or CapEff line", pid)
	}
	return c, nil
}

// UserNSAncestor says whether caller's user namespace is pid's or an ancestor
// of it (where caller's capabilities count over pid), walking up from pid's
// with NS_GET_PARENT.
func UserNSAncestor(proc string, caller, pid int) bool {
	var want unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("%s/%d/ns/user", proc, caller), &want); err != nil {
		return false
	}
	fd, err := unix.Open(fmt.Sprintf("%s/%d/ns/user", proc, pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	for {
		var st unix.Stat_t
		err := unix.Fstat(fd, &st)
		if err == nil && st.Dev == want.Dev && st.Ino == want.Ino {
			unix.Close(fd)
			return true
		}
		parent, perr := unix.IoctlRetInt(fd, unix.NS_GET_PARENT)
		unix.Close(fd)
		if err != nil || perr != nil {
			return false // the top (EPERM) or an error
		}
		fd = parent
	}
}

// KernelMayAttach asks the kernel whether a process with creds c may ptrace
// pid: on a thread of its own that takes c's fs uid and gid and effective
// capabilities, it opens proc/PID/mem, which takes the kernel's
// PTRACE_MODE_ATTACH_FSCREDS check (uids and gids, CAP_SYS_PTRACE, the target's
// dumpable flag, Yama) with the thread's credentials. The thread is never
// unlocked: it dies with its goroutine, and no other goroutine runs with the
// borrowed credentials.
func KernelMayAttach(proc string, c Creds, pid int) bool {
	ok := make(chan bool, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked (see above).
		ok <- func() bool {
			// setfsuid/setfsgid and capset change only the calling thread
			// (x/sys/unix calls them directly, not on all threads as
			// syscall.Setuid does).
			if err := unix.Setfsgid(c.FSGID); err != nil {
				return false
			}
			if err := unix.Setfsuid(c.FSUID); err != nil {
				return false
			}
			// setfsuid(2) reports no failure: the previous value a second
			// call returns says whether the first took.
			if prev, _ := unix.SetfsuidRetUid(c.FSUID); prev != c.FSUID {
				return false
			}
			if prev, _ := unix.SetfsgidRetGid(c.FSGID); prev != c.FSGID {
				return false
			}
			hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
			var data [2]unix.CapUserData
			if err := unix.Capget(&hdr, &data[0]); err != nil {
				return false
			}
			for i := range data {
				data[i].Effective = uint32(c.CapEff>>(32*i)) & data[i].Permitted
				data[i].Inheritable = 0
			}
			if err := unix.Capset(&hdr, &data[0]); err != nil {
				return false
			}
			fd, err := unix.Open(fmt.Sprintf("%s/%d/mem", proc, pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return false
			}
			unix.Close(fd)
			return true
		}()
	}()
	return <-ok
}
