// Command hub lists, starts, joins and ends hubs: programs on ptys PID 1 keeps,
// shared by the console and every client attached (ANTS' hubfs); see
// internal/hub.
package main

import (
	"os"

	"github.com/ants/ants/internal/hub"
)

func main() { os.Exit(hub.Main(os.Args[1:], os.Stdout, os.Stderr)) }
