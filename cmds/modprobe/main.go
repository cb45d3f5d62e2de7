// Command modprobe loads kernel modules with their dependencies and softdeps, from
// the image's modules (zstd-compressed .ko.zst, which u-root's modprobe cannot
// load); it is `ants modprobe`.
package main

import (
	"os"

	"github.com/ants/ants/internal/antscmd"
)

func main() {
	os.Exit(antscmd.Main(append([]string{"modprobe"}, os.Args[1:]...), os.Stdin, os.Stdout, os.Stderr))
}
