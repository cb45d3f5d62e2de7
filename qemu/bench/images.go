package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ants/ants/internal/initrd"
	"github.com/ants/ants/internal/listfile"
	"github.com/klauspost/compress/zstd"
	"github.com/u-root/u-root/pkg/cpio"
)

// image is one initramfs under test, with its sizes.
type image struct {
	Key        string `json:"key"`
	Name       string `json:"name"`
	Path       string `json:"path"`
	Compressed int64  `json:"compressed_bytes"`
	Raw        int64  `json:"uncompressed_bytes"`
	Note       string `json:"note,omitempty"`
}

// uRootCommands are the u-root lines of initramfs/commands.txt.
func uRootCommands() ([]string, error) {
	all, err := listfile.Read("initramfs/commands.txt")
	var out []string
	for _, l := range all {
		if strings.HasPrefix(l, "github.com/u-root/u-root/") {
			out = append(out, l)
		}
	}
	return out, err
}

// buildStock builds image B: u-root's init and gosh (goshsmall: a plain prompt) with
// the same core commands as ants, by the same mkuimage, compressed as ants is.
func buildStock(dir string) (image, error) {
	cmds, err := uRootCommands()
	if err != nil {
		return image{}, err
	}
	raw := filepath.Join(dir, "stock.raw.cpio")
	args := []string{"-format=cpio", "-o", raw, "-initcmd=init", "-defaultsh=gosh", "-skip-ldd",
		"-go-build-tags=goshsmall",
		"github.com/u-root/u-root/cmds/core/init", "github.com/u-root/u-root/cmds/core/gosh"}
	args = append(args, cmds...)
	cmd := exec.Command("build/bin/mkuimage", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return image{}, fmt.Errorf("mkuimage (stock u-root): %v\n%s", err, out)
	}
	out := filepath.Join(dir, "stock.cpio")
	n, err := initrd.Compress(raw, out, "zstd") // as the builder compresses A
	if err != nil {
		return image{}, err
	}
	st, err := os.Stat(raw)
	if err != nil {
		return image{}, err
	}
	return image{Key: "B", Name: "stock u-root (init+gosh)", Path: out, Compressed: n, Raw: st.Size()}, nil
}

// rawSize is the size of a zstd-compressed file once decompressed.
func rawSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r, err := zstd.NewReader(f, zstd.WithDecoderMaxWindow(1<<30))
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return io.Copy(io.Discard, r)
}

// buildGuestCmd builds the bench's command qemu/bench/NAME as a static binary for
// the guest at bin.
func buildGuestCmd(name, bin string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./qemu/bench/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %v\n%s", name, err, out)
	}
	return nil
}

// buildFloor builds image C: floorinit as /init, /dev/console and /proc, in an
// uncompressed newc cpio (it is small; the kernel unpacks it as is).
func buildFloor(dir string) (image, error) {
	bin := filepath.Join(dir, "floorinit")
	if err := buildGuestCmd("floorinit", bin); err != nil {
		return image{}, err
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		return image{}, err
	}
	out := filepath.Join(dir, "floor.cpio")
	f, err := os.Create(out)
	if err != nil {
		return image{}, err
	}
	w := cpio.Newc.Writer(f)
	recs := []cpio.Record{
		cpio.Directory("dev", 0o755),
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.Directory("proc", 0o555),
		cpio.StaticFile("init", string(b), 0o755),
	}
	if err := cpio.WriteRecords(w, recs); err != nil {
		f.Close()
		return image{}, err
	}
	if err := cpio.WriteTrailer(w); err != nil {
		f.Close()
		return image{}, err
	}
	if err := f.Close(); err != nil {
		return image{}, err
	}
	st, _ := os.Stat(out)
	return image{Key: "C", Name: "kernel floor (static Go /init)", Path: out, Compressed: st.Size(), Raw: st.Size(), Note: "uncompressed cpio"}, nil
}

// buildDebian builds Debian's own initramfs-tools image for the kernel release, as
// the size reference. It installs initramfs-tools if missing, and links
// /lib/modules/RELEASE to build/kernel's modules while it runs if the host lacks
// them (removing the link, and any directory it made, afterwards).
func buildDebian(dir, release string) (image, error) {
	img := image{Key: "D", Name: "Debian initramfs-tools (reference)"}
	if _, err := exec.LookPath("mkinitramfs"); err != nil {
		if os.Geteuid() != 0 {
			return img, fmt.Errorf("initramfs-tools is not installed and we are not root")
		}
		cmd := exec.Command("apt-get", "install", "-y", "--no-install-recommends", "initramfs-tools")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return img, fmt.Errorf("apt-get install initramfs-tools: %v\n%s", err, tail(string(out), 5))
		}
	}
	modDir := filepath.Join("/lib/modules", release)
	if _, err := os.Stat(modDir); os.IsNotExist(err) {
		src, err := filepath.Abs(filepath.Join("build/kernel/lib/modules", release))
		if err != nil {
			return img, err
		}
		if _, err := os.Stat("/lib/modules"); os.IsNotExist(err) {
			if err := os.MkdirAll("/lib/modules", 0o755); err != nil {
				return img, err
			}
			defer os.Remove("/lib/modules")
		}
		if err := os.Symlink(src, modDir); err != nil {
			return img, err
		}
		defer os.Remove(modDir)
	}
	// mkinitramfs reads /boot/config-RELEASE (which compressors the kernel takes);
	// fetch-kernel.sh keeps only vmlinuz, so take the config from the same package.
	cfgPath := filepath.Join("/boot", "config-"+release)
	if _, err := os.Stat(cfgPath); os.IsNotExist(err) {
		cfg, err := kernelConfig(dir, release)
		if err != nil {
			return img, fmt.Errorf("no %s: %v", cfgPath, err)
		}
		if _, err := os.Stat("/boot"); os.IsNotExist(err) {
			if err := os.MkdirAll("/boot", 0o755); err != nil {
				return img, err
			}
			defer os.Remove("/boot")
		}
		if err := os.Symlink(cfg, cfgPath); err != nil {
			return img, err
		}
		defer os.Remove(cfgPath)
	}
	out := filepath.Join(dir, "debian-initrd.img")
	start := time.Now()
	cmd := exec.Command("mkinitramfs", "-o", out, "-d", "/etc/initramfs-tools", "-r", "/", release)
	if b, err := cmd.CombinedOutput(); err != nil {
		return img, fmt.Errorf("mkinitramfs: %v: %s", err, tail(string(b), 3))
	}
	st, err := os.Stat(out)
	if err != nil {
		return img, err
	}
	img.Path, img.Compressed = out, st.Size()
	// Its uncompressed size, as for A: the cpio stream decompressed (Debian 12's
	// mkinitramfs writes one zstd stream when there is no early microcode cpio).
	if n, err := rawSize(out); err == nil {
		img.Raw = n
	} else {
		img.Note = "uncompressed size unknown (not one zstd stream)"
	}
	img.Note = strings.TrimSpace(img.Note + fmt.Sprintf(" built in %.1f s", time.Since(start).Seconds()))
	return img, nil
}

// kernelConfig returns the kernel's config file, taken once from its Debian package
// (apt-get download, as qemu/fetch-kernel.sh does) and kept in dir.
func kernelConfig(dir, release string) (string, error) {
	cfg, err := filepath.Abs(filepath.Join(dir, "config-"+release))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(cfg); err == nil {
		return cfg, nil
	}
	tmp, err := os.MkdirTemp("", "ants-bench-kdeb-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	os.Chmod(tmp, 0o755) // apt-get download drops privileges to _apt
	pkg := "linux-image-" + release
	dl := exec.Command("apt-get", "download", "-q", pkg)
	dl.Dir = tmp
	if b, err := dl.CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get download %s: %v: %s", pkg, err, tail(string(b), 2))
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, pkg+"_*.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("apt-get download %s: no .deb", pkg)
	}
	sh := exec.Command("sh", "-c", `dpkg-deb --fsys-tarfile "$1" | tar -xOf - "./boot/config-$2" > "$3.tmp" && mv "$3.tmp" "$3"`, "sh", debs[0], release, cfg)
	if b, err := sh.CombinedOutput(); err != nil {
		return "", fmt.Errorf("extracting boot/config-%s: %v: %s", release, err, tail(string(b), 2))
	}
	return cfg, nil
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}
