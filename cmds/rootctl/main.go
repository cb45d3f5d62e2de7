// Command rootctl reports on, starts, stops and restarts the root system; see
// internal/rootctl.
package main

import (
	"os"

	"github.com/ants/ants/internal/rootctl"
)

func main() { os.Exit(rootctl.Main(os.Args[1:], os.Stdout, os.Stderr)) }
