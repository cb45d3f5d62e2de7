// Command initramfs builds the ants image: one gobusybox binary (ants' commands and
// u-root's, through mkuimage's Go API), the admin program (cmds/admin), the
// skeleton (ramfs-skel/), the boot scripts (bootscripts/ -> /lib/boot) and the
// kernel modules of modules.txt with their dependencies, compressed for the kernel
// to unpack. The busybox binary and the modules go into one squashfs in the image
// (internal/payload; -payload cpio keeps them plain files of the cpio, the modules
// zstd-compressed each).
//
//	go run ./initramfs -kernel build/kernel -o build/initramfs.cpio
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ants/ants/internal/initrd"
	"github.com/ants/ants/internal/kmod"
	"github.com/ants/ants/internal/listfile"
	"github.com/ants/ants/internal/payload"
	"github.com/klauspost/compress/zstd"
	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/u-root/pkg/cpio"
	"github.com/u-root/uio/llog"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "initramfs: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("initramfs", flag.ContinueOnError)
	kernel := fs.String("kernel", "build/kernel", "kernel tree: `DIR`/lib/modules/RELEASE (as fetch-kernel.sh lays it out)")
	modules := fs.String("modules", "", "modules `DIR` (lib/modules/RELEASE); default: the only release under -kernel")
	out := fs.String("o", "build/initramfs.cpio", "output `file`")
	compress := fs.String("compress", "zstd", "zstd, gzip or none")
	work := fs.String("work", "build/work", "scratch `DIR`")
	cmdList := fs.String("commands", "initramfs/commands.txt", "commands of the busybox binary")
	modList := fs.String("modlist", "initramfs/modules.txt", "kernel modules to carry")
	pay := fs.String("payload", "squashfs", "where the busybox and the modules go: squashfs (one file the kernel unpacks as it is, mounted by PID 1) or cpio (plain files)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pay != "squashfs" && *pay != "cpio" {
		return fmt.Errorf("-payload %q: use squashfs or cpio", *pay)
	}
	sq := *pay == "squashfs"
	if sq {
		if _, err := exec.LookPath("mksquashfs"); err != nil {
			return fmt.Errorf("-payload squashfs needs mksquashfs: apt-get install squashfs-tools (or build with -payload cpio)")
		}
	}
	start := time.Now()
	modDir := *modules
	if modDir == "" {
		var err error
		if modDir, err = onlyRelease(filepath.Join(*kernel, "lib/modules")); err != nil {
			return err
		}
	}
	root := filepath.Join(*work, "root")
	if err := os.RemoveAll(*work); err != nil {
		return err
	}
	ix, err := kernelIndex(modDir)
	if err != nil {
		return err
	}
	n, err := copyModules(ix, modDir, root, *modList, !sq)
	if err != nil {
		return err
	}
	fmt.Printf("initramfs: %d modules for kernel %s\n", n, filepath.Base(modDir))

	cmds, err := listfile.Read(*cmdList)
	if err != nil {
		return err
	}
	// PID 1 and the admin shell are one program of their own (cmds/admin), beside
	// the busybox binary: /bbin/admin, with /bbin/init and /bbin/antsh links to it.
	links, err := buildAdmin(*work)
	if err != nil {
		return err
	}
	var files []string // host:archive
	for _, l := range links {
		files = append(files, filepath.Join(*work, "admin", l)+":bbin/"+l)
	}
	skel, err := os.ReadDir("ramfs-skel")
	if err != nil {
		return fmt.Errorf("reading the skeleton: %w", err)
	}
	for _, e := range skel {
		files = append(files, "ramfs-skel/"+e.Name()+":"+e.Name())
	}
	files = append(files, "bootscripts:lib/boot")
	if sq {
		boot := filepath.Join(*work, "boot")
		if err := bootModules(ix, modDir, boot); err != nil {
			return err
		}
		files = append(files, boot+":"+payload.BootDir)
	} else {
		files = append(files, filepath.Join(root, "lib/modules")+":lib/modules")
	}
	raw := filepath.Join(*work, "image.cpio")
	if err := buildImage(raw, cmds, files); err != nil {
		return err
	}
	if sq {
		if err := squash(raw, filepath.Join(root, "lib/modules"), *work); err != nil {
			return err
		}
	}
	size, err := initrd.Compress(raw, *out, *compress)
	if err != nil {
		return err
	}
	st, _ := os.Stat(raw)
	fmt.Printf("initramfs: %s: %.1f MiB (%s of %.1f MiB) in %.1f s\n", *out, float64(size)/(1<<20), *compress, float64(st.Size())/(1<<20), time.Since(start).Seconds())
	return os.Remove(raw)
}

// buildImage writes the uncompressed cpio raw with mkuimage's Go API (uimage), as
// `mkuimage -format=cpio -skip-ldd -initcmd=/bbin/init -defaultsh=/bbin/antsh` did
// when the builder ran that binary: the busybox binary of cmds (gobusybox), the
// files ("host:archive"; a symlink stays a symlink; no ldd, everything is static),
// u-root's base archive (the top directories, /dev/console, /etc/resolv.conf,
// /etc/localtime) and the links /init -> bbin/init and bin/sh, bin/defaultsh ->
// ../bbin/antsh. The busybox's generated sources go to a temporary directory
// outside the tree, where `go vet ./...` and `go test ./...` would take them for
// packages of ants.
//
// A call rather than a child process (docs/design.md, item 23): the build
// environment is a value, not variables in a child's environment; a failure is an
// error that wraps its cause (an unknown package, builder.ErrBusyboxFailed with
// the go build output), not an exit status after the binary's log; and no binary
// has to be built first. (The bench still builds build/bin/mkuimage, for its stock
// u-root image.)
func buildImage(raw string, cmds, files []string) error {
	tmp, err := os.MkdirTemp("", "ants-uimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	log := &llog.Logger{Level: slog.LevelInfo, Sink: func(level slog.Level, format string, args ...any) {
		fmt.Printf("initramfs: mkuimage: %v: %s\n", level, fmt.Sprintf(format, args...))
	}}
	env := golang.Default(golang.DisableCGO(), golang.WithGOOS("linux"), golang.WithGOARCH("amd64"))
	godebug, err := moduleGODEBUG()
	if err != nil {
		return err
	}
	err = uimage.Create(log,
		uimage.WithReplaceEnv(env),
		uimage.WithBaseArchive(uimage.DefaultRamfs()),
		uimage.WithTempDir(tmp),
		uimage.WithBusyboxCommands(cmds...),
		uimage.WithBusyboxBuildOpts(busyboxBuildOpts(godebug)),
		uimage.WithFiles(files...),
		uimage.WithSkipLDD(),
		uimage.WithInit("/bbin/init"),
		uimage.WithShell("/bbin/antsh"),
		uimage.WithCPIOOutput(raw))
	if err != nil {
		return fmt.Errorf("mkuimage: %w", err)
	}
	return nil
}

// busyboxBuildOpts are gobusybox's own build flags (no inlining, stripped, no
// build ID, -trimpath), with the GODEBUG defaults godebug linked in. gobusybox
// builds its generated tree outside ants' module, so without them the go command
// gives its programs the defaults of Go 1.20 (asynctimerchan=1, panicnil=1,
// rsa1024min=0, tls3des=1, tlsrsakex=1, x509negativeserial=1, ...): ants' own
// commands in it (sshd in `ants`, rootctl, hub, nsfs) would run with other timer
// and crypto semantics than PID 1 and the host tests, and sshd would take RSA
// keys under 1024 bits. The -ldflags come after gobusybox's and replace them; the
// go command puts its own -X of runtime.godebugDefault before the user's.
func busyboxBuildOpts(godebug string) *golang.BuildOpts {
	return &golang.BuildOpts{ExtraArgs: []string{"-ldflags=-s -w -buildid= -X=runtime.godebugDefault=" + godebug}}
}

// moduleGODEBUG is the GODEBUG defaults the go command gives a program of ants'
// module (from the go.mod's go line): what PID 1 and the tests run with.
func moduleGODEBUG() (string, error) {
	out, err := exec.Command("go", "list", "-f", "{{.DefaultGODEBUG}}", adminPkg).Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: the module's GODEBUG defaults: %v", adminPkg, err)
	}
	gd := strings.TrimSpace(string(out))
	if strings.ContainsAny(gd, " \t'\"") {
		return "", fmt.Errorf("go list %s: GODEBUG defaults %q: not one word", adminPkg, gd)
	}
	return gd, nil
}

// adminPkg is PID 1 and the admin shell; adminLinks are its names in /bbin.
const adminPkg = "./cmds/admin"

var adminLinks = []string{"init", "antsh"}

// buildAdmin builds cmds/admin into work/admin/admin, as small as the busybox is
// built (static, no symbol table), with adminLinks beside it; it returns the names
// to put in /bbin.
func buildAdmin(work string) ([]string, error) {
	dir := filepath.Join(work, "admin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "admin"), adminPkg)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("building %s: %v", adminPkg, err)
	}
	for _, l := range adminLinks {
		p := filepath.Join(dir, l)
		os.Remove(p)
		if err := os.Symlink("admin", p); err != nil {
			return nil, err
		}
	}
	return append([]string{"admin"}, adminLinks...), nil
}

// onlyRelease finds the one lib/modules/RELEASE directory.
func onlyRelease(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("no kernel modules: %v (run qemu/fetch-kernel.sh, or give -modules)", err)
	}
	var rels []string
	for _, e := range ents {
		if e.IsDir() {
			rels = append(rels, e.Name())
		}
	}
	if len(rels) != 1 {
		return "", fmt.Errorf("%s holds %d kernel releases (%s); name one with -modules", dir, len(rels), strings.Join(rels, ", "))
	}
	return filepath.Join(dir, rels[0]), nil
}

// kernelIndex reads the kernel's module index (modules.dep and the rest), once for
// copyModules and bootModules. A kernel package unpacked with dpkg-deb has no
// modules.dep: depmod makes it first.
func kernelIndex(modDir string) (*kmod.Index, error) {
	if _, err := os.Stat(filepath.Join(modDir, "modules.dep")); err != nil {
		rel, base := filepath.Base(modDir), filepath.Dir(filepath.Dir(filepath.Dir(modDir)))
		if out, err := exec.Command("depmod", "-b", base, rel).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("depmod -b %s %s: %v: %s (apt-get install kmod)", base, rel, err, out)
		}
	}
	return kmod.LoadIndex(modDir)
}

// copyModules puts the listed modules and their dependencies under
// root/lib/modules/RELEASE (zstd-compressed each if compress) and runs depmod there,
// so modules.dep and modules.alias describe exactly what the image carries.
func copyModules(ix *kmod.Index, modDir, root, list string, compress bool) (int, error) {
	rel := filepath.Base(modDir)
	names, err := listfile.Read(list)
	if err != nil {
		return 0, err
	}
	paths, err := ix.Closure(names)
	if err != nil {
		return 0, err
	}
	dst := filepath.Join(root, "lib/modules", rel)
	for _, p := range paths {
		copy := listfile.Copy
		if compress {
			copy = compressModule
		}
		if err := copy(filepath.Join(modDir, p), filepath.Join(dst, p)); err != nil {
			return 0, err
		}
	}
	for _, f := range []string{"modules.builtin", "modules.builtin.modinfo", "modules.order"} {
		if err := listfile.Copy(filepath.Join(modDir, f), filepath.Join(dst, f)); err != nil && !os.IsNotExist(err) {
			return 0, err
		}
	}
	if out, err := exec.Command("depmod", "-b", root, rel).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("depmod -b %s %s: %v: %s", root, rel, err, out)
	}
	// The .bin indexes are for kmod's own tools, which the image does not carry.
	bins, _ := filepath.Glob(filepath.Join(dst, "modules.*.bin"))
	for _, b := range bins {
		os.Remove(b)
	}
	sort.Strings(paths)
	return len(paths), nil
}

// compressModule writes a .ko as DST.zst (a plain copy for other files), for an
// image without a squashfs: zstd makes the unpacked initramfs and the memory it
// needs three times smaller; the kernel cannot decompress modules itself, so
// internal/kmod does it before init_module(2).
func compressModule(src, dst string) error {
	if !strings.HasSuffix(src, ".ko") {
		return listfile.Copy(src, dst)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	if err != nil {
		return err
	}
	defer enc.Close()
	return os.WriteFile(dst+".zst", enc.EncodeAll(b, nil), 0o644)
}

// bootModules copies the modules PID 1 needs to mount the payload (loop, squashfs
// and their dependencies, in load order) into dir, uncompressed (PID 1 hands each
// to finit_module(2) as it is; the image's compression covers them), with
// payload.Order naming them. Built-in ones are left out: a kernel with both
// built in gets an empty list. A kernel with neither cannot mount the payload.
func bootModules(ix *kmod.Index, modDir, dir string) error {
	paths, err := ix.Closure([]string{"loop", "squashfs"})
	if err != nil {
		return fmt.Errorf("%v: kernel %s cannot mount the image's squashfs; build with -payload cpio", err, ix.Release())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var order []string
	for _, p := range paths {
		if !strings.HasSuffix(p, ".ko") {
			return fmt.Errorf("%s: the kernel's modules are compressed; PID 1 loads the payload's modules uncompressed (build with -payload cpio)", p)
		}
		if err := listfile.Copy(filepath.Join(modDir, p), filepath.Join(dir, filepath.Base(p))); err != nil {
			return err
		}
		order = append(order, filepath.Base(p))
	}
	return os.WriteFile(filepath.Join(dir, payload.Order), []byte(strings.Join(order, "\n")+"\n"), 0o644)
}

// squashArgs are mksquashfs's options: zstd (the kernel decompresses it fastest of
// the squashfs formats its module has, and level 15 is 1.3% larger than 19 in half
// the build time), the default 128 KiB blocks (a page fault in the busybox reads
// one), owned by root, no extended attributes, and no times, so the same inputs
// make the same file.
var squashArgs = []string{"-comp", "zstd", "-Xcompression-level", "15", "-noappend", "-all-root", "-no-xattrs", "-quiet", "-mkfs-time", "0", "-all-time", "0"}

// squash moves the busybox binary out of the cpio raw into a squashfs with the
// modules tree mods (lib/modules), and puts that into the cpio as payload.File,
// with an empty payload.BinTarget and payload.ModulesTarget for PID 1 to bind
// them onto (internal/payload).
func squash(raw, mods, work string) error {
	f, err := os.Open(raw)
	if err != nil {
		return err
	}
	defer f.Close() // the records read from it as they are written out
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(f))
	if err != nil {
		return fmt.Errorf("reading %s: %v", raw, err)
	}
	stage := filepath.Join(work, "payload")
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return err
	}
	var out []cpio.Record
	found := false
	for _, r := range recs {
		if r.Name == payload.BinTarget {
			b, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(stage, payload.Bin), b, os.FileMode(r.Mode&0o777)); err != nil {
				return err
			}
			r = cpio.StaticRecord(nil, cpio.Info{Name: r.Name, Mode: r.Mode, NLink: 1})
			found = true
		}
		out = append(out, r)
	}
	if !found {
		return fmt.Errorf("%s has no %s", raw, payload.BinTarget)
	}
	// mksquashfs puts each source at the top by its base name: bb and modules.
	if err := os.Rename(mods, filepath.Join(stage, payload.Modules)); err != nil {
		return err
	}
	img := filepath.Join(work, payload.File)
	args := append([]string{filepath.Join(stage, payload.Bin), filepath.Join(stage, payload.Modules), img}, squashArgs...)
	if b, err := exec.Command("mksquashfs", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("mksquashfs %s: %v: %s", strings.Join(args, " "), err, b)
	}
	b, err := os.ReadFile(img)
	if err != nil {
		return err
	}
	out = append(out,
		cpio.Directory(payload.ModulesTarget, 0o755),
		cpio.StaticRecord(b, cpio.Info{Name: payload.File, Mode: cpio.S_IFREG | 0o444, NLink: 1}))
	tmp := raw + ".tmp"
	w, err := os.Create(tmp)
	if err != nil {
		return err
	}
	cw := cpio.Newc.Writer(w)
	if err := cpio.WriteRecords(cw, out); err != nil {
		w.Close()
		return err
	}
	if err := cpio.WriteTrailer(cw); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, raw)
}
