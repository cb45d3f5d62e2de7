package sshd

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// openPTY opens a new pty pair (the console mux's way, kept here so that sshd
// needs nothing of PID 1's packages).
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %v", err)
	}
	// Through SyscallConn, not Fd(): Fd() would make the master blocking, and
	// wait's read deadline would then have no effect.
	var n uint32
	control(master, func(fd int) {
		if err = unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
			err = fmt.Errorf("unlock pty: %v", err)
			return
		}
		if n, err = unix.IoctlGetUint32(fd, unix.TIOCGPTN); err != nil {
			err = fmt.Errorf("pty number: %v", err)
		}
	})
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	slave, err = os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("open %s: %v", name, err)
	}
	return master, slave, nil
}

func setWinsize(f *os.File, w winsize) {
	if w.Cols == 0 || w.Rows == 0 {
		w.Cols, w.Rows = 80, 24
	}
	control(f, func(fd int) {
		unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{
			Row: uint16(w.Rows), Col: uint16(w.Cols), Xpixel: uint16(w.Width), Ypixel: uint16(w.Height)})
	})
}

func control(f *os.File, fn func(fd int)) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) { fn(int(fd)) })
}
