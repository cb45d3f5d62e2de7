package rootsys

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ants/ants/internal/mount"
	"golang.org/x/sys/unix"
)

// Bounds of what FetchCfg copies from a server's /cfg/$sysname/.
const (
	CfgMaxFiles = 32
	CfgMaxFile  = 64 << 10
	CfgMaxTotal = 1 << 20
)

// cfgMount is where FetchCfg mounts the server's tree, in its own mount namespace.
const cfgMount = "/run/ants/netcfg.mnt"

// FetchCfg copies a network root's /cfg/SYSNAME/ (boot.conf and *.sh, regular
// files only, within the bounds above) into dest, as Plan 9 kept a machine's
// configuration on its file server. It must run in a mount namespace of its own
// (a child cloned with CLONE_NEWNS): the server's tree is mounted read-only there
// and goes with the process, never left in the admin namespace. It returns the
// names copied; none when the server has no /cfg/SYSNAME.
func FetchCfg(s Source, sysname, dest string, log func(string), modprobe func(...string) error) ([]string, error) {
	if sysname == "" || strings.ContainsAny(sysname, "/\x00") || sysname == "." || sysname == ".." {
		return nil, fmt.Errorf("sysname %q cannot name a directory", sysname)
	}
	if s.Kind != NineP && s.Kind != NFS {
		return nil, fmt.Errorf("the root (%s) is not a network root", s)
	}
	if modprobe == nil {
		modprobe = func(...string) error { return nil }
	}
	if err := mount.Propagate("/", unix.MS_REC|unix.MS_PRIVATE); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfgMount, 0o755); err != nil {
		return nil, err
	}
	s.Overlay = ""
	s.Flags |= unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	recordServer = false
	if err := mountSource(s, cfgMount, log, modprobe); err != nil {
		return nil, err
	}
	defer mount.Unmount(cfgMount, unix.MNT_DETACH)
	src := filepath.Join(cfgMount, "cfg", sysname)
	ents, err := os.ReadDir(src)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("the server's /cfg/%s: %v", sysname, err)
	}
	var names []string
	for _, e := range ents {
		if n := e.Name(); n == "boot.conf" || strings.HasSuffix(n, ".sh") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) > CfgMaxFiles {
		log(fmt.Sprintf("the server's /cfg/%s has %d files; the first %d are taken", sysname, len(names), CfgMaxFiles))
		names = names[:CfgMaxFiles]
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, err
	}
	var copied []string
	total := 0
	for _, n := range names {
		b, err := readRegular(filepath.Join(src, n), CfgMaxFile)
		if err != nil {
			log(fmt.Sprintf("the server's /cfg/%s/%s: %v; skipped", sysname, n, err))
			continue
		}
		if total += len(b); total > CfgMaxTotal {
			log(fmt.Sprintf("the server's /cfg/%s is over %d KiB; %s and after are skipped", sysname, CfgMaxTotal>>10, n))
			break
		}
		if err := os.WriteFile(filepath.Join(dest, n), b, 0o644); err != nil {
			return copied, err
		}
		copied = append(copied, n)
	}
	return copied, nil
}

// readRegular reads a regular file (not a link, a FIFO or a device) of at most max
// bytes.
func readRegular(p string, max int) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, fmt.Errorf("larger than %d KiB", max>>10)
	}
	return b, nil
}
