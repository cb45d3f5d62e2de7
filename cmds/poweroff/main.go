// Command poweroff asks init to stop every process, sync, unmount and poweroff; -f does it at
// once without init. See internal/power.
package main

import (
	"fmt"
	"os"

	"github.com/ants/ants/internal/power"
)

func main() {
	os.Exit(power.Main("poweroff", os.Args[1:], func(s string) { fmt.Fprintln(os.Stderr, s) }))
}
