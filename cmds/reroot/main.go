// Command reroot runs a shell or a command inside the running root system's
// namespaces, on this terminal; see internal/reroot.
package main

import (
	"os"

	"github.com/ants/ants/internal/reroot"
)

func main() { os.Exit(reroot.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
