package mount

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Info is one line of /proc/PID/mountinfo (proc(5)), octal escapes decoded.
type Info struct {
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

// Self is the mountinfo of the calling thread's mount namespace
// (/proc/thread-self: the process's main thread may be in another one).
const Self = "/proc/thread-self/mountinfo"

// ReadInfo parses a mountinfo file.
func ReadInfo(name string) ([]Info, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseInfo(bufio.NewReader(f))
}

// Points lists the mount points of a mountinfo file, in mount order.
func Points(name string) ([]string, error) {
	ms, err := ReadInfo(name)
	var out []string
	for _, m := range ms {
		out = append(out, m.Point)
	}
	return out, err
}

// ParseInfo reads mountinfo lines: ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...]
// - FSTYPE SOURCE SUPEROPTS, fields separated by one blank.
func ParseInfo(r io.Reader) ([]Info, error) {
	var ms []Info
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
		var m Info
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

// Unescape decodes mountinfo's (and fstab's) octal escapes: \040 for a blank,
// \011 a tab, \012 a newline, \134 a backslash. Anything else stays as it is.
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

// isOct reports whether s[i:i+3] is an octal byte (000 to 377).
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
func (m Info) Propagation() string {
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
func (m Info) ReadOnly() bool {
	for _, o := range m.Opts {
		if o == "ro" {
			return true
		}
	}
	return false
}
