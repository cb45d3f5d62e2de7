package nstools

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/nsfile"
	"golang.org/x/sys/unix"
)

const bindUsage = `usage: bind [-abcr] [-o OPTS] [-p PROP] NEW OLD
  (no flag)  OLD shows NEW (a bind mount)
  -r         recursive: NEW with the mounts below it
  -b, -a     union: OLD shows NEW's files before (-b) or after (-a) its own
  -c         the union is writable (changes go to a tmpfs layer)
  -o OPTS    ro, nosuid, nodev, noexec ...
  -p PROP    propagation: shared, slave, private, unbindable`

// BindMain is the bind command.
func BindMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, err := getopt(args, "abcrh", "op", false)
	if err != nil || f.set['h'] || len(f.args) != 2 {
		return usage(stderr, "bind", bindUsage, err)
	}
	if f.set['a'] && f.set['b'] {
		fmt.Fprintln(stderr, "bind: -a and -b together")
		return 2
	}
	op := nsfile.Op{Cmd: "bind", Recursive: f.set['r'], Before: f.set['b'], After: f.set['a'],
		Create: f.set['c'], Opts: f.val['o'], Prop: f.val['p'], Src: f.args[0], Dst: f.args[1]}
	op.Text = strings.Join(append([]string{"bind"}, args...), " ")
	return runSelf("bind", []nsfile.Op{op}, stderr)
}

const unmountUsage = `usage: unmount [-l] [NEW] OLD
  OLD        unmount what is mounted on OLD (-l: lazily, when it is busy)
  NEW OLD    take NEW out of the union at OLD (or unmount OLD if it is a bind of NEW)`

// UnmountMain is the unmount command.
func UnmountMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, err := getopt(args, "lh", "", false)
	if err != nil || f.set['h'] || len(f.args) < 1 || len(f.args) > 2 {
		return usage(stderr, "unmount", unmountUsage, err)
	}
	op := nsfile.Op{Cmd: "unmount", Lazy: f.set['l'], Dst: f.args[len(f.args)-1]}
	if len(f.args) == 2 {
		op.Src = f.args[0]
	}
	op.Text = strings.Join(append([]string{"unmount"}, args...), " ")
	return runSelf("unmount", []nsfile.Op{op}, stderr)
}

const mountUsage = `usage: mount                                  print the mounts (as /proc/mounts)
       mount [-abcrw] [-t TYPE] [-o OPTS] [-p PROP] SRC OLD [SPEC]
       mount [-o OPTS] OLD|SRC                  as /etc/fstab says (or -o remount,...)
       mount --bind|--rbind|--move SRC OLD
       mount --make-{shared,slave,private,unbindable} OLD   (r... for recursive)
  -t TYPE    file system type (default: tried from /proc/filesystems)
  -o OPTS    options: ro, nosuid, remount, bind, ... and file system data
  -r, -w     read-only, read-write
  -b, -a     union: the mounted tree before (-b) or after (-a) OLD's files
  -c         the union is writable
  -p PROP    propagation of the new mount
  SPEC       9P: the file tree to attach (aname)`

// MountMain is the mount command.
func MountMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, err := getopt(args, "abcrwnvfh", "top", true)
	if err != nil || f.set['h'] {
		return usage(stderr, "mount", mountUsage, err)
	}
	if f.set['a'] && f.set['b'] {
		fmt.Fprintln(stderr, "mount: -a and -b together")
		return 2
	}
	opts := f.val['o']
	addOpt := func(o string) {
		if opts != "" {
			opts += ","
		}
		opts += o
	}
	if f.set['r'] {
		addOpt("ro")
	}
	if f.set['w'] {
		addOpt("rw")
	}
	var prop string
	move := false
	for _, l := range f.long {
		switch {
		case l == "bind" || l == "rbind":
			addOpt(l)
		case l == "move":
			move = true
		case strings.HasPrefix(l, "make-"):
			p := strings.TrimPrefix(l, "make-")
			if _, ok := nsfile.PropFlags[p]; !ok {
				fmt.Fprintf(stderr, "mount: unknown flag --%s\n", l)
				return 2
			}
			prop = p
		case l == "help":
			fmt.Fprintln(stdout, mountUsage)
			return 0
		default:
			fmt.Fprintf(stderr, "mount: unknown flag --%s\n", l)
			return 2
		}
	}
	switch {
	case len(f.args) == 0 && prop == "":
		return printMounts(f.val['t'], stdout, stderr)
	case prop != "" && len(f.args) == 1:
		if err := mount.Propagate(f.args[0], nsfile.PropFlags[prop]); err != nil {
			fmt.Fprintf(stderr, "mount: %v\n", err)
			return 1
		}
		return 0
	case move && len(f.args) == 2:
		if err := mount.Move(f.args[0], f.args[1]); err != nil {
			fmt.Fprintf(stderr, "mount: %v\n", err)
			return 1
		}
		return 0
	case len(f.args) == 1:
		fl, _ := nsfile.ParseOpts(opts)
		if fl&unix.MS_REMOUNT != 0 {
			f.args = []string{"", f.args[0]}
			break
		}
		e, ok := fstab(f.args[0])
		if !ok {
			fmt.Fprintf(stderr, "mount: %s: not in /etc/fstab\n", f.args[0])
			return 1
		}
		if !f.set['t'] && e[2] != "auto" {
			f.val['t'] = e[2]
		}
		if e[3] != "defaults" {
			if opts != "" {
				opts = e[3] + "," + opts
			} else {
				opts = e[3]
			}
		}
		f.args = []string{e[0], e[1]}
	case len(f.args) > 3 || move || prop != "" && len(f.args) != 2:
		fmt.Fprintln(stderr, mountUsage)
		return 2
	}
	op := nsfile.Op{Cmd: "mount", Before: f.set['b'], After: f.set['a'], Create: f.set['c'],
		Type: f.val['t'], Opts: opts, Prop: f.val['p'], Src: f.args[0], Dst: f.args[1]}
	if prop != "" {
		op.Prop = prop
	}
	if len(f.args) == 3 {
		op.Spec = f.args[2]
	}
	op.Text = strings.Join(append([]string{"mount"}, args...), " ")
	return runSelf("mount", []nsfile.Op{op}, stderr)
}

// fstab finds the /etc/fstab entry for a mount point or source.
func fstab(name string) ([4]string, bool) {
	var e [4]string
	file, err := os.Open("/etc/fstab")
	if err != nil {
		return e, false
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if f[0] == name || f[1] == name {
			for i := range e {
				e[i] = mount.Unescape(f[i])
			}
			return e, true
		}
	}
	return e, false
}

// printMounts prints /proc/thread-self/mounts, only type typ when not empty.
func printMounts(typ string, stdout, stderr io.Writer) int {
	b, err := os.ReadFile("/proc/thread-self/mounts")
	if err != nil {
		fmt.Fprintf(stderr, "mount: %v\n", err)
		return 1
	}
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if f := strings.Fields(line); typ == "" || len(f) > 2 && f[2] == typ {
			io.WriteString(stdout, line)
		}
	}
	return 0
}
