// Command antsh is the admin shell: POSIX sh (mvdan.cc/sh) with a line editor made
// for serial consoles; see internal/shell.
package main

import (
	"os"

	"github.com/ants/ants/internal/shell"
)

func main() { os.Exit(shell.Main(os.Args[1:])) }
