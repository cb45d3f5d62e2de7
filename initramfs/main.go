// Command initramfs builds the ants image: one gobusybox binary (ants' commands and
// u-root's, through mkuimage), the skeleton (ramfs-skel/), the boot scripts
// (bootscripts/ -> /lib/boot) and the kernel modules of modules.txt with their
// dependencies, compressed for the kernel to unpack.
//
//	go run ./initramfs -kernel build/kernel -o build/initramfs.cpio
package main

import (
	"flag"
	"fmt"
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
	mkuimage := fs.String("mkuimage", "build/bin/mkuimage", "mkuimage `binary`")
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
	raw := filepath.Join(*work, "image.cpio")
	margs := []string{"-format=cpio", "-o", raw, "-initcmd=/bbin/init", "-defaultsh=/bbin/antsh", "-skip-ldd"}
	for _, l := range links {
		margs = append(margs, "-files", filepath.Join(*work, "admin", l)+":bbin/"+l)
	}
	skel, err := os.ReadDir("ramfs-skel")
	if err != nil {
		return fmt.Errorf("reading the skeleton: %v", err)
	}
	for _, e := range skel {
		margs = append(margs, "-files", "ramfs-skel/"+e.Name()+":"+e.Name())
	}
	margs = append(margs, "-files", "bootscripts:lib/boot", "-files", filepath.Join(root, "lib/modules")+":lib/modules")
	margs = append(margs, cmds...)
	cmd := exec.Command(*mkuimage, margs...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mkuimage: %v", err)
	}
	size, err := initrd.Compress(raw, *out, *compress)
	if err != nil {
		return err
	}
	st, _ := os.Stat(raw)
	fmt.Printf("initramfs: %s: %.1f MiB (%s of %.1f MiB) in %.1f s\n", *out, float64(size)/(1<<20), *compress, float64(st.Size())/(1<<20), time.Since(start).Seconds())
	return os.Remove(raw)
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
