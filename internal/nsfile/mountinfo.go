package nsfile

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// Mount is one line of /proc/PID/mountinfo, octal escapes decoded.
type Mount struct {
	ID, Parent int
	Dev        string   // major:minor
	Root       string   // root of the mount within its file system
	Point      string   // mount point
	Opts       []string // per-mount options (rw, nosuid, relatime, ...)
	Optional   []string // shared:N, master:N, propagate_from:N, unbindable
	FSType     string
	Source     string
	Super      []string // per-superblock options
}

// Unescape decodes mountinfo's octal escapes (\040 for a blank, \134 for \ ...).
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && isOct(s, i+1) {
			v, _ := strconv.ParseUint(s[i+1:i+4], 8, 8)
			b.WriteByte(byte(v))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOct(s string, i int) bool {
	if i+3 > len(s) {
		return false
	}
	for _, c := range []byte(s[i : i+3]) {
		if c < '0' || c > '7' {
			return false
		}
	}
	return s[i] <= '3'
}

// ParseMountinfo reads mountinfo lines.
func ParseMountinfo(r io.Reader) ([]Mount, error) {
	var ms []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, " ")
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 7 || sep < 0 || len(f) < sep+3 {
			return nil, fmt.Errorf("mountinfo line %d: malformed: %q", n, line)
		}
		var m Mount
		var err error
		if m.ID, err = strconv.Atoi(f[0]); err != nil {
			return nil, fmt.Errorf("mountinfo line %d: bad id %q", n, f[0])
		}
		if m.Parent, err = strconv.Atoi(f[1]); err != nil {
			return nil, fmt.Errorf("mountinfo line %d: bad parent %q", n, f[1])
		}
		m.Dev = f[2]
		m.Root = Unescape(f[3])
		m.Point = Unescape(f[4])
		m.Opts = splitOpts(f[5])
		m.Optional = append([]string(nil), f[6:sep]...)
		m.FSType = Unescape(f[sep+1])
		m.Source = Unescape(f[sep+2])
		if len(f) > sep+3 {
			m.Super = splitOpts(strings.Join(f[sep+3:], " "))
		}
		ms = append(ms, m)
	}
	return ms, sc.Err()
}

// splitOpts splits a mountinfo option field on commas and decodes each option.
func splitOpts(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, o := range strings.Split(s, ",") {
		out = append(out, Unescape(o))
	}
	return out
}

// Propagation of a mount from its optional fields: shared, slave, "slave,shared",
// unbindable or private.
func (m Mount) Propagation() string {
	shared, slave := false, false
	for _, o := range m.Optional {
		switch {
		case strings.HasPrefix(o, "shared:"):
			shared = true
		case strings.HasPrefix(o, "master:"):
			slave = true
		case o == "unbindable":
			return "unbindable"
		}
	}
	switch {
	case shared && slave:
		return "slave,shared"
	case shared:
		return "shared"
	case slave:
		return "slave"
	}
	return "private"
}

// ReadOnly reports whether the mount is read-only.
func (m Mount) ReadOnly() bool { return hasOpt(m.Opts, "ro") }

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
