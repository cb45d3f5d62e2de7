package antscmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/netconf"
	"github.com/ants/ants/internal/rootsys"
)

// netCmd is `ants net [IP]`: configure the network from ip= (or the argument).
// Without ip=, a network root (venti=) gets DHCP, anything else only lo.
func (p Paths) netCmd(args []string, out io.Writer) error {
	if len(args) > 1 {
		return fmt.Errorf("usage: ants net [dhcp | none | client:server:gw:mask:host:dev:autoconf]")
	}
	envs, _ := bootvar.ReadEnv(p.EnvDir)
	ip := envs["ip"]
	if len(args) == 1 {
		ip = args[0]
	}
	if ip == "" && envs["venti"] != "" {
		fmt.Fprintf(out, "net: no ip=; venti=%s needs the network: dhcp\n", envs["venti"])
		ip = "dhcp"
	}
	if r := envs["root"]; ip == "" && (r == "/dev/nfs" || strings.HasPrefix(r, "nfs:") || strings.HasPrefix(r, "nfs4:")) {
		fmt.Fprintf(out, "net: no ip=; root=%s needs the network: dhcp\n", r)
		ip = "dhcp"
	}
	c, err := netconf.Parse(ip)
	if err != nil {
		return err
	}
	if c.Mode != netconf.ModeNone {
		// DHCP talks through a packet socket: without af_packet (a module in
		// Debian's kernel) the socket cannot be made.
		if l, err := p.loader(out, false); err == nil {
			if err := l.Probe("af_packet"); err != nil {
				fmt.Fprintf(out, "net: %v\n", err)
			}
		}
	}
	if c.Mode != netconf.ModeNone {
		defer p.preloadRoot(envs, out)()
	}
	n := &netconf.Net{Log: func(format string, a ...any) { fmt.Fprintf(out, "net: "+format+"\n", a...) }}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	res, err := n.Up(ctx, c)
	if err != nil {
		return fmt.Errorf("ip=%s: %v", ip, err)
	}
	if res.Link == "" {
		fmt.Fprintf(out, "net: lo only (ip=%s)\n", c.Mode)
		return nil
	}
	via := ""
	if res.Gateway != nil {
		via = " via " + res.Gateway.String()
	}
	fmt.Fprintf(out, "net: %s %s%s (%s, %d ms)\n", res.Link, res.Addr.String(), via, c.Mode, time.Since(start).Milliseconds())
	if name := p.dhcpSysname(envs, res.Hostname); name != "" {
		if err := bootvar.WriteVar(p.EnvDir, "sysname", name); err == nil {
			fmt.Fprintf(out, "net: sysname=%s, the host name DHCP gave\n", name)
		}
	}
	if len(res.DNS) > 0 {
		var b strings.Builder
		for _, d := range res.DNS {
			fmt.Fprintf(&b, "nameserver %s\n", d)
		}
		if err := os.WriteFile(p.ResolvConf, []byte(b.String()), 0o644); err != nil {
			fmt.Fprintf(out, "net: %s: %v\n", p.ResolvConf, err)
		}
	}
	return nil
}

// preloadRoot starts loading a network root's modules (rootsys.Source.NetModules)
// while the network comes up: DHCP spends most of its time waiting for answers
// (a second on QEMU's e1000), and the first NFS mount used to spend 1.2 s under
// TCG loading sunrpc, nfs, nfsv4 and theirs after it. The function it returns
// waits for the load and says how it went; a failure is only told, as the mount
// tries again and says what it needs.
func (p Paths) preloadRoot(envs map[string]string, out io.Writer) (wait func()) {
	src, err := rootsys.FromVars(func(k string) string { return envs[k] })
	mods := src.NetModules()
	if err != nil || len(mods) == 0 {
		return func() {}
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- p.probeAll(mods...) }()
	return func() {
		if err := <-done; err != nil {
			fmt.Fprintf(out, "net: the root's modules (%s): %v\n", strings.Join(mods, " "), err)
			return
		}
		fmt.Fprintf(out, "net: the root's modules (%s) loaded beside it (%d ms)\n", strings.Join(mods, " "), time.Since(start).Milliseconds())
	}
}

// ImageSysname is the sysname the image's /cfg/boot.conf gives (ramfs-skel).
const ImageSysname = "ants"

// dhcpSysname is the sysname to take from a DHCP host name: only when sysname was
// not set otherwise, that is, not on the kernel command line and still the image's
// default (ImageSysname); and only a name sysname takes (a bad one is left).
func (p Paths) dhcpSysname(envs map[string]string, host string) string {
	host = strings.TrimSpace(host)
	if host == "" {
		return ""
	}
	if cur := envs["sysname"]; cur != "" && cur != ImageSysname {
		return ""
	}
	if p.onCmdline("sysname") {
		return ""
	}
	if host, _, _ = strings.Cut(host, "."); bootvar.Validate("sysname", host) != nil {
		return ""
	}
	return host
}
