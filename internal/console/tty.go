package console

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// The kernel's consoles, as devices the mux reads keys from and writes to.

// KernelConsoles names every console the kernel writes to (console= on the
// command line: serial and VGA), from /sys/class/tty/console/active.
func KernelConsoles() []string {
	b, _ := os.ReadFile("/sys/class/tty/console/active")
	return strings.Fields(string(b))
}

// KernelConsole names the tty of the kernel's console: the last of
// /sys/class/tty/console/active, which is the one /dev/console writes to;
// "console" when none is named.
func KernelConsole() string {
	f := KernelConsoles()
	if len(f) == 0 {
		return "console"
	}
	return f[len(f)-1]
}

// OpenDevice opens /dev/NAME (never as a controlling terminal) and sets it raw:
// no echo, no line editing, no signals, no output translation (x/term's MakeRaw,
// cfmakeraw(3)); the ptys behind the mux do all that, and their output ends lines
// with \r\n already; PID 1's own log writes \r\n itself. So the escape key reaches
// the mux whatever a client does. A VT's keyboard gets its translated mode back
// (vtKeyboard). An error of the raw mode comes with the open file.
func OpenDevice(name string) (*os.File, error) {
	f, err := os.OpenFile("/dev/"+name, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	if _, err := term.MakeRaw(int(f.Fd())); err != nil {
		return f, err
	}
	vtKeyboard(int(f.Fd()))
	return f, nil
}

// vtKeyboard gives a virtual terminal's keyboard back its translated mode when
// it is raw or off (an X server or a program that died with it so leaves it):
// then keys arrive as scancodes or not at all, and the escape key would not work
// from the keyboard. A serial line is no VT (KDGKBMODE fails) and is left alone.
func vtKeyboard(fd int) {
	// linux/kd.h; x/sys/unix has none of them.
	const (
		kdGKBMode = 0x4b44
		kdSKBMode = 0x4b45
		kXlate    = 1
		kUnicode  = 3
	)
	mode, err := unix.IoctlGetInt(fd, kdGKBMode)
	if err != nil || mode == kXlate || mode == kUnicode {
		return
	}
	unix.IoctlSetInt(fd, kdSKBMode, kUnicode)
}
