package antscmd

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ants/ants/internal/kmod"
	"golang.org/x/sys/unix"
)

// indexes keeps each parsed module index: the boot runner calls coldplug and
// modprobe in one process, and the image's modules never change (read-only).
var (
	indexMu sync.Mutex
	indexes = map[string]*kmod.Index{}
)

func (p Paths) loader(out io.Writer, verbose bool) (*kmod.Loader, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, err
	}
	rel := unix.ByteSliceToString(u.Release[:])
	dir := filepath.Join(p.ModulesDir, rel)
	indexMu.Lock()
	defer indexMu.Unlock()
	ix := indexes[dir]
	if ix == nil {
		var err error
		if ix, err = kmod.LoadIndex(dir); err != nil {
			return nil, fmt.Errorf("no modules for the running kernel %s: %v; was the image built for another kernel?", rel, err)
		}
		indexes[dir] = ix
	}
	l := &kmod.Loader{Index: ix, SysModule: p.sysModule()}
	if verbose {
		l.Log = func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	}
	return l, nil
}

// probeAll loads the modules names (with their dependencies) and stops at the
// first that fails. When the kernel has every one live already it reads no index:
// a root's child or netcfg's, fresh processes, find the network root's modules
// that ants net loaded.
func (p Paths) probeAll(names ...string) error {
	if len(names) == 0 || kmod.AllLive(p.sysModule(), names...) {
		return nil
	}
	l, err := p.loader(io.Discard, false)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := l.Probe(n); err != nil {
			return err
		}
	}
	return nil
}

func (p Paths) coldplug(args []string, out io.Writer) error {
	verbose := len(args) > 0 && args[0] == "-v"
	if len(args) > 1 || (len(args) == 1 && !verbose) {
		return fmt.Errorf("usage: ants coldplug [-v]")
	}
	l, err := p.loader(out, verbose)
	if err != nil {
		return err
	}
	start := time.Now()
	loaded, errs := l.Coldplug(p.Sysfs)
	for _, e := range errs {
		fmt.Fprintf(out, "coldplug: %v\n", e)
	}
	fmt.Fprintf(out, "coldplug: %d modules for the devices present (%d ms): %s\n",
		len(loaded), time.Since(start).Milliseconds(), strings.Join(loaded, " "))
	if verbose {
		p.listDriverless(l.Index, out)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d modules failed to load", len(errs))
	}
	return nil
}

// listDriverless prints the devices that have no driver in the image (after
// Coldplug: what it loaded is bound by now), one a line, then their count and what to
// do. kmod.Index.Driverless says which devices are left out as needing no driver.
func (p Paths) listDriverless(ix *kmod.Index, out io.Writer) {
	devs, errs := ix.Driverless(p.Sysfs)
	for _, e := range errs {
		fmt.Fprintf(out, "coldplug: %v\n", e)
	}
	for _, d := range devs {
		fmt.Fprintf(out, "coldplug: no driver in the image for %s: %s, modalias %s\n", d.Path, d.What, d.Modalias)
	}
	switch len(devs) {
	case 0:
		fmt.Fprintf(out, "coldplug: every device present has its driver (or needs none)\n")
	default:
		its, s := "its module", " has"
		if len(devs) > 1 {
			its, s = "their modules", "s have"
		}
		fmt.Fprintf(out, "coldplug: %d device%s no driver in the image: add %s to initramfs/modules.txt and build the image again "+
			"(on a machine with kernel %s, `modprobe -R MODALIAS` names the module)\n", len(devs), s, its, ix.Release())
	}
}

func (p Paths) modprobe(args []string, out io.Writer) error {
	if len(args) == 0 {
		//lint:ignore ST1005 a usage line: "NAME ..." as in the help and docs/commands.md
		return fmt.Errorf("usage: ants modprobe NAME ...")
	}
	l, err := p.loader(out, false)
	if err != nil {
		return err
	}
	failed := 0
	for _, n := range args {
		if err := l.Probe(n); err != nil {
			fmt.Fprintf(out, "modprobe: %v\n", err)
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d modules failed", failed, len(args))
	}
	return nil
}

// sysModule is the kernel's list of modules under p.Sysfs.
func (p Paths) sysModule() string {
	if p.Sysfs == "" {
		return ""
	}
	return filepath.Join(p.Sysfs, "module")
}
