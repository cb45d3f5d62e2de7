package antscmd

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ants/ants/internal/rootsys"
)

// rootChild is `ants root-child SOURCE`: PID 1 starts it in new mount, PID, UTS and
// cgroup namespaces on the root console's pty; it mounts the root and becomes the
// root's init. On failure it says why on the root console and in
// /run/ants/root.err (for PID 1's log), and exits with the code that tells a bad
// source from the rest.
func (p Paths) rootChild(args []string, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: ants root-child SOURCE (init starts this; use rootctl)")
		return 2
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(stderr, "ants root-child: must be PID 1 of a new PID namespace; use rootctl start")
		return 2
	}
	src, err := rootsys.Decode(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "ants root-child: bad source: %v\n", err)
		return 2
	}
	say := func(s string) { fmt.Fprintf(stderr, "root: %s\r\n", s) }
	say("mounting " + src.String())
	err = rootsys.Child(src, say, p.probeAll)
	code := rootsys.ExitSetup
	var ce *rootsys.ChildError
	if errors.As(err, &ce) {
		code = ce.Code
	}
	say(err.Error())
	os.WriteFile(rootsys.ErrFile, []byte(err.Error()+"\n"), 0o644)
	return code
}
