// Command gorelay is a reference of `make bench`'s key echo: the floor's shell
// behind the simplest pty relay in Go, to set beside util-linux's script(1) (a C
// relay) and ants' console mux. It runs /bin/sh -l on a pty and relays its own
// stdin (the console) and stdout to and from the pty's master.
//
//	gorelay copy   two goroutines, io.Copy each way: blocking read(2)s, as the mux
//	gorelay poll   one goroutine, poll(2) on both, through syscall.Syscall
//	gorelay raw    the same poll(2) by RawSyscall: no entersyscall/exitsyscall, so
//	               the runtime never takes the thread's P while it waits
//
// raw is not safe in a program with other goroutines to run (it holds its P while
// it waits); it shows what the runtime's side of a blocking wait costs per key.
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"unsafe"

	"github.com/ants/ants/internal/console"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

func main() {
	mode := "copy"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if mode != "copy" && mode != "poll" && mode != "raw" {
		fmt.Fprintf(os.Stderr, "gorelay: mode %q: want copy, poll or raw\n", mode)
		os.Exit(2)
	}
	master, slave, err := console.OpenPTY() // master.Fd(): blocking, as the mux's
	if err != nil {
		fmt.Fprintln(os.Stderr, "gorelay:", err)
		os.Exit(1)
	}
	if st, err := term.MakeRaw(0); err == nil {
		defer term.Restore(0, st)
	}
	cmd := exec.Command("/bin/sh", "-l")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "gorelay:", err)
		os.Exit(1)
	}
	slave.Close()
	if mode == "copy" {
		go io.Copy(master, os.Stdin)
		go io.Copy(os.Stdout, master)
	} else {
		go relay(int(master.Fd()), mode == "raw")
	}
	cmd.Wait()
}

// relay copies the console (fds 0 and 1) to and from the master m in one loop.
func relay(m int, raw bool) {
	fds := []unix.PollFd{{Fd: 0, Events: unix.POLLIN}, {Fd: int32(m), Events: unix.POLLIN}}
	buf := make([]byte, 4096)
	for {
		if raw {
			unix.RawSyscall(unix.SYS_POLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), ^uintptr(0))
		} else if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			return
		}
		if fds[0].Revents&unix.POLLIN != 0 {
			if n, _ := unix.Read(0, buf); n > 0 {
				unix.Write(m, buf[:n])
			}
		}
		if fds[1].Revents&(unix.POLLIN|unix.POLLHUP) != 0 {
			n, _ := unix.Read(m, buf)
			if n <= 0 {
				return // the shell is gone: main's Wait ends
			}
			unix.Write(1, buf[:n])
		}
	}
}
