// Package rootsys is the root system: where its file system comes from (a disk, a 9P
// server on the network, a virtio shared folder), and the child of PID 1 that mounts
// it in a mount namespace of its own and becomes the root's init.
package rootsys

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"golang.org/x/sys/unix"
)

// Kinds of root source.
const (
	None   = ""       // no root: the admin namespace alone
	Disk   = "disk"   // a block device
	NineP  = "9p"     // a 9P server on the network (venti)
	VirtFS = "virtfs" // a virtio 9P shared folder (QEMU -virtfs)
)

// Source says where the root comes from and how to mount it.
type Source struct {
	Kind   string
	Spec   string // disk: /dev/vda1, LABEL=, UUID=, PARTUUID=; virtfs: the mount tag
	FSType string
	Flags  uintptr
	Data   string
	Venti  bootvar.Dial
	Aname  string
	Wait   bool          // rootwait: wait for the device for ever
	Delay  time.Duration // rootdelay
	Init   string
	Args   []string
	// Full (ants.rootpriv=full) gives a trusted root the machine back: the
	// kernel's devtmpfs as /dev, writable /proc/sys and /sys, every capability.
	// Otherwise the root is contained (docs/security.md).
	Full bool
	// DevDir is the root's own /dev, made by PID 1 in the admin namespace
	// (guard.DevDir) and bound onto the root's /dev; "" uses a devtmpfs.
	DevDir string
}

// String says where the root comes from, in a line.
func (s Source) String() string {
	switch s.Kind {
	case Disk:
		return "disk " + s.Spec
	case NineP:
		a := ""
		if s.Aname != "" {
			a = " aname=" + s.Aname
		}
		return "9p " + s.Venti.String() + a
	case VirtFS:
		return "virtfs " + s.Spec
	}
	return "none"
}

// FromVars reads the root's source from the boot variables (root, rootfstype,
// rootflags, ro, rw, rootwait, rootdelay, venti, ants.aname, init, ants.initargs,
// ants.rootpriv).
func FromVars(get func(string) string) (Source, error) {
	s := Source{Init: get("init"), Aname: get("ants.aname")}
	if s.Init == "" {
		s.Init = "/sbin/init"
	}
	s.Args = strings.Fields(get("ants.initargs"))
	switch p := get("ants.rootpriv"); p {
	case "", "contained":
	case "full":
		s.Full = true
	default:
		return s, fmt.Errorf("ants.rootpriv=%q: want contained (the default) or full", p)
	}
	root := get("root")
	venti := get("venti")
	if root == bootvar.Ask || venti == bootvar.Ask {
		return s, fmt.Errorf("root=%q venti=%q: still to be asked", root, venti)
	}
	flags := strings.Split(get("rootflags"), ",")
	var data []string
	for _, f := range flags {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if fl, ok := mountFlag(f); ok {
			s.Flags |= fl
			continue
		}
		data = append(data, f)
	}
	if bootvar.Truth(get("ro")) && !bootvar.Truth(get("rw")) {
		s.Flags |= unix.MS_RDONLY
	}
	s.Wait = bootvar.Truth(get("rootwait"))
	if d := get("rootdelay"); d != "" {
		delay, err := bootvar.Seconds("rootdelay", d)
		if err != nil {
			return s, err
		}
		s.Delay = delay
	}
	s.FSType = get("rootfstype")
	switch {
	case root == "" && venti == "":
		s.Kind = None
		return s, nil
	case root == "" || root == "9p":
		if venti == "" {
			return s, fmt.Errorf("root=9p needs venti=tcp!HOST!PORT (the 9P server)")
		}
		d, err := bootvar.ParseDial(venti)
		if err != nil {
			return s, fmt.Errorf("venti: %v", err)
		}
		s.Kind, s.Venti, s.FSType = NineP, d, "9p"
		opts := []string{"trans=tcp", "port=" + strconv.Itoa(d.Port), "version=9p2000.L", "msize=65536", "access=client"}
		if s.Aname != "" {
			opts = append(opts, "aname="+s.Aname)
		}
		s.Data = strings.Join(append(opts, data...), ",")
		return s, nil
	case strings.HasPrefix(root, "virtfs:"):
		tag := strings.TrimPrefix(root, "virtfs:")
		if tag == "" {
			return s, fmt.Errorf("root=virtfs: needs a mount tag, as in root=virtfs:rootfs")
		}
		s.Kind, s.Spec, s.FSType = VirtFS, tag, "9p"
		opts := []string{"trans=virtio", "version=9p2000.L", "msize=512000", "access=client"}
		s.Data = strings.Join(append(opts, data...), ",")
		return s, nil
	default:
		if !strings.HasPrefix(root, "/dev/") && !strings.Contains(root, "=") {
			return s, fmt.Errorf("root=%q: want /dev/NAME, LABEL=, UUID=, PARTUUID=, PARTLABEL=, 9p or virtfs:TAG", root)
		}
		s.Kind, s.Spec = Disk, root
		s.Data = strings.Join(data, ",")
		return s, nil
	}
}

// mountFlag maps the flag words of rootflags= to mount flags.
func mountFlag(w string) (uintptr, bool) {
	switch w {
	case "ro":
		return unix.MS_RDONLY, true
	case "nosuid":
		return unix.MS_NOSUID, true
	case "nodev":
		return unix.MS_NODEV, true
	case "noexec":
		return unix.MS_NOEXEC, true
	case "noatime":
		return unix.MS_NOATIME, true
	case "relatime":
		return unix.MS_RELATIME, true
	case "sync":
		return unix.MS_SYNCHRONOUS, true
	}
	return 0, false
}
