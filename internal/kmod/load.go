package kmod

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// Loader loads modules into the running kernel. Index is required; the other fields may
// be left zero. A Loader may be used from several goroutines.
type Loader struct {
	Index *Index
	Dir   string                           // where the .ko files are; "" means the index's directory
	Load  func(path, params string) error  // nil means LoadFile
	Log   func(format string, args ...any) // optional
	// SysModule is the kernel's list of modules, "" meaning /sys/module: a module
	// live there is not read, decompressed and given to the kernel again (which
	// would check its signature, all of it, before it said EEXIST: 0.4 s for NFS's
	// modules under TCG in every process that mounts a root).
	SysModule string

	mu   sync.Mutex
	done map[string]bool // modules loaded, found loaded (EEXIST) or built in
}

// maxColdplugPasses bounds the sysfs walks of one Coldplug: loading a bus driver (say
// virtio_pci) makes new devices (virtio0, ...) whose drivers the next pass loads.
const maxColdplugPasses = 8

// Probe loads a module (or the modules an alias resolves to) as modprobe does: its pre:
// soft dependencies, its dependencies in order, the module, its post: soft dependencies.
// A module the kernel already has (EEXIST) or has built in counts as loaded, and loaded
// modules are remembered, so probing one again does nothing. Failing soft dependencies
// are logged, not returned: they are optional (kmod ignores them too), and one may simply
// not fit the machine (crc32c_intel without SSE4.2). An alias with several modules
// succeeds if one of them loads.
func (l *Loader) Probe(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.probe(name)
	return err
}

// probe is Probe with l.mu held; it also returns the modules it loaded.
func (l *Loader) probe(name string) (loaded []string, err error) {
	ix := l.Index
	if ix == nil {
		return nil, errors.New("kmod: Loader has no Index")
	}
	if l.done == nil {
		l.done = map[string]bool{}
	}
	key := normalizeQuery(name)
	if l.done[key] {
		return nil, nil
	}
	targets := ix.known(ix.Resolve(name))
	if len(targets) == 0 {
		return nil, ix.notFound(name)
	}
	var errs []error
	for _, t := range targets {
		ld, err := l.probeModule(t)
		loaded = append(loaded, ld...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == len(targets) {
		return loaded, errors.Join(errs...)
	}
	for _, err := range errs {
		l.logf("kmod: %s: %v", name, err)
	}
	l.done[key] = true // an alias (or a module): done, even if some of its modules failed
	return loaded, nil
}

func (l *Loader) probeModule(target string) (loaded []string, err error) {
	ix := l.Index
	if l.done[target] {
		return nil, nil
	}
	if ix.builtin[target] {
		l.done[target] = true
		return nil, nil
	}
	required := map[string]bool{target: true}
	for _, d := range ix.Deps(target) {
		required[d] = true
	}
	w := &walker{ix: ix, state: map[string]bool{}}
	w.visit(target)
	for _, m := range w.order {
		if l.done[m] {
			continue
		}
		ok, err := l.loadModule(m)
		if ok {
			loaded = append(loaded, m)
		}
		if err == nil {
			continue
		}
		if !required[m] {
			l.logf("kmod: soft dependency %s of %s: %v", m, target, err)
			continue
		}
		if m != target {
			return loaded, fmt.Errorf("kmod: loading %s: dependency %s: %w", target, m, err)
		}
		return loaded, fmt.Errorf("kmod: loading %s: %w", target, err)
	}
	return loaded, nil
}

// loadModule loads one module, without its dependencies; loaded says whether the kernel
// took it now (not before, which still is no error).
func (l *Loader) loadModule(name string) (loaded bool, err error) {
	rel := l.Index.paths[name]
	dir := l.Dir
	if dir == "" {
		dir = l.Index.dir
	}
	load := l.Load
	if load == nil {
		load = LoadFile
	}
	if Live(l.SysModule, name) {
		l.done[name] = true
		return false, nil
	}
	err = load(filepath.Join(dir, rel), "")
	switch {
	case err == nil:
		l.done[name] = true
		l.logf("kmod: loaded %s", name)
		return true, nil
	case errors.Is(err, syscall.EEXIST):
		l.done[name] = true
		return false, nil
	}
	return false, err
}

// Live says whether the kernel has the module name, by sysModule ("" meaning
// /sys/module): loaded and initialised (its initstate "live"), or built in with
// parameters (a directory without an initstate). A module still coming (being
// loaded by another process) is not live: loading it again makes the kernel wait
// for it, then say EEXIST, so its dependants never start before it is up.
func Live(sysModule, name string) bool {
	if sysModule == "" {
		sysModule = "/sys/module"
	}
	dir := filepath.Join(sysModule, normName(name))
	b, err := os.ReadFile(filepath.Join(dir, "initstate"))
	if err == nil {
		return strings.TrimSpace(string(b)) == "live"
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// AllLive says whether the kernel has every one of names live (Live), and at
// least one name was given.
func AllLive(sysModule string, names ...string) bool {
	for _, n := range names {
		if !Live(sysModule, n) {
			return false
		}
	}
	return len(names) > 0
}

func (l *Loader) logf(format string, args ...any) {
	if l.Log != nil {
		l.Log(format, args...)
	}
}

// LoadFile loads a module file: a plain .ko with finit_module(2) (the image's
// modules, read from its squashfs, internal/payload); a .ko.zst (an image built
// with -payload cpio keeps them so; Debian's kernel cannot decompress modules
// itself) decompressed here and given to init_module(2). u-root's
// pkg/kmodule.FileInit does the same for .ko.zst (and
// .xz, .gz) since v0.16, but it gives init_module(2) every plain .ko too (its
// compression reader returns the file itself, so finit_module is never tried),
// returns bare errnos without the file's name, and links ulikunitz/xz into an
// image that is at 11.9 of its 12 MiB for formats Debian's modules do not use;
// these twenty lines stay. Its Prober, for its part, knows neither
// modules.alias nor modules.softdep, which coldplug and Probe need.
func LoadFile(path, params string) error {
	if strings.HasSuffix(path, ".ko.zst") {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		d, err := zstd.NewReader(nil)
		if err != nil {
			return err
		}
		defer d.Close()
		img, err := d.DecodeAll(b, nil)
		if err != nil {
			return fmt.Errorf("kmod: %s: %v", path, err)
		}
		if err := unix.InitModule(img, params); err != nil {
			return &os.PathError{Op: "init_module", Path: path, Err: err}
		}
		return nil
	}
	if !strings.HasSuffix(path, ".ko") {
		return fmt.Errorf("kmod: %s: only .ko and .ko.zst files can be loaded", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), params, 0); err != nil {
		return &os.PathError{Op: "finit_module", Path: path, Err: err}
	}
	return nil
}

// Coldplug loads the drivers for the devices already there: it reads the modalias of
// every device on a bus (sysfs/bus/*/devices/*, as udev's coldplug trigger lists
// them; walking all of sysfs/devices cost a tenth of a second a pass under TCG) and
// of the two devices on none (the CPU's features, the firmware's DMI strings), and
// probes each module MatchAlias gives, once. Loading a driver can add devices (a
// virtio PCI device gets its virtio child once virtio_pci is in), so it reads again
// while that brings new modaliases and loads new modules, a few times at most. It
// returns the modules it loaded (dependencies included; not those already there or
// built in), and an error for each module that failed and for unreadable parts of
// sysfs; it never stops at the first.
func (l *Loader) Coldplug(sysfs string) (loaded []string, errs []error) {
	if l.Index == nil {
		return nil, []error{errors.New("kmod: Loader has no Index")}
	}
	seen := map[string]bool{}  // modaliases handled
	tried := map[string]bool{} // modules probed
	for pass := 0; pass < maxColdplugPasses; pass++ {
		aliases, walkErrs := readModaliases(sysfs, seen)
		errs = append(errs, walkErrs...)
		progress := false
		for _, a := range aliases {
			for _, m := range l.Index.MatchAlias(a) {
				if tried[m] {
					continue
				}
				tried[m] = true
				l.mu.Lock()
				ld, err := l.probe(m)
				l.mu.Unlock()
				loaded = append(loaded, ld...)
				if len(ld) > 0 {
					progress = true
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("%w (for device %s)", err, a))
				}
			}
		}
		if !progress {
			break
		}
	}
	return loaded, errs
}

// readModaliases gives the modaliases of sysfs' devices not in seen (adding them), bus
// by bus, and errors for what it could not read (devices that went away are no error).
func readModaliases(sysfs string, seen map[string]bool) (aliases []string, errs []error) {
	gone := func(err error) bool {
		return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENODEV)
	}
	buses, err := os.ReadDir(filepath.Join(sysfs, "bus"))
	if err != nil {
		return nil, []error{fmt.Errorf("kmod: coldplug: %w", err)}
	}
	var files []string
	for _, b := range buses {
		dir := filepath.Join(sysfs, "bus", b.Name(), "devices")
		devs, err := os.ReadDir(dir)
		if err != nil {
			if !gone(err) {
				errs = append(errs, fmt.Errorf("kmod: coldplug: %w", err))
			}
			continue
		}
		for _, d := range devs {
			files = append(files, filepath.Join(dir, d.Name(), "modalias"))
		}
	}
	files = append(files, filepath.Join(sysfs, "devices/system/cpu/modalias"), filepath.Join(sysfs, "devices/virtual/dmi/id/modalias"))
	for _, p := range files {
		// sysfs' modalias is a regular file; anything else here is not a device's.
		if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			if !gone(err) {
				errs = append(errs, fmt.Errorf("kmod: coldplug: %w", err))
			}
			continue
		}
		a := strings.TrimSpace(string(data))
		if a != "" && !seen[a] {
			seen[a] = true
			aliases = append(aliases, a)
		}
	}
	return aliases, errs
}
