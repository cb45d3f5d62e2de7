package antscmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/rootsys"
	"golang.org/x/sys/unix"
)

// netcfgTimeout bounds the fetch of a network root's /cfg/$sysname: a server that
// does not answer must not hold the boot.
const netcfgTimeout = 15 * time.Second

// netcfg is `ants netcfg`: for a network root (9P, NFS), copy the server's
// /cfg/$sysname/ (boot.conf, *.sh) into the admin namespace's /cfg/$sysname/ and
// apply its boot.conf, so a fleet's machines are configured on the server, as on
// Plan 9. The tree is mounted by a child in a mount namespace of its own and goes
// with it; the child is given netcfgTimeout.
func (p Paths) netcfg(args []string, out io.Writer) error {
	if len(args) != 0 {
		return fmt.Errorf("usage: ants netcfg")
	}
	envs, _ := bootvar.ReadEnv(p.EnvDir)
	src, err := rootsys.FromVars(func(k string) string { return envs[k] })
	if err != nil || (src.Kind != rootsys.NineP && src.Kind != rootsys.NFS) {
		fmt.Fprintf(out, "netcfg: not a network root; nothing to fetch\n")
		return nil
	}
	sysname := envs["sysname"]
	if sysname == "" || sysname == bootvar.Ask || strings.ContainsAny(sysname, "/") {
		fmt.Fprintf(out, "netcfg: no sysname; nothing to fetch\n")
		return nil
	}
	dest := filepath.Join(p.CfgDir, sysname)
	ctx, cancel := context.WithTimeout(context.Background(), netcfgTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/proc/self/exe", "netcfg-fetch", src.Encode(), sysname, dest)
	cmd.Args[0] = "ants" // the busybox picks the command by this name
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS, Setsid: true}
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("the server (%s) did not give /cfg/%s in %v; going on without it", src, sysname, netcfgTimeout)
		}
		return fmt.Errorf("fetching /cfg/%s from %s: %v", sysname, src, err)
	}
	conf := filepath.Join(dest, "boot.conf")
	if _, err := os.Stat(conf); err == nil {
		return p.conf([]string{conf}, out)
	}
	return nil
}

// netcfgFetch is `ants netcfg-fetch SOURCE SYSNAME DEST`, the child of netcfg in a
// mount namespace of its own.
func (p Paths) netcfgFetch(args []string, out io.Writer) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: ants netcfg-fetch SOURCE SYSNAME DEST (ants netcfg runs this)")
	}
	src, err := rootsys.Decode(args[0])
	if err != nil {
		return fmt.Errorf("bad source: %v", err)
	}
	say := func(s string) { fmt.Fprintf(out, "netcfg: %s\n", s) }
	names, err := rootsys.FetchCfg(src, args[1], args[2], say, p.probeAll)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		say(fmt.Sprintf("the server (%s) has no /cfg/%s", src, args[1]))
		return nil
	}
	say(fmt.Sprintf("%s from the server (%s) into %s", strings.Join(names, " "), src, args[2]))
	return nil
}
