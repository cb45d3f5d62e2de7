// Command nsfs serves every process's mount namespace as a file to read and write
// (MOUNTPOINT/PID/ns, default /n/ns); see internal/nsfs.
package main

import (
	"os"

	"github.com/ants/ants/internal/nsfs"
)

func main() { os.Exit(nsfs.Main(os.Args[1:], os.Stdout, os.Stderr)) }
