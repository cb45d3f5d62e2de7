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
	NFS    = "nfs"    // an NFS server on the network (NFSv4 over TCP)
)

// Source says where the root comes from and how to mount it.
type Source struct {
	Kind   string
	Spec   string // disk: /dev/vda1, LABEL=, UUID=, PARTUUID=; virtfs: the mount tag
	FSType string
	Flags  uintptr
	Data   string
	Venti  bootvar.Dial
	// Servers are the network root's servers in the order they are tried: venti's
	// dial strings for 9P, the server names for NFS. The first that answers is
	// used; failover puts the next one first.
	Servers []string
	Aname   string
	Wait    bool          // rootwait: wait for the device for ever
	Delay   time.Duration // rootdelay
	Init    string
	Args    []string
	// Full (ants.rootpriv=full) gives a trusted root the machine back: the
	// kernel's devtmpfs as /dev, writable /proc/sys and /sys, every capability.
	// Otherwise the root is contained (docs/security.md).
	Full bool
	// DevDir is the root's own /dev, made by PID 1 in the admin namespace
	// (guard.DevDir) and bound onto the root's /dev; "" uses a devtmpfs.
	DevDir string
	// NFS: the server (a name or an address) and the exported path; the mount
	// options are in Data, the port the server is reached on in NFSPort.
	NFSServer, NFSPath string
	NFSPort            int
	// Overlay (ants.overlay): the root's tree is mounted read-only as the lower
	// layer of an overlayfs whose upper layer is a tmpfs ("tmpfs", OverlaySize) or
	// a local disk (LABEL=, UUID=, /dev/X), so many machines can share one export.
	Overlay, OverlaySize string
	// Transport is the child's descriptor of a unix socket to PID 1 (0: none):
	// a 9P root is mounted over a TCP connection the child dials itself
	// (trans=fd), and a copy of it goes back to PID 1 on this socket, so that
	// PID 1 can break it when the root hangs (pid1/transport.go).
	Transport int
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
	case NFS:
		return "nfs " + s.NFSServer + ":" + s.NFSPath
	}
	return "none"
}

// FromVars reads the root's source from the boot variables (root, rootfstype,
// rootflags, ro, rw, rootwait, rootdelay, venti, ants.aname, nfsroot, ip, init,
// ants.initargs, ants.rootpriv, ants.overlay).
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
		ds, err := bootvar.ParseDials(venti)
		if err != nil {
			return s, fmt.Errorf("venti: %v", err)
		}
		d := ds[0]
		for _, x := range ds {
			s.Servers = append(s.Servers, x.String())
		}
		s.Kind, s.Venti, s.FSType = NineP, d, "9p"
		opts := []string{"trans=tcp", "port=" + strconv.Itoa(d.Port), "version=9p2000.L", "msize=65536", "access=client"}
		if s.Aname != "" {
			opts = append(opts, "aname="+s.Aname)
		}
		s.Data = strings.Join(append(append(opts, ninePCache(data)...), data...), ",")
	case root == "/dev/nfs" || strings.HasPrefix(root, "nfs:") || strings.HasPrefix(root, "nfs4:"):
		if err := s.nfs(root, get("nfsroot"), get("ip"), data); err != nil {
			return s, err
		}
	case strings.HasPrefix(root, "virtfs:"):
		tag := strings.TrimPrefix(root, "virtfs:")
		if tag == "" {
			return s, fmt.Errorf("root=virtfs: needs a mount tag, as in root=virtfs:rootfs")
		}
		s.Kind, s.Spec, s.FSType = VirtFS, tag, "9p"
		opts := []string{"trans=virtio", "version=9p2000.L", "msize=512000", "access=client"}
		s.Data = strings.Join(append(append(opts, ninePCache(data)...), data...), ",")
	default:
		if !strings.HasPrefix(root, "/dev/") && !strings.Contains(root, "=") {
			return s, fmt.Errorf("root=%q: want /dev/NAME, LABEL=, UUID=, PARTUUID=, PARTLABEL=, 9p, nfs:SERVER:/PATH, nfs4:SERVER:/PATH or virtfs:TAG", root)
		}
		s.Kind, s.Spec = Disk, root
		s.Data = strings.Join(data, ",")
	}
	return s, s.overlay(get("ants.overlay"))
}

// ninePCache is a 9P root's cache mode unless rootflags= names one: cache=mmap,
// which keeps the pages of mapped files (executables, libraries) in the page cache
// and caches nothing else, as cache=none does. Every exec over 9P with no cache
// reads its program again page by page: the demo root's rcS took 8.7 s from its
// init's start to "up" over diod, 1.9 s with cache=mmap (measured
// 2026-12-01; docs/performance.md). cache=loose is about as fast here but caches
// metadata and data too, and a hung root with dirty pages in fscache BUGs Debian's
// 6.1 kernel when its connection is cut (escape.md).
func ninePCache(rootflags []string) []string {
	for _, o := range rootflags {
		if strings.HasPrefix(o, "cache=") {
			return nil
		}
	}
	return []string{"cache=mmap"}
}

// nfs reads an NFS root: dracut's root=nfs:SERVER:/PATH[:OPTIONS] and
// root=nfs4:..., or the kernel's root=/dev/nfs with nfsroot=[SERVER:]PATH[,OPTIONS]
// (the server, when not given, is ip='s server field). Both mount NFSv4 over TCP
// unless the options say vers=3.
func (s *Source) nfs(root, nfsroot, ip string, data []string) error {
	var server, path, opts string
	if root == "/dev/nfs" {
		if nfsroot == "" {
			return fmt.Errorf("root=/dev/nfs needs nfsroot=[SERVER:]PATH[,OPTIONS]")
		}
		spec, o, _ := strings.Cut(nfsroot, ",")
		opts = o
		if h, p, ok := strings.Cut(spec, ":"); ok && !strings.HasPrefix(spec, "/") {
			server, path = h, p
		} else {
			path = spec
			// ip=client:server:gw:mask:host:dev:autoconf
			if f := strings.Split(ip, ":"); len(f) > 1 {
				server = f[1]
			}
			if server == "" {
				return fmt.Errorf("nfsroot=%s names no server: write nfsroot=SERVER:%s (or give ip=CLIENT:SERVER:...)", nfsroot, path)
			}
		}
	} else {
		rest := strings.TrimPrefix(strings.TrimPrefix(root, "nfs4:"), "nfs:")
		h, p, ok := strings.Cut(rest, ":")
		if !ok || h == "" || !strings.HasPrefix(p, "/") {
			return fmt.Errorf("root=%s: want %s:SERVER:/PATH[:OPTIONS]", root, strings.SplitN(root, ":", 2)[0])
		}
		server, path = h, p
		if p, o, ok := strings.Cut(path, ":"); ok {
			path, opts = p, o
		}
	}
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("the NFS path %q must start with /", path)
	}
	for _, h := range strings.Split(server, ",") {
		if h = strings.TrimSpace(h); h == "" {
			return fmt.Errorf("the NFS server list %q has an empty name", server)
		}
		s.Servers = append(s.Servers, h)
	}
	server = s.Servers[0]
	s.Kind, s.Spec, s.NFSServer, s.NFSPath, s.NFSPort = NFS, server+":"+path, server, path, 2049
	vers := "4.1"
	var extra []string
	for _, o := range append(strings.Split(opts, ","), data...) {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
		case strings.HasPrefix(o, "vers=") || strings.HasPrefix(o, "nfsvers="):
			vers = o[strings.Index(o, "=")+1:]
		case strings.HasPrefix(o, "port="):
			n, err := strconv.Atoi(strings.TrimPrefix(o, "port="))
			if err != nil || n <= 0 || n > 65535 {
				return fmt.Errorf("NFS option %q: want a port from 1 to 65535", o)
			}
			s.NFSPort = n
		default:
			if fl, ok := mountFlag(o); ok {
				s.Flags |= fl
				continue
			}
			extra = append(extra, o)
		}
	}
	switch {
	case vers == "3":
		s.FSType = "nfs"
		extra = append([]string{"vers=3", "proto=tcp", "mountproto=tcp", "nolock"}, extra...)
	case vers == "4" || strings.HasPrefix(vers, "4."):
		s.FSType = "nfs4"
		extra = append([]string{"vers=" + vers, "proto=tcp"}, extra...)
	default:
		return fmt.Errorf("NFS vers=%s: want 4, 4.0, 4.1, 4.2 or 3", vers)
	}
	extra = append(extra, "port="+strconv.Itoa(s.NFSPort))
	// The server's address (addr=) is added at mount time, once it is resolved.
	s.Data = strings.Join(extra, ",")
	return nil
}

// overlay reads ants.overlay=tmpfs[:size=N] or ants.overlay=LABEL=...|UUID=...|/dev/X.
func (s *Source) overlay(v string) error {
	switch {
	case v == "":
		return nil
	case s.Kind == None:
		return nil
	case v == "tmpfs" || strings.HasPrefix(v, "tmpfs:"):
		s.Overlay = "tmpfs"
		if o := strings.TrimPrefix(strings.TrimPrefix(v, "tmpfs"), ":"); o != "" {
			size, ok := strings.CutPrefix(o, "size=")
			if !ok {
				return fmt.Errorf("ants.overlay=%s: after tmpfs: want size=N (64m, 50%%)", v)
			}
			if _, err := bootvar.ParseSize(size, 1<<30); err != nil {
				return fmt.Errorf("ants.overlay=%s: %v", v, err)
			}
			s.OverlaySize = size
		}
		return nil
	case strings.HasPrefix(v, "/dev/") || strings.HasPrefix(v, "LABEL=") || strings.HasPrefix(v, "UUID=") ||
		strings.HasPrefix(v, "PARTUUID=") || strings.HasPrefix(v, "PARTLABEL="):
		s.Overlay = v
		return nil
	}
	return fmt.Errorf("ants.overlay=%s: want tmpfs, tmpfs:size=N, or a disk (LABEL=, UUID=, PARTUUID=, /dev/X)", v)
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

// Next is s with its server list turned so that the server after current comes
// first (failover); current "" or not in the list turns it by one.
func (s Source) Next(current string) Source {
	if len(s.Servers) < 2 {
		return s
	}
	i := 0
	for j, x := range s.Servers {
		if x == current {
			i = j
		}
	}
	n := append(append([]string{}, s.Servers[i+1:]...), s.Servers[:i+1]...)
	return s.withServers(n)
}

// withServers sets the list and the first server as the one named.
func (s Source) withServers(list []string) Source {
	s.Servers = list
	switch s.Kind {
	case NineP:
		if d, err := bootvar.ParseDial(list[0]); err == nil {
			s.Venti = d
		}
	case NFS:
		s.NFSServer = list[0]
		s.Spec = list[0] + ":" + s.NFSPath
	}
	return s
}
