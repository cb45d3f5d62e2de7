// Package nstools holds the namespace commands of ANTS: ns, bind, unmount, mount,
// newns and cpns, each as Main(args, stdin, stdout, stderr) int over internal/nsfile.
// docs/ns.md describes them.
package nstools

import (
	"fmt"
	"io"
	"strings"

	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/nsfile"
)

// flags is the result of getopt.
type flags struct {
	set  map[byte]bool
	val  map[byte]string
	long []string // --NAME options (mount only), in order
	args []string
}

// getopt parses Plan 9-style flags: letters may be joined (-abc); those in withVal
// take a value, joined (-tTYPE) or as the next argument. Flags end at "--" or at
// the first argument that is not a flag. allowLong lets --NAME through.
func getopt(args []string, noVal, withVal string, allowLong bool) (*flags, error) {
	f := &flags{set: map[byte]bool{}, val: map[byte]string{}}
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			args = args[1:]
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		args = args[1:]
		if a[1] == '-' {
			if !allowLong {
				return nil, fmt.Errorf("unknown flag %s", a)
			}
			f.long = append(f.long, a[2:])
			continue
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			switch {
			case strings.IndexByte(withVal, c) >= 0:
				v := a[j+1:]
				if v == "" {
					if len(args) == 0 {
						return nil, fmt.Errorf("flag -%c needs a value", c)
					}
					v, args = args[0], args[1:]
				}
				if c == 'o' && f.val['o'] != "" {
					v = f.val['o'] + "," + v // mount -o a -o b
				}
				f.set[c], f.val[c] = true, v
				j = len(a)
			case strings.IndexByte(noVal, c) >= 0:
				f.set[c] = true
			default:
				return nil, fmt.Errorf("unknown flag -%c", c)
			}
		}
	}
	f.args = args
	return f, nil
}

// runSelf applies ops in the calling process's own mount namespace and reports as
// prog does.
func runSelf(prog string, ops []nsfile.Op, stderr io.Writer) int {
	a := &nsfile.Applier{Always: true, Mountinfo: func() ([]nsfile.Mount, error) {
		return mount.ReadInfo(mount.Self)
	}}
	r := a.Run(ops)
	if r.Failed == nil {
		return 0
	}
	if len(ops) == 1 {
		fmt.Fprintf(stderr, "%s: %s: %v\n", prog, r.Failed.Text, nsfile.LineErr(*r.Failed, r.Err))
		return 1
	}
	r.Report(stderr, prog)
	return 1
}
