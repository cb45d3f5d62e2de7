package nsfile

import (
	"fmt"
	"path"
	"strings"

	"github.com/ants/ants/internal/mount"
)

// Mount is one line of /proc/PID/mountinfo, as internal/mount parses it.
type Mount = mount.Info

func hasOpt(opts []string, o string) bool {
	for _, x := range opts {
		if x == o {
			return true
		}
	}
	return false
}

// under reports whether p is dir or below it (both clean, absolute).
func under(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// rel is p relative to dir (p under dir), "" for dir itself.
func rel(p, dir string) string {
	if p == dir {
		return ""
	}
	if dir == "/" {
		return p[1:]
	}
	return p[len(dir)+1:]
}

// bindFlagOpts are the per-mount options a bind line carries.
var bindFlagOpts = []string{"ro", "nosuid", "nodev", "noexec", "noatime", "nodiratime", "strictatime"}

// mountOpts are the options of a mount line for m: per-mount flags, then the
// superblock's options, without duplicates.
func mountOpts(m Mount) string {
	var out []string
	seen := map[string]bool{}
	add := func(o string) {
		if o == "" || seen[o] {
			return
		}
		if (o == "rw" && seen["ro"]) || (o == "ro" && seen["rw"]) {
			return
		}
		seen[o] = true
		out = append(out, o)
	}
	for _, o := range m.Opts {
		add(o)
	}
	for _, o := range m.Super {
		add(o)
	}
	return JoinOpts(out)
}

func bindOpts(m Mount) string {
	var out []string
	for _, o := range bindFlagOpts {
		if hasOpt(m.Opts, o) {
			out = append(out, o)
		}
	}
	return strings.Join(out, ",")
}

// Ordered returns the mounts so that each comes after its parent (the kernel lists
// them in the namespace's order, where a child can come first); otherwise stable.
func Ordered(ms []Mount) []Mount {
	byID := map[int]int{}
	for i, m := range ms {
		byID[m.ID] = i
	}
	state := make([]int, len(ms)) // 0 new, 1 visiting, 2 done
	var out []Mount
	var visit func(i int)
	visit = func(i int) {
		if state[i] != 0 {
			return
		}
		state[i] = 1
		if p, ok := byID[ms[i].Parent]; ok {
			visit(p)
		}
		state[i] = 2
		out = append(out, ms[i])
	}
	for i := range ms {
		visit(i)
	}
	return out
}

// BindSource finds, for a mount whose root is not its file system's root, a path
// where that root can be seen through another mount of the same device: the first
// such mount in the list, preferring those before index i. ok is false when none is.
func BindSource(ms []Mount, i int) (string, bool) {
	m := ms[i]
	if !strings.HasPrefix(m.Root, "/") {
		return "", false
	}
	best := -1
	for j, o := range ms {
		if j == i || o.Dev != m.Dev || !strings.HasPrefix(o.Root, "/") || !under(m.Root, o.Root) {
			continue
		}
		if under(o.Point, m.Point) && o.Point != m.Point && m.Point != "/" {
			continue // below the mount itself: not a place to see it from first
		}
		if best < 0 || (j < i && best > i) {
			best = j
		}
		if j < i {
			break
		}
	}
	if best < 0 {
		return "", false
	}
	o := ms[best]
	return path.Join(o.Point, rel(m.Root, o.Root)), true
}

// FromMountinfo turns mounts into ops: a mount line for each mount of a file system
// at its root, a bind line for a mount of a subtree whose source is visible, and a
// comment and a mount line for one whose source is not.
func FromMountinfo(ms []Mount) []Op {
	ms = Ordered(ms)
	var ops []Op
	for i, m := range ms {
		prop := m.Propagation()
		if m.Root != "/" {
			if src, ok := BindSource(ms, i); ok {
				ops = append(ops, Op{Cmd: "bind", Opts: bindOpts(m), Prop: prop, Src: src, Dst: m.Point})
				continue
			}
			ops = append(ops, Op{Comment: fmt.Sprintf("bind of %s from %s (source not visible)", Quote(m.Root), Quote(m.Source))})
		}
		ops = append(ops, Op{Cmd: "mount", Type: m.FSType, Opts: mountOpts(m), Prop: prop, Src: m.Source, Dst: m.Point})
	}
	return ops
}
