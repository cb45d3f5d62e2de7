// Command bench measures the ants image against stock u-root and the kernel floor:
// boot time to the prompt (host wall clock and guest uptime), init overhead, image
// size beside Debian's initramfs-tools image, memory, and for ants the demo root,
// the escape key under a hung root and rootctl restart; with the build times.
// `make bench` runs it; `make bench QUICK=1` is the short check that `make test`
// runs. See docs/performance.md.
//
//	go run ./qemu/bench [-n 5] [-quick] [-v]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ants/ants/internal/listfile"
	"github.com/ants/ants/internal/qemu"
)

// result is everything one run measured; it is written as JSON.
type result struct {
	Date       string           `json:"date"`
	Machine    string           `json:"machine"`
	Kernel     string           `json:"kernel"`
	Quick      bool             `json:"quick"`
	N          int              `json:"n"`
	Warmup     int              `json:"warmup"`
	Images     []image          `json:"images"`
	DebianErr  string           `json:"debian_error,omitempty"`
	Boots      []boot           `json:"boots"`
	Demo       []demo           `json:"demo_root"`
	Hung       []hung           `json:"hung_root"`
	MinMem     map[string]int   `json:"min_mem_mib,omitempty"` // 0: none in range
	MemTrials  map[string][]int `json:"mem_trials,omitempty"`  // +m reached, -m did not
	BuildClean float64          `json:"build_clean_s,omitempty"`
	BuildIncr  float64          `json:"build_incremental_s,omitempty"`
	BuildErr   string           `json:"build_error,omitempty"`
	Failures   []string         `json:"failures,omitempty"`
	Seconds    float64          `json:"total_s"`
}

func main() {
	quick := flag.Bool("quick", os.Getenv("QUICK") == "1", "N=1, no warm-up, memory bisection, Debian image or build timing ($QUICK=1)")
	n := flag.Int("n", 5, "boots of each image (after one warm-up)")
	hungN := flag.Int("hung", 3, "runs of the hung-root scenario (1 with -quick)")
	verbose := flag.Bool("v", false, "the machines' logs on stderr too (the steps always are; a failed boot's log is)")
	bootsOnly := flag.Bool("boots", false, "only the boots of A, B and C (for working on boot speed): no demo or hung root, memory bisection, Debian image or build timing")
	flag.Parse()
	if err := os.Chdir(qemu.Root()); err != nil {
		fatal(err)
	}
	r := &result{Date: time.Now().Format(time.RFC3339), Quick: *quick, N: *n, Warmup: 1, Machine: machine()}
	if *quick {
		r.N, r.Warmup, *hungN = 1, 0, 1
	}
	if *bootsOnly {
		*quick, *hungN = true, 0
		r.Quick = true
	}
	// The steps, always: a full run takes many minutes.
	logf := func(f string, a ...any) {
		fmt.Fprintf(os.Stderr, "bench: "+f+"\n", a...)
	}
	start := time.Now()
	work := "build/bench/work"
	if err := os.MkdirAll(work, 0o755); err != nil {
		fatal(err)
	}

	// The build, timed (full runs): from no image, then after touching one file.
	if !*quick {
		logf("timing make all (clean: no image) and incremental (one .go file touched)")
		os.Remove("build/initramfs.cpio")
		if s, err := timeMake(); err != nil {
			r.BuildErr = err.Error()
		} else {
			r.BuildClean = s
			now := time.Now()
			os.Chtimes("cmds/admin/main.go", now, now)
			if s, err := timeMake(); err != nil {
				r.BuildErr = err.Error()
			} else {
				r.BuildIncr = s
			}
		}
	}
	if _, err := os.Stat("build/initramfs.cpio"); err != nil {
		logf("build/initramfs.cpio missing: make all")
		if _, err := timeMake(); err != nil {
			fatal(err)
		}
	}
	kernel, _ := filepath.Abs("build/vmlinuz")
	release, err := kernelRelease()
	if err != nil {
		fatal(err)
	}
	r.Kernel = release

	// The images. A is copied so that others rebuilding the image do not change it
	// under the run.
	a := image{Key: "A", Name: "ants (as shipped)", Path: filepath.Join(work, "ants.cpio")}
	if err := listfile.Copy("build/initramfs.cpio", a.Path); err != nil {
		fatal(err)
	}
	st, _ := os.Stat(a.Path)
	a.Compressed = st.Size()
	if a.Raw, err = rawSize(a.Path); err != nil {
		fatal(fmt.Errorf("decompressing the ants image: %v", err))
	}
	logf("building stock u-root (B) with build/bin/mkuimage")
	b, err := buildStock(work)
	if err != nil {
		fatal(err)
	}
	c, err := buildFloor(work)
	if err != nil {
		fatal(err)
	}
	r.Images = []image{a, b, c}
	if *quick {
		r.DebianErr = "not built with QUICK=1"
	} else {
		logf("building Debian's initramfs-tools image for %s", release)
		d, err := buildDebian(work, release)
		if err != nil {
			r.DebianErr = err.Error()
		} else {
			r.Images = append(r.Images, d)
		}
	}
	for i := range r.Images {
		if r.Images[i].Path != "" {
			r.Images[i].Path, _ = filepath.Abs(r.Images[i].Path)
		}
	}
	imgs := map[string]string{"A": r.Images[0].Path, "B": r.Images[1].Path, "C": r.Images[2].Path}
	bootFn := map[string]func(*tb, string, string, int, bool) boot{"A": bootA, "B": bootB, "C": bootC}

	// Boots, alternating A B C; round 0 is the warm-up.
	for round := 1 - r.Warmup; round <= r.N; round++ {
		for _, k := range []string{"A", "B", "C"} {
			var bt boot
			err := run(fmt.Sprintf("bench-%s-%d", k, round), func(t *tb) {
				t.verbose = *verbose
				bt = bootFn[k](t, kernel, imgs[k], 256, true)
			})
			bt.Image, bt.Round, bt.MemMiB = k, round, 256
			if err != nil {
				bt.Err = err.Error()
				r.Failures = append(r.Failures, fmt.Sprintf("image %s round %d did not reach its prompt: %v", k, round, err))
			}
			logf("boot %s round %d: wall %.2f s, guest %.2f s, init overhead %.2f s %s", k, round, bt.Wall, bt.Guest, bt.Overhead, bt.Err)
			r.Boots = append(r.Boots, bt)
		}
	}

	// ants only: the demo root from a disk, and the hung root.
	err = nil
	if !*bootsOnly {
		err = run("bench-demoroot", func(t *tb) {
			t.verbose = *verbose
			disk := qemu.MakeDisk(t, qemu.DemoRoot(t), "benchroot", false)
			for i := 0; i < r.N; i++ {
				var d demo
				if err := run(fmt.Sprintf("bench-demo-%d", i+1), func(t *tb) { d = bootDemo(t, kernel, imgs["A"], disk) }); err != nil {
					d.Err = err.Error()
					r.Failures = append(r.Failures, fmt.Sprintf("demo root %d: %v", i+1, err))
				}
				logf("demo root %d: wall %.2f s, guest %.2f s %s", i+1, d.Wall, d.Guest, d.Err)
				r.Demo = append(r.Demo, d)
			}
		})
	}
	if err != nil {
		r.Failures = append(r.Failures, err.Error())
	}
	for i := 0; i < *hungN; i++ {
		var h hung
		if err := run(fmt.Sprintf("bench-hung-%d", i+1), func(t *tb) { t.verbose = *verbose; h = hungRoot(t, kernel, imgs["A"]) }); err != nil {
			h.Err = err.Error()
			r.Failures = append(r.Failures, fmt.Sprintf("hung root %d: %v", i+1, err))
		}
		logf("hung root %d: escape %.0f ms, restart %.2f s %s", i+1, h.EscapeMS, h.RestartS, h.Err)
		r.Hung = append(r.Hung, h)
	}

	// The smallest memory that reaches the prompt, bisected (1 run each).
	if !*quick {
		r.MinMem, r.MemTrials = map[string]int{}, map[string][]int{}
		for _, k := range []string{"A", "B", "C"} {
			limit := 4 * maxWall(r.Boots, k)
			if limit < 60 {
				limit = 60
			}
			ok := func(mem int) bool {
				bootTimeout = time.Duration(limit * float64(time.Second))
				defer func() { bootTimeout = defaultBootTimeout }()
				err := run(fmt.Sprintf("bench-mem-%s-%d", k, mem), func(t *tb) {
					bootFn[k](t, kernel, imgs[k], mem, false)
				})
				good := err == nil
				// A boot short of memory is expected here: drop its console log.
				os.Remove(fmt.Sprintf("build/vmlogs/bench-mem-%s-%d.log", k, mem))
				logf("memory %s -m %d: %v", k, mem, map[bool]string{true: "reached", false: "did not reach"}[good])
				if good {
					r.MemTrials[k] = append(r.MemTrials[k], mem)
				} else {
					r.MemTrials[k] = append(r.MemTrials[k], -mem)
				}
				return good
			}
			r.MinMem[k] = bisect(32, 256, 4, ok)
		}
	}
	r.Seconds = since(start)

	out := report(r)
	fmt.Print(out)
	if err := writeJSON(r); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if len(r.Failures) > 0 {
		fmt.Fprintf(os.Stderr, "bench: FAILED: %d boot(s) did not reach their end point:\n", len(r.Failures))
		for _, f := range r.Failures {
			fmt.Fprintln(os.Stderr, "  "+firstLine(f))
		}
		fmt.Fprintln(os.Stderr, "bench: consoles of failed boots are in build/vmlogs/bench-*.log")
		os.Exit(1)
	}
}

// bisect finds the smallest m in [lo, hi] for which ok(m), to within step, testing
// each candidate once; ok(hi) is assumed (the measured boots ran there). It returns
// 0 if even hi fails.
func bisect(lo, hi, step int, ok func(int) bool) int {
	if ok(lo) {
		return lo
	}
	if !ok(hi) {
		return 0
	}
	for hi-lo > step {
		mid := (lo + hi) / 2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

func maxWall(bs []boot, k string) float64 {
	m := 0.0
	for _, b := range bs {
		if b.Image == k && b.Wall > m {
			m = b.Wall
		}
	}
	return m
}

func timeMake() (float64, error) {
	start := time.Now()
	cmd := exec.Command("make", "all")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("make all: %v", err)
	}
	return since(start), nil
}

func kernelRelease() (string, error) {
	ents, err := os.ReadDir("build/kernel/lib/modules")
	if err != nil {
		return "", fmt.Errorf("no build/kernel/lib/modules (run make): %v", err)
	}
	for _, e := range ents {
		if e.IsDir() {
			return e.Name(), nil
		}
	}
	return "", fmt.Errorf("no release in build/kernel/lib/modules")
}

func machine() string {
	model := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kvm := "no /dev/kvm"
	if _, err := os.Stat("/dev/kvm"); err == nil {
		kvm = "/dev/kvm present (unused)"
	}
	return fmt.Sprintf("%d CPUs (nproc), %s, QEMU -accel tcg (%s)", runtime.NumCPU(), model, kvm)
}

func writeJSON(r *result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	name := filepath.Join("build/bench", "bench-"+time.Now().Format("20060102-150405")+".json")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile("build/bench/latest.json", b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s and build/bench/latest.json\n", name)
	return nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "bench: FAILED: %v\n", err)
	os.Exit(1)
}
