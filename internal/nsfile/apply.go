package nsfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ants/ants/internal/mount"
	"golang.org/x/sys/unix"
)

// UnionSource is the source name of the overlay mounts and tmpfs mounts that union
// binds make.
const UnionSource = "ants-union"

// Applier applies ops in the mount namespace of the thread (or process) that calls
// it; see Apply for another process's namespace.
type Applier struct {
	// Mountinfo returns the mount table of the namespace the ops act on. Nil: read
	// /proc/thread-self/mountinfo.
	Mountinfo func() ([]Mount, error)
	// UnionDir is where union binds keep their layers (a tmpfs mounted on
	// UnionDir/N each). Empty: /run/ants/union when /run/ants exists, else a new
	// temporary directory.
	UnionDir string
	// Log, when not nil, gets each line that is applied.
	Log io.Writer
	// Always applies bind and mount lines even when their mount exists (the
	// commands bind and mount stack mounts as asked); else they are skipped.
	Always bool
}

// Result says what Run did.
type Result struct {
	Applied    []Op  // lines applied, in order
	Skipped    []Op  // lines whose mount already existed identically
	Failed     *Op   // the line that failed, if one did
	Err        error // its error
	NotApplied []Op  // the lines after the failed one
}

// Report writes the failure (if any) the way the commands print it, each line
// beginning with prog+": ", and returns whether there was one.
func (r Result) Report(w io.Writer, prog string) bool {
	if r.Failed == nil {
		return false
	}
	fmt.Fprintf(w, "%s: line %d: %s: %v\n", prog, r.Failed.Line, r.Failed.Text, LineErr(*r.Failed, r.Err))
	if n := len(r.NotApplied); n > 0 {
		a, b := r.NotApplied[0].Line, r.NotApplied[n-1].Line
		if a == b {
			fmt.Fprintf(w, "%s: line %d not applied\n", prog, a)
		} else {
			fmt.Fprintf(w, "%s: lines %d-%d not applied\n", prog, a, b)
		}
	}
	if len(r.Applied) > 0 {
		fmt.Fprintf(w, "%s: applied before the failure (still in effect):\n", prog)
		for _, op := range r.Applied {
			fmt.Fprintf(w, "\tline %d: %s\n", op.Line, op.Text)
		}
	}
	return true
}

// LineErr is err as it reads after the text of op's line: a mount error of the
// line's own call (its command on its source and target) is said by the line
// already, so only the errno is left; any other (a remount, the mounts of a union)
// stays whole.
func LineErr(op Op, err error) error {
	var me *mount.Error
	if errors.As(err, &me) && me.Op == op.Cmd && me.Target == op.Dst && me.Source == op.Src {
		return mount.Errno(err)
	}
	return err
}

// Run applies the ops in order and stops at the first failure.
func (a *Applier) Run(ops []Op) Result {
	var r Result
	for i, op := range ops {
		if op.Cmd == "" {
			continue
		}
		if op.Text == "" {
			op.Text = Format(op)
		}
		skipped, err := a.Do(op)
		if err != nil {
			op := op
			r.Failed, r.Err = &op, err
			for _, o := range ops[i+1:] {
				if o.Cmd != "" {
					if o.Text == "" {
						o.Text = Format(o)
					}
					r.NotApplied = append(r.NotApplied, o)
				}
			}
			return r
		}
		if skipped {
			r.Skipped = append(r.Skipped, op)
			continue
		}
		r.Applied = append(r.Applied, op)
		if a.Log != nil {
			fmt.Fprintln(a.Log, Format(op))
		}
	}
	return r
}

func (a *Applier) mounts() ([]Mount, error) {
	if a.Mountinfo != nil {
		return a.Mountinfo()
	}
	return mount.ReadInfo(mount.Self)
}

// resolve makes p absolute and follows its symbolic links, as far as it exists.
func resolve(p string) string {
	p, _ = filepath.Abs(p)
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return filepath.Clean(p)
}

// containing returns the topmost mount through which path p (resolved) is seen.
func containing(ms []Mount, p string) (Mount, bool) {
	best := -1
	for i, m := range ms {
		if under(p, m.Point) && (best < 0 || len(m.Point) >= len(ms[best].Point)) {
			best = i
		}
	}
	if best < 0 {
		return Mount{}, false
	}
	return ms[best], true
}

// topAt returns the topmost mount at point p.
func topAt(ms []Mount, p string) (Mount, bool) {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Point == p {
			return ms[i], true
		}
	}
	return Mount{}, false
}

// Exists reports whether op's mount is already there, identically, in ms: for a
// mount line, a mount at the target of that type and source with (at least) those
// options; for a bind line, a mount at the target of the same device and root as
// the source, equally read-only. Unions, unmount and cd never exist.
func Exists(op Op, ms []Mount) bool {
	if op.Before || op.After {
		return false
	}
	dst := resolve(op.Dst)
	ro := hasOpt(SplitOpts(op.Opts), "ro")
	switch op.Cmd {
	case "mount":
		flags, _ := ParseOpts(op.Opts)
		if flags&(unix.MS_BIND|unix.MS_REMOUNT|unix.MS_MOVE) != 0 || op.Spec != "" {
			return false
		}
		want := SplitOpts(op.Opts)
	next:
		for _, m := range ms {
			if m.Point != dst || (op.Type != "" && m.FSType != op.Type) || m.Source != op.Src || m.ReadOnly() != ro {
				continue
			}
			for _, o := range want {
				if o != "rw" && o != "defaults" && !hasOpt(m.Opts, o) && !hasOpt(m.Super, o) {
					continue next
				}
			}
			return true
		}
	case "bind":
		// The source may be hidden by a mount made later (a union over it), so
		// each mount through which its path leads is a candidate.
		src := resolve(op.Src)
		for _, c := range ms {
			if !under(src, c.Point) || !strings.HasPrefix(c.Root, "/") {
				continue
			}
			root := filepath.Join(c.Root, rel(src, c.Point))
			for _, m := range ms {
				if m.Point == dst && m.Dev == c.Dev && m.Root == root && m.ReadOnly() == ro {
					return true
				}
			}
		}
	}
	return false
}

// Do applies one op; skipped is true when its mount already existed.
func (a *Applier) Do(op Op) (skipped bool, err error) {
	switch op.Cmd {
	case "", "#":
		return true, nil
	case "cd":
		return false, unix.Chdir(op.Src)
	case "unmount":
		if op.Src != "" {
			return false, a.Ununion(op.Src, op.Dst)
		}
		fl := 0
		if op.Lazy {
			fl = unix.MNT_DETACH
		}
		return false, mount.Unmount(op.Dst, fl)
	case "bind", "mount":
	default:
		return false, fmt.Errorf("unknown operation %q", op.Cmd)
	}
	ms, err := a.mounts()
	if err != nil {
		return false, err
	}
	if !a.Always && Exists(op, ms) {
		return true, nil
	}
	makeUnionDirs(op, ms)
	if op.Cmd == "bind" {
		return false, a.bind(op)
	}
	return false, a.mount(op)
}

func (a *Applier) bind(op Op) error {
	if op.Before || op.After {
		return a.Union(op.Src, op.Dst, op.Before, op.Create)
	}
	fl := uintptr(unix.MS_BIND)
	if op.Recursive {
		fl |= unix.MS_REC
	}
	if err := mount.Bind(op.Src, op.Dst, fl); err != nil {
		return err
	}
	if extra, _ := ParseOpts(op.Opts); extra&^(unix.MS_BIND|unix.MS_REC) != 0 {
		if err := mount.Remount(op.Dst, unix.MS_BIND|extra&^unix.MS_REC, ""); err != nil {
			return err
		}
	}
	return setProp(op.Dst, op.Prop)
}

func setProp(dst, prop string) error {
	if prop == "" {
		return nil
	}
	for _, p := range strings.Split(prop, ",") {
		f, ok := PropFlags[p]
		if !ok {
			return fmt.Errorf("bad propagation %q", p)
		}
		if err := mount.Propagate(dst, f); err != nil {
			return err
		}
	}
	return nil
}

// MountData returns the flags and data for op's mount(2).
func MountData(op Op) (uintptr, string) {
	fl, data := ParseOpts(op.Opts)
	if op.Spec != "" {
		if data != "" {
			data += ","
		}
		data += "aname=" + op.Spec
	}
	return fl, data
}

func (a *Applier) mount(op Op) error {
	fl, data := MountData(op)
	if op.Before || op.After {
		n, dir, err := a.newUnionDir()
		if err != nil {
			return err
		}
		tree := filepath.Join(dir, "tree")
		if err := os.Mkdir(tree, 0o755); err != nil {
			return err
		}
		o := op
		o.Before, o.After, o.Dst, o.Prop = false, false, tree, ""
		if err := a.mount(o); err != nil {
			a.dropUnionDir(n, dir)
			return err
		}
		return a.Union(tree, op.Dst, op.Before, op.Create)
	}
	typ := op.Type
	if typ == "" && fl&unix.MS_BIND == 0 && fl&unix.MS_REMOUNT == 0 {
		return mountAnyType(op.Src, op.Dst, fl, data, op.Prop)
	}
	if typ == "overlay" && fl&(unix.MS_BIND|unix.MS_REMOUNT) == 0 {
		// overlay's options are paths, which may hold commas: the new mount API
		// takes them one by one.
		if err := fsMount(typ, op.Src, op.Dst, op.Opts); err != nil {
			return err
		}
		return setProp(op.Dst, op.Prop)
	}
	if err := mount.Mount(op.Src, op.Dst, typ, fl, data); err != nil {
		return err
	}
	if fl&unix.MS_BIND != 0 && fl&unix.MS_REMOUNT == 0 && fl&^(unix.MS_BIND|unix.MS_REC) != 0 {
		if err := mount.Remount(op.Dst, unix.MS_BIND|fl&^unix.MS_REC, ""); err != nil {
			return err
		}
	}
	return setProp(op.Dst, op.Prop)
}

// makeUnionDirs creates the directories that op needs inside a union's tmpfs (a
// replayed union finds a new, empty one): its target, and an overlay's upper and
// work directories.
func makeUnionDirs(op Op, ms []Mount) {
	dirs := []string{op.Dst}
	if op.Type == "overlay" {
		for _, o := range SplitOpts(op.Opts) {
			if k, v, _ := strings.Cut(o, "="); k == "upperdir" || k == "workdir" {
				dirs = append(dirs, v)
			}
		}
	}
	for _, d := range dirs {
		d = resolve(d)
		if _, err := os.Lstat(d); err == nil {
			continue
		}
		if c, ok := containing(ms, d); ok && c.Source == UnionSource && c.FSType == "tmpfs" {
			os.MkdirAll(d, 0o755)
		}
	}
}

// attrs maps mount flags to the new mount API's mount attributes.
var attrs = []struct {
	ms   uintptr
	attr int
}{
	{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
	{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
	{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
	{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
	{unix.MS_NOATIME, unix.MOUNT_ATTR_NOATIME},
	{unix.MS_STRICTATIME, unix.MOUNT_ATTR_STRICTATIME},
	{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
}

// fsMount mounts with fsopen/fsconfig/fsmount/move_mount, each data option set on
// its own (key=value as a string, key alone as a flag).
func fsMount(typ, src, dst, opts string) error {
	fl, rest := SplitFlags(opts)
	fd, err := unix.Fsopen(typ, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen %s: %w", typ, err)
	}
	defer unix.Close(fd)
	if src != "" {
		if err := unix.FsconfigSetString(fd, "source", src); err != nil {
			return fmt.Errorf("source: %w", err)
		}
	}
	for _, o := range rest {
		k, v, ok := strings.Cut(o, "=")
		if ok {
			err = unix.FsconfigSetString(fd, k, v)
		} else {
			err = unix.FsconfigSetFlag(fd, k)
		}
		if err != nil {
			return fmt.Errorf("option %s: %w", o, err)
		}
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		return fmt.Errorf("create %s: %w", typ, err)
	}
	attr := 0
	for _, a := range attrs {
		if fl&a.ms != 0 {
			attr |= a.attr
		}
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, attr)
	if err != nil {
		return fmt.Errorf("fsmount: %w", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, dst, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount %s on %s: %w", typ, dst, err)
	}
	return nil
}

// mountAnyType tries each block-device file system the kernel knows, as mount(8)
// does without -t.
func mountAnyType(src, dst string, fl uintptr, data, prop string) error {
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return fmt.Errorf("no type given, and %v", err)
	}
	var last error = errors.New("no type given (-t) and none of /proc/filesystems fits")
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 1 {
			continue
		}
		err := mount.Mount(src, dst, f[0], fl, data)
		if err == nil {
			return setProp(dst, prop)
		}
		if !errors.Is(err, unix.EINVAL) {
			last = err
		}
	}
	return last
}

func (a *Applier) unionBase() (string, error) {
	if a.UnionDir == "" {
		if st, err := os.Stat("/run/ants"); err == nil && st.IsDir() {
			a.UnionDir = "/run/ants/union"
		} else {
			a.UnionDir = filepath.Join(os.TempDir(), "ants-union")
		}
	}
	return a.UnionDir, os.MkdirAll(a.UnionDir, 0o700)
}

// newUnionDir makes UnionDir/N, N the first free number, with a private tmpfs on it.
func (a *Applier) newUnionDir() (int, string, error) {
	base, err := a.unionBase()
	if err != nil {
		return 0, "", err
	}
	for n := 1; ; n++ {
		dir := filepath.Join(base, strconv.Itoa(n))
		err := os.Mkdir(dir, 0o700)
		if os.IsExist(err) {
			continue
		}
		if err != nil {
			return 0, "", err
		}
		if err := mount.Mount(UnionSource, dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=700"); err != nil {
			os.Remove(dir)
			return 0, "", err
		}
		// Private, so that nothing mounted under it propagates anywhere (and the
		// overlay at OLD does not appear again beneath its own lower layer).
		if err := mount.Propagate(dir, unix.MS_PRIVATE); err != nil {
			a.dropUnionDir(n, dir)
			return 0, "", err
		}
		return n, dir, nil
	}
}

func (a *Applier) dropUnionDir(n int, dir string) {
	mount.Unmount(dir, unix.MNT_DETACH)
	os.Remove(dir)
}

// Layers returns the lower layers (topmost first) and the upper and work
// directories of an overlay mount.
func Layers(m Mount) (lowers []string, upper, work string) {
	for _, o := range m.Super {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "lowerdir":
			lowers = append(lowers, splitLower(v)...)
		case "lowerdir+":
			lowers = append(lowers, v)
		case "upperdir":
			upper = v
		case "workdir":
			work = v
		}
	}
	return lowers, upper, work
}

// splitLower splits an overlay lowerdir list on unescaped colons.
func splitLower(v string) []string {
	var out []string
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && i+1 < len(v):
			i++
			b.WriteByte(v[i])
		case c == ':':
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(out, b.String())
}

func escapeLower(p string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`, `,`, `\,`).Replace(p)
}

// MountOverlay mounts an overlay of lowers (topmost first), with upper and work
// when upper is not empty, at dst, with the new mount API's lowerdir+ (no quoting
// of the paths), or mount(2) on kernels without it.
func MountOverlay(dst string, lowers []string, upper, work string) error {
	err := func() error {
		fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.FsconfigSetString(fd, "source", UnionSource); err != nil {
			return err
		}
		for _, l := range lowers {
			if err := unix.FsconfigSetString(fd, "lowerdir+", l); err != nil {
				return fmt.Errorf("lowerdir %s: %w", l, err)
			}
		}
		if upper != "" {
			if err := unix.FsconfigSetString(fd, "upperdir", upper); err != nil {
				return fmt.Errorf("upperdir %s: %w", upper, err)
			}
			if err := unix.FsconfigSetString(fd, "workdir", work); err != nil {
				return fmt.Errorf("workdir %s: %w", work, err)
			}
		}
		if err := unix.FsconfigCreate(fd); err != nil {
			return fmt.Errorf("overlay: %w", err)
		}
		mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("fsmount overlay: %w", err)
		}
		defer unix.Close(mfd)
		if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, dst, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("move_mount overlay on %s: %w", dst, err)
		}
		return nil
	}()
	if err == nil || !errors.Is(err, unix.ENOSYS) && !(errors.Is(err, unix.EINVAL) && strings.HasPrefix(err.Error(), "lowerdir")) {
		return err
	}
	var esc []string
	for _, l := range lowers {
		esc = append(esc, escapeLower(l))
	}
	data := "lowerdir=" + strings.Join(esc, ":")
	if upper != "" {
		data += ",upperdir=" + escapeLower(upper) + ",workdir=" + escapeLower(work)
	}
	return mount.Mount(UnionSource, dst, "overlay", 0, data)
}

// Union makes the directory old the union of newp and its present contents, newp
// first when before: an overlay mount at old whose lower layers are newp and a
// private bind of old in UnionDir/N/old (so that the overlay does not see itself).
// With create the union is writable: changes go to UnionDir/N/upper (in the tmpfs).
// When old already is such a union, its overlay is replaced by one with newp added.
func (a *Applier) Union(newp, old string, before, create bool) error {
	newp, old = resolve(newp), resolve(old)
	for _, p := range []string{newp, old} {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			return fmt.Errorf("%s: %w", p, unix.ENOTDIR)
		}
	}
	ms, err := a.mounts()
	if err != nil {
		return err
	}
	if top, ok := topAt(ms, old); ok && top.FSType == "overlay" && top.Source == UnionSource {
		lowers, upper, work := Layers(top)
		if before {
			lowers = append([]string{newp}, lowers...)
		} else {
			lowers = append(lowers, newp)
		}
		if create && upper == "" {
			_, dir, err := a.newUnionDir()
			if err != nil {
				return err
			}
			if upper, work, err = upperWork(dir); err != nil {
				return err
			}
		}
		return replaceOverlay(old, lowers, upper, work)
	}
	n, dir, err := a.newUnionDir()
	if err != nil {
		return err
	}
	hidden := filepath.Join(dir, "old")
	err = func() error {
		if err := os.Mkdir(hidden, 0o755); err != nil {
			return err
		}
		if err := mount.Bind(old, hidden, 0); err != nil {
			return err
		}
		if err := mount.Propagate(hidden, unix.MS_PRIVATE); err != nil {
			return err
		}
		lowers := []string{hidden, newp}
		if before {
			lowers = []string{newp, hidden}
		}
		var upper, work string
		if create {
			if upper, work, err = upperWork(dir); err != nil {
				return err
			}
		}
		return MountOverlay(old, lowers, upper, work)
	}()
	if err != nil {
		mount.Unmount(hidden, unix.MNT_DETACH)
		a.dropUnionDir(n, dir)
	}
	return err
}

func upperWork(dir string) (string, string, error) {
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	if err := os.Mkdir(upper, 0o755); err != nil {
		return "", "", err
	}
	return upper, work, os.Mkdir(work, 0o700)
}

// replaceOverlay puts a new overlay in place of the topmost mount at old.
func replaceOverlay(old string, lowers []string, upper, work string) error {
	if err := mount.Unmount(old, unix.MNT_DETACH); err != nil {
		return err
	}
	if upper != "" {
		// The old overlay's work dir may still be in use by it until it is gone;
		// a fresh one next to it avoids EBUSY.
		w := work + ".1"
		for i := 2; ; i++ {
			if err := os.Mkdir(w, 0o700); err == nil {
				break
			} else if !os.IsExist(err) {
				return err
			}
			w = work + "." + strconv.Itoa(i)
		}
		work = w
	}
	return MountOverlay(old, lowers, upper, work)
}

// Ununion removes newp from the union at old (Plan 9's unmount NEW OLD): the
// overlay is replaced by one without that layer, or unmounted when only old's own
// contents would remain. When old is no union but a bind of newp, that is unmounted.
func (a *Applier) Ununion(newp, old string) error {
	newp, old = resolve(newp), resolve(old)
	ms, err := a.mounts()
	if err != nil {
		return err
	}
	top, ok := topAt(ms, old)
	if !ok {
		return fmt.Errorf("%s: not mounted: %w", old, unix.EINVAL)
	}
	if top.FSType != "overlay" {
		c, ok := containing(ms, newp)
		if ok && c.Dev == top.Dev && filepath.Join(c.Root, rel(newp, c.Point)) == top.Root {
			return mount.Unmount(old, 0)
		}
		return fmt.Errorf("%s is not bound at %s: %w", newp, old, unix.EINVAL)
	}
	lowers, upper, work := Layers(top)
	var rest []string
	found := false
	for _, l := range lowers {
		if !found && resolve(l) == newp {
			found = true
			continue
		}
		rest = append(rest, l)
	}
	if !found {
		return fmt.Errorf("%s is not in the union at %s: %w", newp, old, unix.EINVAL)
	}
	if len(rest) == 1 && upper == "" {
		if h := rest[0]; filepath.Base(h) == "old" {
			if c, ok := topAt(ms, filepath.Dir(h)); ok && c.Source == UnionSource && c.FSType == "tmpfs" {
				// Only old's own contents are left: drop the union.
				if err := mount.Unmount(old, unix.MNT_DETACH); err != nil {
					return err
				}
				mount.Unmount(h, unix.MNT_DETACH)
				mount.Unmount(filepath.Dir(h), unix.MNT_DETACH)
				os.Remove(filepath.Dir(h))
				return nil
			}
		}
	}
	if len(rest) == 0 {
		return mount.Unmount(old, unix.MNT_DETACH)
	}
	if len(rest) == 1 && upper == "" {
		// overlayfs wants two layers without an upper one; a bind does the same.
		if err := mount.Unmount(old, unix.MNT_DETACH); err != nil {
			return err
		}
		return mount.Bind(rest[0], old, 0)
	}
	return replaceOverlay(old, rest, upper, work)
}
