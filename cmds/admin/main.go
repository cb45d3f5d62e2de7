// Command admin is PID 1 and the admin shell in one small program, apart from the
// busybox binary: the admin prompt is the first thing a boot needs, and a program
// with only their packages starts in half the time of the busybox (whose package
// initialisation runs for every command; under TCG that is 0.1 s a cold start). The
// image links /init and /bbin/init to it (PID 1), and /bbin/antsh, /bin/sh and
// /bin/defaultsh (the shell). PID 1 re-executes it as ants-helper for its own
// helpers (the watchdog's probe, root-abort). Called by any other name it says
// what it is.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ants/ants/internal/pid1"
	"github.com/ants/ants/internal/shell"
)

func main() {
	switch name := filepath.Base(os.Args[0]); name {
	case "init":
		pid1.Main()
	case "antsh", "sh", "defaultsh", "-antsh", "-sh":
		os.Exit(shell.Main(os.Args[1:]))
	case pid1.HelperName:
		os.Exit(pid1.Helper(os.Args[1:], os.Stdout))
	default:
		fmt.Fprintf(os.Stderr, "%s: this is ants' admin program; run it as init (PID 1) or antsh (the admin shell)\n", name)
		os.Exit(2)
	}
}
