package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The drivers row (issue 13): what the drivers for real machines cost, in size and
// in boot time, measured against the same image with only the modules a QEMU
// machine of the tests uses. Coldplug loads only the drivers of the devices
// present, so the cost is the kernel unpacking a bigger image and the module
// index to read, not the drivers' own init.

// qemuModules are the modules of initramfs/modules.txt a QEMU machine of the tests
// needs: virtio, e1000 (QEMU's default NIC), the power button's input events, the
// file systems and the network roots. The rest of the list is for real machines.
var qemuModules = []string{
	"virtio_pci", "virtio_blk", "virtio_net", "virtio_scsi", "virtio_console", "virtio_rng",
	"e1000", "evdev", "button",
	"ext4", "vfat", "overlay", "fuse",
	"9p", "9pnet_fd", "9pnet_virtio", "nfs", "nfsv3", "nfsv4", "af_packet",
}

// driversRun is one boot of the pair: A (as shipped) or A- (QEMU's modules only).
type driversRun struct {
	Image string  `json:"image"` // "A" or "A-"
	Round int     `json:"round"`
	Wall  float64 `json:"wall_s"`
	Guest float64 `json:"guest_s"` // kernel uptime at the prompt
	Init  float64 `json:"init_start_s"`
	Err   string  `json:"error,omitempty"`
}

// buildQEMUOnly builds ants with qemuModules only, as the builder builds A.
func buildQEMUOnly(dir string) (image, error) {
	dir, err := filepath.Abs(dir) // the builder's tools run elsewhere
	if err != nil {
		return image{}, err
	}
	list := filepath.Join(dir, "modules-qemu.txt")
	body := "# the modules a QEMU test machine uses (qemu/bench/drivers.go)\n" + strings.Join(qemuModules, "\n") + "\n"
	if err := os.WriteFile(list, []byte(body), 0o644); err != nil {
		return image{}, err
	}
	out := filepath.Join(dir, "ants-qemu-only.cpio")
	cmd := exec.Command("go", "run", "./initramfs", "-kernel", "build/kernel", "-modlist", list,
		"-compress", "zstd", "-work", filepath.Join(dir, "qemu-only"), "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return image{}, fmt.Errorf("building ants with QEMU's modules only: %v\n%s", err, b)
	}
	st, err := os.Stat(out)
	if err != nil {
		return image{}, err
	}
	raw, err := rawSize(out)
	if err != nil {
		return image{}, err
	}
	return image{Key: "A-", Name: "ants with QEMU's drivers only", Path: out, Compressed: st.Size(), Raw: raw,
		Note: fmt.Sprintf("%d modules of initramfs/modules.txt", len(qemuModules))}, nil
}

// drivers boots A and A- alternately, N rounds (no warm-up: the boots row warmed
// the host up), to the admin prompt.
func (b *bench) drivers() {
	logf("building ants with QEMU's drivers only (A-), for the drivers row")
	im, err := buildQEMUOnly(work)
	if err != nil {
		b.fail("drivers row: %v", err)
		return
	}
	im.Path, _ = filepath.Abs(im.Path)
	b.r.Images = append(b.r.Images, im)
	for round := 1; round <= b.r.N; round++ {
		for _, k := range []string{"A", "A-"} {
			path := b.imgs["A"]
			if k == "A-" {
				path = im.Path
			}
			s := newSession(fmt.Sprintf("bench-drivers-%s-%d", k, round), b.verbose)
			bt, err := bootA(s, b.kernel, path, 256, true, bootTimeout)
			err = s.end(err)
			d := driversRun{Image: k, Round: round, Wall: bt.Wall, Guest: bt.Guest, Init: bt.InitStart}
			if err != nil {
				d.Err = err.Error()
				b.fail("drivers row, %s round %d: %v", k, round, err)
			}
			logf("drivers %s round %d: wall %.2f s, guest %.2f s %s", k, round, d.Wall, d.Guest, d.Err)
			b.r.Drivers = append(b.r.Drivers, d)
		}
	}
}

// driversReport is the row's table: sizes, and the boot to the prompt pair by pair.
func driversReport(r *result) string {
	if len(r.Drivers) == 0 {
		return ""
	}
	var a, m *image
	for i := range r.Images {
		switch r.Images[i].Key {
		case "A":
			a = &r.Images[i]
		case "A-":
			m = &r.Images[i]
		}
	}
	by := func(k string) map[int]driversRun {
		out := map[int]driversRun{}
		for _, d := range r.Drivers {
			if d.Image == k && d.Err == "" {
				out[d.Round] = d
			}
		}
		return out
	}
	A, M := by("A"), by("A-")
	var guest, wall, diff []float64
	var ga, gm []float64
	for i, x := range A {
		if y, ok := M[i]; ok && y.Guest > 0 && y.Wall > 0 {
			guest = append(guest, x.Guest/y.Guest)
			wall = append(wall, x.Wall/y.Wall)
			diff = append(diff, x.Guest-y.Guest)
			ga, gm = append(ga, x.Guest), append(gm, y.Guest)
		}
	}
	var w strings.Builder
	fmt.Fprintf(&w, "\n| drivers for real machines (issue 13) | A: as shipped | A-: QEMU's drivers only | A/A- |\n|---|---|---|---|\n")
	if a != nil && m != nil {
		fmt.Fprintf(&w, "| compressed image | %s | %s | %.2f× (+%s) |\n", mib(a.Compressed), mib(m.Compressed),
			float64(a.Compressed)/float64(m.Compressed), mib(a.Compressed-m.Compressed))
		fmt.Fprintf(&w, "| uncompressed image | %s | %s | %.2f× |\n", mib(a.Raw), mib(m.Raw), float64(a.Raw)/float64(m.Raw))
	}
	fmt.Fprintf(&w, "| guest s, kernel uptime at the prompt (%d pairs) | %s | %s | %s (A − A-: %s s) |\n", len(guest),
		stats(ga).format(2), stats(gm).format(2), stats(guest).format(3), stats(diff).format(2))
	fmt.Fprintf(&w, "| wall s, QEMU start to the prompt, A/A- | | | %s |\n", stats(wall).format(3))
	return w.String()
}
