// Command ants handles boot variables and runs the boot scripts; see internal/antscmd.
package main

import (
	"os"

	"github.com/ants/ants/internal/antscmd"
)

func main() { os.Exit(antscmd.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
