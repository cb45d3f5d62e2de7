// Command halt asks init to stop every process, sync, unmount and halt; -f does it at
// once without init. See internal/power.
package main

import (
	"fmt"
	"os"

	"github.com/ants/ants/internal/power"
)

func main() {
	os.Exit(power.Main("halt", os.Args[1:], func(s string) { fmt.Fprintln(os.Stderr, s) }))
}
