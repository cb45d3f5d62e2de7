package nsfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/nsjoin"
	"golang.org/x/sys/unix"
)

// ErrPermission is returned when the caller may not change a process's namespace.
var ErrPermission = errors.New("no permission")

// ProcMounts reads /proc/PID/mountinfo.
//
// For the calling process it reads /proc/thread-self/mountinfo: /proc/PID/ shows
// the main thread, which Go may have left in another namespace (a goroutine that
// joined one and ended on the main thread wedges it there).
func ProcMounts(pid int) ([]Mount, error) {
	name := fmt.Sprintf("/proc/%d/mountinfo", pid)
	if pid == os.Getpid() {
		name = "/proc/thread-self/mountinfo"
	}
	ms, err := mount.ReadInfo(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no such process %d", pid)
	}
	return ms, err
}

// Ops returns the ops that rebuild PID's mount namespace.
func Ops(pid int) ([]Op, error) {
	ms, err := ProcMounts(pid)
	if err != nil {
		return nil, err
	}
	return FromMountinfo(ms), nil
}

// Print returns PID's mount namespace as text (what ns PID prints).
func Print(pid int) (string, error) {
	ops, err := Ops(pid)
	if err != nil {
		return "", err
	}
	return FormatAll(ops), nil
}

// CheckPermission tells whether the caller may change PID's mount namespace: it
// is root, or has PID's real and effective uid, and can open /proc/PID/ns/mnt (the
// kernel's ptrace check for that file).
func CheckPermission(pid int) error {
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		return fmt.Errorf("no such process %d", pid)
	}
	deny := fmt.Errorf("%w to change the namespace of pid %d", ErrPermission, pid)
	if os.Geteuid() != 0 {
		uids, err := procUids(pid)
		if err != nil || uids[0] != os.Getuid() || uids[1] != os.Getuid() || os.Geteuid() != os.Getuid() {
			return deny
		}
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	if err != nil {
		return deny
	}
	f.Close()
	return nil
}

func procUids(pid int) ([2]int, error) {
	var u [2]int
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 3 && f[0] == "Uid:" {
			u[0], _ = strconv.Atoi(f[1])
			u[1], _ = strconv.Atoi(f[2])
			return u, nil
		}
	}
	return u, errors.New("no Uid line")
}

// In runs f on a thread in PID's mount namespace (after CheckPermission), with an
// Applier whose Mountinfo reads PID's mount table through a descriptor opened
// before joining (the namespace's own /proc may show other processes).
func In(pid int, f func(a *Applier) error) error {
	if err := CheckPermission(pid); err != nil {
		return err
	}
	fds, err := nsjoin.Open(pid, "mnt")
	if err != nil {
		return fmt.Errorf("%w to change the namespace of pid %d: %v", ErrPermission, pid, err)
	}
	defer nsjoin.Close(fds)
	dir, err := os.Open(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		return fmt.Errorf("no such process %d", pid)
	}
	defer dir.Close()
	a := &Applier{Mountinfo: func() ([]Mount, error) {
		fd, err := unix.Openat(int(dir.Fd()), "mountinfo", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("mountinfo of pid %d: %w", pid, err)
		}
		f := os.NewFile(uintptr(fd), "mountinfo")
		defer f.Close()
		return mount.ParseInfo(bufio.NewReader(f))
	}}
	return nsjoin.Do(fds, func() error { return f(a) })
}

// Apply parses text (ns syntax, no variables) and applies it in PID's mount
// namespace; log, when not nil, gets each applied line. A syntax error applies
// nothing and is returned as err; so are permission and process errors. Failures
// of operations are in the Result (see Result.Report).
func Apply(pid int, text string, log io.Writer) (Result, error) {
	ops, err := Parse(text, nil, false)
	if err != nil {
		return Result{}, err
	}
	return ApplyOps(pid, ops, log)
}

// ApplyOps is Apply for parsed ops.
func ApplyOps(pid int, ops []Op, log io.Writer) (Result, error) {
	var r Result
	err := In(pid, func(a *Applier) error {
		a.Log = log
		r = a.Run(ops)
		return nil
	})
	return r, err
}
