// Command modprobe loads kernel modules, or the modules of aliases, with their
// dependencies and softdeps, from the image's modules (plain .ko files in its
// squashfs, or .ko.zst in an image built with -payload cpio); it is `ants
// modprobe`. u-root's modprobe (pkg/kmodule) loads .ko.zst too since v0.16,
// but reads neither modules.alias nor modules.softdep: no `modprobe ALIAS` (device
// modaliases, as coldplug loads them) and no softdeps.
package main

import (
	"os"

	"github.com/ants/ants/internal/antscmd"
)

func main() {
	os.Exit(antscmd.Main(append([]string{"modprobe"}, os.Args[1:]...), os.Stdin, os.Stdout, os.Stderr))
}
