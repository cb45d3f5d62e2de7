// Command mkdir makes directories, and exits 1 when one cannot be made: u-root's
// mkdir prints the error and exits 0, so `mkdir /dev/x && echo made` printed both.
//
//	mkdir [-p] [-v] [-m MODE] DIR...
//
// -p makes the missing parents and is content with a directory already there, -v
// prints each directory made, -m sets the mode (octal; default 0777 less the umask).
package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = "usage: mkdir [-p] [-v] [-m MODE] DIR..."

func run(args []string, stdout, stderr io.Writer) int {
	var parents, verbose bool
	mode := os.FileMode(0o777)
	setMode := false
	for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' {
		a := args[0]
		args = args[1:]
		if a == "--" {
			break
		}
		for i := 1; i < len(a); i++ {
			switch a[i] {
			case 'p':
				parents = true
			case 'v':
				verbose = true
			case 'm':
				v := a[i+1:]
				if v == "" {
					if len(args) == 0 {
						fmt.Fprintf(stderr, "mkdir: -m needs a mode\n%s\n", usage)
						return 2
					}
					v, args = args[0], args[1:]
				}
				m, err := strconv.ParseUint(v, 8, 32)
				if err != nil || m > 0o7777 {
					fmt.Fprintf(stderr, "mkdir: invalid mode %q (octal, such as 755)\n", v)
					return 2
				}
				mode, setMode = fileMode(uint32(m)), true
				i = len(a)
			default:
				fmt.Fprintf(stderr, "mkdir: unknown option -%c\n%s\n", a[i], usage)
				return 2
			}
		}
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	status := 0
	for _, dir := range args {
		var err error
		if parents {
			err = os.MkdirAll(dir, mode)
		} else {
			err = os.Mkdir(dir, mode)
		}
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			fmt.Fprintf(stderr, "mkdir: %s: %v\n", dir, err)
			status = 1
			continue
		}
		if setMode {
			os.Chmod(dir, mode) // exactly MODE, whatever the umask
		}
		if verbose {
			fmt.Fprintln(stdout, dir)
		}
	}
	return status
}

// fileMode turns a chmod-style mode into Go's, with the setuid, setgid and sticky bits.
func fileMode(m uint32) os.FileMode {
	mode := os.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= os.ModeSticky
	}
	return mode
}
