package nstools

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/ants/ants/internal/nsfile"
)

const nsUsage = `usage: ns [PID]                 print PID's (default: own) mount namespace
       ns -w [-v] PID [LINE ...]  apply LINEs (default: stdin) in PID's mount namespace
  -v  print each line as it is applied
syntax: see docs/ns.md (bind [-abcr] [-o OPTS] [-p PROP] NEW OLD;
  mount [-abc] [-t TYPE] [-o OPTS] [-p PROP] SRC OLD [SPEC]; unmount [-l] [NEW] OLD; cd DIR)`

// usage reports err (when there is one) and the command's usage text on stderr, and
// returns the exit status of a usage error.
func usage(stderr io.Writer, name, text string, err error) int {
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
	}
	fmt.Fprintln(stderr, text)
	return 2
}

// NsMain is the ns command.
func NsMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, err := getopt(args, "wvh", "", false)
	if err != nil || f.set['h'] {
		return usage(stderr, "ns", nsUsage, err)
	}
	pid := os.Getpid()
	if len(f.args) > 0 {
		if pid, err = strconv.Atoi(f.args[0]); err != nil || pid <= 0 {
			fmt.Fprintf(stderr, "ns: bad pid %q\n", f.args[0])
			return 2
		}
	} else if f.set['w'] {
		fmt.Fprintln(stderr, nsUsage)
		return 2
	}
	if !f.set['w'] {
		if len(f.args) > 1 {
			fmt.Fprintln(stderr, nsUsage)
			return 2
		}
		text, err := nsfile.Print(pid)
		if err != nil {
			fmt.Fprintf(stderr, "ns: %v\n", err)
			return 1
		}
		io.WriteString(stdout, text)
		return 0
	}
	var text string
	if len(f.args) > 1 {
		text = strings.Join(f.args[1:], "\n")
	} else {
		b, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintf(stderr, "ns: %v\n", err)
			return 1
		}
		text = string(b)
	}
	ops, err := nsfile.Parse(text, nil, false)
	if err != nil {
		fmt.Fprintf(stderr, "ns: %v\n", err)
		fmt.Fprintln(stderr, "ns: nothing applied")
		return 1
	}
	var log io.Writer
	if f.set['v'] {
		log = stdout
	}
	r, err := nsfile.ApplyOps(pid, ops, log)
	if err != nil {
		if errors.Is(err, nsfile.ErrPermission) {
			fmt.Fprintf(stderr, "ns: no permission to change the namespace of pid %d\n", pid)
		} else {
			fmt.Fprintf(stderr, "ns: %v\n", err)
		}
		return 1
	}
	if r.Report(stderr, "ns") {
		return 1
	}
	return 0
}
