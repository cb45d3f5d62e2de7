// Command initramfs builds the ants image: one gobusybox binary (ants' commands and
// u-root's, through mkuimage's Go API), the admin program (cmds/admin), the
// skeleton (ramfs-skel/), the boot scripts (bootscripts/ -> /lib/boot) and the
// kernel modules of modules.txt with their dependencies, compressed for the kernel
// to unpack.
//
//	go run ./initramfs -kernel build/kernel -o build/initramfs.cpio
package main

import (
	"flag"
	"fmt"
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
	"github.com/klauspost/compress/zstd"
	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/uimage"
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
	if err := fs.Parse(args); err != nil {
		return err
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
	n, err := copyModules(modDir, root, *modList)
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
	files = append(files, "bootscripts:lib/boot", filepath.Join(root, "lib/modules")+":lib/modules")
	raw := filepath.Join(*work, "image.cpio")
	if err := buildImage(raw, cmds, files); err != nil {
		return err
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
	err = uimage.Create(log,
		uimage.WithReplaceEnv(env),
		uimage.WithBaseArchive(uimage.DefaultRamfs()),
		uimage.WithTempDir(tmp),
		uimage.WithBusyboxCommands(cmds...),
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

// copyModules puts the listed modules and their dependencies under
// root/lib/modules/RELEASE and runs depmod there, so modules.dep and modules.alias
// describe exactly what the image carries.
func copyModules(modDir, root, list string) (int, error) {
	rel := filepath.Base(modDir)
	if _, err := os.Stat(filepath.Join(modDir, "modules.dep")); err != nil {
		// A kernel package unpacked with dpkg-deb has no modules.dep: depmod makes it.
		base := filepath.Dir(filepath.Dir(filepath.Dir(modDir)))
		if out, err := exec.Command("depmod", "-b", base, rel).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("depmod -b %s %s: %v: %s (apt-get install kmod)", base, rel, err, out)
		}
	}
	ix, err := kmod.LoadIndex(modDir)
	if err != nil {
		return 0, err
	}
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
		if err := compressModule(filepath.Join(modDir, p), filepath.Join(dst, p)); err != nil {
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

// compressModule writes a .ko as DST.zst (a plain copy for other files). Modules are
// three quarters of the image: zstd makes the unpacked initramfs, its move into the
// admin tmpfs and the memory it needs three times smaller; the kernel cannot
// decompress modules itself, so internal/kmod does it before init_module(2).
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
