package nsfile

import (
	"strings"

	"golang.org/x/sys/unix"
)

// optFlag is a mount option that is a mount(2) flag rather than file system data.
type optFlag struct {
	set   bool // set the flag (else clear it)
	flags uintptr
}

// OptFlags maps mount options to mount(2) flags; all else is file system data.
var OptFlags = map[string]optFlag{
	"ro":          {true, unix.MS_RDONLY},
	"rw":          {false, unix.MS_RDONLY},
	"nosuid":      {true, unix.MS_NOSUID},
	"suid":        {false, unix.MS_NOSUID},
	"nodev":       {true, unix.MS_NODEV},
	"dev":         {false, unix.MS_NODEV},
	"noexec":      {true, unix.MS_NOEXEC},
	"exec":        {false, unix.MS_NOEXEC},
	"sync":        {true, unix.MS_SYNCHRONOUS},
	"async":       {false, unix.MS_SYNCHRONOUS},
	"dirsync":     {true, unix.MS_DIRSYNC},
	"mand":        {true, unix.MS_MANDLOCK},
	"nomand":      {false, unix.MS_MANDLOCK},
	"noatime":     {true, unix.MS_NOATIME},
	"atime":       {false, unix.MS_NOATIME},
	"nodiratime":  {true, unix.MS_NODIRATIME},
	"diratime":    {false, unix.MS_NODIRATIME},
	"relatime":    {true, unix.MS_RELATIME},
	"norelatime":  {false, unix.MS_RELATIME},
	"strictatime": {true, unix.MS_STRICTATIME},
	"lazytime":    {true, unix.MS_LAZYTIME},
	"nolazytime":  {false, unix.MS_LAZYTIME},
	"silent":      {true, unix.MS_SILENT},
	"loud":        {false, unix.MS_SILENT},
	"remount":     {true, unix.MS_REMOUNT},
	"bind":        {true, unix.MS_BIND},
	"rbind":       {true, unix.MS_BIND | unix.MS_REC},
	"defaults":    {false, 0},
}

// PropFlags maps -p values (and mount's --make-* names) to mount(2) flags.
var PropFlags = map[string]uintptr{
	"shared":      unix.MS_SHARED,
	"slave":       unix.MS_SLAVE,
	"private":     unix.MS_PRIVATE,
	"unbindable":  unix.MS_UNBINDABLE,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// SplitOpts splits an option string on the commas not escaped by a backslash and
// undoes the escapes (\, is a comma inside an option, \\ a backslash).
func SplitOpts(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && (s[i+1] == ',' || s[i+1] == '\\'):
			i++
			b.WriteByte(s[i])
		case c == ',':
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(out, b.String())
}

// EscapeOpt escapes one option for an option string (see SplitOpts).
func EscapeOpt(o string) string {
	if !strings.ContainsAny(o, ",\\") {
		return o
	}
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`).Replace(o)
}

// JoinOpts is the inverse of SplitOpts.
func JoinOpts(opts []string) string {
	e := make([]string, len(opts))
	for i, o := range opts {
		e[i] = EscapeOpt(o)
	}
	return strings.Join(e, ",")
}

// ParseOpts splits -o options into mount(2) flags and file system data.
func ParseOpts(s string) (flags uintptr, data string) {
	flags, rest := SplitFlags(s)
	return flags, strings.Join(rest, ",")
}

// SplitFlags is ParseOpts with the data options kept apart.
func SplitFlags(s string) (flags uintptr, rest []string) {
	for _, o := range SplitOpts(s) {
		if f, ok := OptFlags[o]; ok {
			if f.set {
				flags |= f.flags
			} else {
				flags &^= f.flags
			}
			continue
		}
		if o != "" {
			rest = append(rest, o)
		}
	}
	return flags, rest
}
