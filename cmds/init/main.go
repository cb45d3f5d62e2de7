// Command init is ants' PID 1; see internal/pid1.
package main

import "github.com/ants/ants/internal/pid1"

func main() { pid1.Main() }
