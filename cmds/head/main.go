// Command head prints the first lines (or bytes) of files or stdin, and exits 1
// when a file cannot be read. u-root's head takes neither the traditional -N
// (`ns PID | head -5` failed with "flag provided but not defined: -5") nor a
// failure in its exit status.
//
//	head [-n N | -N | -c N] [FILE...]
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

const usage = "usage: head [-n N | -N | -c N] [FILE...]"

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	lines, bytes := 10, -1
	for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' {
		a := args[0]
		args = args[1:]
		if a == "--" {
			break
		}
		var v string
		opt := a[1]
		switch {
		case opt >= '0' && opt <= '9':
			opt, v = 'n', a[1:]
		case opt == 'n' || opt == 'c':
			v = a[2:]
			if v == "" {
				if len(args) == 0 {
					fmt.Fprintf(stderr, "head: -%c needs a number\n%s\n", opt, usage)
					return 2
				}
				v, args = args[0], args[1:]
			}
		default:
			fmt.Fprintf(stderr, "head: unknown option %s\n%s\n", a, usage)
			return 2
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fmt.Fprintf(stderr, "head: %q is not a count\n", v)
			return 2
		}
		if opt == 'n' {
			lines, bytes = n, -1
		} else {
			bytes = n
		}
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	if len(args) == 0 {
		args = []string{"-"}
	}
	status := 0
	shown := 0 // files with a header so far
	for _, name := range args {
		var r io.Reader = stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				var pe *fs.PathError
				if errors.As(err, &pe) {
					err = pe.Err
				}
				out.Flush()
				fmt.Fprintf(stderr, "head: %s: %v\n", name, err)
				status = 1
				continue
			}
			defer f.Close()
			r = f
		}
		if len(args) > 1 {
			if shown > 0 {
				out.WriteString("\n")
			}
			shown++
			fmt.Fprintf(out, "==> %s <==\n", name)
		}
		var err error
		if bytes >= 0 {
			_, err = io.CopyN(out, r, int64(bytes))
			if err == io.EOF {
				err = nil
			}
		} else {
			err = headLines(out, r, lines)
		}
		if err != nil {
			out.Flush()
			fmt.Fprintf(stderr, "head: %s: %v\n", name, err)
			status = 1
		}
	}
	return status
}

// headLines copies the first n lines of r (the last may have no newline).
func headLines(w *bufio.Writer, r io.Reader, n int) error {
	br := bufio.NewReader(r)
	for ; n > 0; n-- {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			w.Write(line)
			n++ // the same line goes on
			continue
		}
		w.Write(line)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}
