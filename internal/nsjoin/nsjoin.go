// Package nsjoin joins the namespaces of another process from Go, the one way that
// is safe in a Go program: on a goroutine locked to its OS thread,
// after unshare(CLONE_FS) (setns of a mount namespace fails with EINVAL for a thread
// that shares its fs_struct), and the thread is never unlocked: it dies with the
// goroutine, so no other goroutine ever runs in the joined namespaces.
package nsjoin

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// The main goroutine keeps the main thread: a goroutine of Do must never run on it,
// because Go cannot end the main thread and would park it, still in the joined
// namespaces, and /proc/self (the main thread's view) would describe them.
func init() { runtime.LockOSThread() }

// Kinds of namespace, as /proc/PID/ns names them, with their clone flags.
var Kinds = map[string]int{
	"mnt":    unix.CLONE_NEWNS,
	"pid":    unix.CLONE_NEWPID,
	"uts":    unix.CLONE_NEWUTS,
	"cgroup": unix.CLONE_NEWCGROUP,
	"ipc":    unix.CLONE_NEWIPC,
	"net":    unix.CLONE_NEWNET,
}

// Open opens /proc/PID/ns/KIND for each kind.
func Open(pid int, kinds ...string) (map[string]*os.File, error) {
	fds := map[string]*os.File{}
	for _, k := range kinds {
		if _, ok := Kinds[k]; !ok {
			Close(fds)
			return nil, fmt.Errorf("unknown namespace kind %q", k)
		}
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, k))
		if err != nil {
			Close(fds)
			return nil, fmt.Errorf("namespace %s of pid %d: %v", k, pid, err)
		}
		fds[k] = f
	}
	return fds, nil
}

// Close closes what Open opened.
func Close(fds map[string]*os.File) {
	for _, f := range fds {
		f.Close()
	}
}

// Do runs f on a new OS thread that has joined the namespaces (the mount namespace
// last-but-one and the PID namespace, which only affects children, last), and
// returns f's error. The thread is thrown away afterwards.
func Do(fds map[string]*os.File, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread is in other namespaces now and must die with
		// this goroutine.
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_FS); err != nil {
				return fmt.Errorf("unshare(CLONE_FS): %v", err)
			}
			for _, k := range []string{"uts", "ipc", "net", "cgroup", "mnt", "pid"} {
				fd, ok := fds[k]
				if !ok {
					continue
				}
				if err := unix.Setns(int(fd.Fd()), Kinds[k]); err != nil {
					return fmt.Errorf("setns %s: %v", k, err)
				}
			}
			if _, ok := fds["mnt"]; ok {
				// The joined namespace's root and working directory are "/".
				if err := unix.Chdir("/"); err != nil {
					return err
				}
			}
			return f()
		}()
	}()
	return <-errc
}
