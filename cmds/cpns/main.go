// Command cpns is ANTS' cpns; see internal/nstools and docs/ns.md.
package main

import (
	"os"

	"github.com/ants/ants/internal/nstools"
)

func main() { os.Exit(nstools.CpnsMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
