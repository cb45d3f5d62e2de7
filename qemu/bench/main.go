// Command bench measures the ants image against stock u-root and the kernel floor:
// boot time to the prompt (host wall clock and guest uptime), init overhead, image
// size beside Debian's initramfs-tools image, memory, and for ants the demo root,
// the escape key under a hung root and rootctl restart beside a cold boot of the same
// root, one key's echo over the serial line in each shell against its floor, N guests
// at once from one NFS export (the fleet), and Debian with systemd from one disk
// booted by ants and by Debian's own initramfs-tools image (debboot); with the
// build times.
// `make bench` runs it; `make bench QUICK=1` is the short check that `make test`
// runs. See docs/performance.md.
//
//	go run ./qemu/bench [-n 5] [-quick] [-fleet 1,2,4] [-keys 50] [-only PARTS] [-v]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ants/ants/internal/listfile"
	"github.com/ants/ants/internal/qvm"
)

// result is everything one run measured; it is written as JSON.
type result struct {
	Date       string           `json:"date"`
	Machine    string           `json:"machine"`
	Kernel     string           `json:"kernel"`
	Quick      bool             `json:"quick"`
	NIC        string           `json:"nic,omitempty"` // -nic: the 9P root's NIC model
	N          int              `json:"n"`
	Warmup     int              `json:"warmup"`
	Images     []image          `json:"images"`
	DebianErr  string           `json:"debian_error,omitempty"`
	Boots      []boot           `json:"boots"`
	Demo       []demo           `json:"demo_root"`
	NFS        []demo           `json:"nfs_root,omitempty"`   // alternated with Demo, round by round
	NineP      []demo           `json:"ninep_root,omitempty"` // likewise, over 9P from diod
	Hung       []hung           `json:"hung_root"`
	Echo       []echoRun        `json:"key_echo,omitempty"`
	Fleet      []fleetRun       `json:"fleet,omitempty"`
	Drivers    []driversRun     `json:"drivers,omitempty"`        // issue 13: A against A- (QEMU's modules only)
	DebBoot    []debRun         `json:"debian_systemd,omitempty"` // issue 15, goal 6: A against D, Debian with systemd
	MinMem     map[string]int   `json:"min_mem_mib,omitempty"`    // 0: none in range
	MemTrials  map[string][]int `json:"mem_trials,omitempty"`     // +m reached, -m did not
	BuildClean float64          `json:"build_clean_s,omitempty"`
	BuildIncr  float64          `json:"build_incremental_s,omitempty"`
	BuildErr   string           `json:"build_error,omitempty"`
	Failures   []string         `json:"failures,omitempty"`
	Seconds    float64          `json:"total_s"`
}

// config is what the flags ask for.
type config struct {
	quick, verbose   bool
	n, warmup, hungN int
	keys             int    // keys typed per shell for the key echo row
	echoFull         bool   // the root console's backlog filled before its keys (-echo-full)
	nic              string // the hung-root scenario's NIC model ("" = QEMU's default, an e1000)
	quickFlag        bool   // -quick (or QUICK=1) itself; quick is also set by -only
	fleet            []int
	parts            map[string]bool // the parts to run: build, boots, drivers, debian, debboot, demo, echo, hung, fleet, mem
}

// allParts are the bench's parts, in the order they run.
var allParts = []string{"build", "boots", "drivers", "debian", "debboot", "demo", "echo", "hung", "fleet", "mem"}

func parseFlags() config {
	var c config
	flag.BoolVar(&c.quick, "quick", os.Getenv("QUICK") == "1", "N=1, no warm-up, memory bisection or build timing, Debian's image only for debboot's one pair; the fleet with 1 and 2 guests ($QUICK=1)")
	flag.IntVar(&c.n, "n", 5, "boots of each image (after one warm-up)")
	flag.IntVar(&c.hungN, "hung", 3, "runs of the hung-root scenario, each with a cold boot of the same root (1 with -quick)")
	keys := flag.Int("keys", 50, "keys typed in each shell for the key echo row (10 with -quick)")
	flag.BoolVar(&c.echoFull, "echo-full", false, "key echo: fill the root console's backlog (console.RingSize, 64 KiB) before its keys, as after a while of use (about 30 s more)")
	fleet := flag.String("fleet", "", "guests booted at once from one NFS export, a run per count (default 1,2,4; 1,2 with -quick; 0: none)")
	flag.StringVar(&c.nic, "nic", "", "the NIC model of the 9P root's boots (hung part) and the fleet's guests, as QEMU's -nic model= (default QEMU's own, an e1000; virtio-net-pci for virtio)")
	flag.BoolVar(&c.verbose, "v", false, "the machines' consoles on stderr as they come (the steps always are; a failed boot's console is kept in build/vmlogs)")
	bootsOnly := flag.Bool("boots", false, "only the boots of A, B and C (for working on boot speed): -only boots")
	only := flag.String("only", "", "only these parts, comma-separated: "+strings.Join(allParts, ",")+" (default all; with -quick boots,debboot,demo,echo,hung,fleet)")
	flag.Parse()
	c.warmup = 1
	c.keys = *keys
	c.quickFlag = c.quick
	if c.quick {
		c.n, c.warmup, c.hungN = 1, 0, 1
		if !flagSet("keys") {
			c.keys = 10
		}
	}
	if *fleet == "" {
		*fleet = "1,2,4"
		if c.quick {
			*fleet = "1,2"
		}
	}
	var err error
	if c.fleet, err = parseFleet(*fleet); err != nil {
		fatal(err)
	}
	if *bootsOnly {
		*only = "boots"
	}
	c.parts = map[string]bool{}
	switch {
	case *only != "":
		for _, p := range strings.Split(*only, ",") {
			if !slices.Contains(allParts, p) {
				fatal(fmt.Errorf("-only: no part %q (%s)", p, strings.Join(allParts, ",")))
			}
			c.parts[p] = true
		}
		c.quick = c.quick || !c.parts["build"] && !c.parts["debian"] && !c.parts["mem"]
	case c.quick:
		// debboot: one pair, no 9P boot (about 1.5 minutes with building D).
		for _, p := range []string{"boots", "debboot", "demo", "echo", "hung", "fleet"} {
			c.parts[p] = true
		}
	default:
		for _, p := range allParts {
			c.parts[p] = true
		}
	}
	return c
}

// flagSet reports whether the flag was given on the command line.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// bench is one run: its configuration, what it measured so far, and the kernel and
// images (A, B, C) it boots.
type bench struct {
	config
	r      *result
	kernel string
	imgs   map[string]string
}

type bootFunc func(s *session, kernel, initrd string, mem int, measure bool, timeout time.Duration) (boot, error)

var bootFns = map[string]bootFunc{"A": bootA, "B": bootB, "C": bootC}

const work = "build/bench/work"

func main() {
	c := parseFlags()
	if err := os.Chdir(qvm.Root()); err != nil {
		fatal(err)
	}
	b := &bench{config: c, r: &result{Date: time.Now().Format(time.RFC3339), Quick: c.quick, N: c.n, Warmup: c.warmup, Machine: machine()}}
	start := time.Now()
	if err := os.MkdirAll(work, 0o755); err != nil {
		fatal(err)
	}
	if c.parts["build"] {
		b.timeBuild()
	}
	if err := b.images(); err != nil {
		fatal(err)
	}
	for _, p := range []struct {
		name string
		run  func()
	}{{"boots", b.boots}, {"drivers", b.drivers}, {"debboot", b.debBoot}, {"demo", b.demoRoots}, {"echo", b.keyEcho}, {"hung", b.hungRoots}, {"fleet", b.fleets}, {"mem", b.minMem}} {
		if c.parts[p.name] {
			p.run()
		}
	}
	b.r.Seconds = since(start)
	finish(b.r)
}

// logf reports a step on stderr, always: a full run takes many minutes.
func logf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+f+"\n", a...)
}

// fail records a failure of the run: the report shows it, and the bench exits 1.
func (b *bench) fail(f string, a ...any) { b.r.Failures = append(b.r.Failures, fmt.Sprintf(f, a...)) }

// timeBuild times make all from no image, then after touching one file.
func (b *bench) timeBuild() {
	logf("timing make all (clean: no image) and incremental (one .go file touched)")
	os.Remove("build/initramfs.cpio")
	s, err := timeMake()
	if err != nil {
		b.r.BuildErr = err.Error()
		return
	}
	b.r.BuildClean = s
	now := time.Now()
	os.Chtimes("cmds/admin/main.go", now, now)
	if s, err = timeMake(); err != nil {
		b.r.BuildErr = err.Error()
		return
	}
	b.r.BuildIncr = s
}

// images finds the kernel and makes the images: A copied (so that others
// rebuilding the image do not change it under the run), B and C built for the
// boots and the memory bisection, and D (Debian's initramfs-tools, for its size).
// The kernel and A are $ANTS_KERNEL and $ANTS_INITRD when set, as for the VM tests.
func (b *bench) images() error {
	kernel, initrd := qvm.DefaultImage()
	if os.Getenv("ANTS_INITRD") == "" {
		if _, err := os.Stat(initrd); err != nil {
			logf("build/initramfs.cpio missing: make all")
			if _, err := timeMake(); err != nil {
				return err
			}
		}
	}
	b.kernel, _ = filepath.Abs(kernel)
	release, err := kernelRelease()
	if err != nil {
		return err
	}
	b.r.Kernel = release
	a := image{Key: "A", Name: "ants (as shipped)", Path: filepath.Join(work, "ants.cpio")}
	if err := listfile.Copy(initrd, a.Path); err != nil {
		return err
	}
	st, err := os.Stat(a.Path)
	if err != nil {
		return err
	}
	a.Compressed = st.Size()
	if a.Raw, err = rawSize(a.Path); err != nil {
		return fmt.Errorf("decompressing the ants image: %w", err)
	}
	b.r.Images = []image{a}
	if b.parts["boots"] || b.parts["mem"] || b.parts["echo"] {
		logf("building stock u-root (B) with build/bin/mkuimage")
		bi, err := buildStock(work)
		if err != nil {
			return err
		}
		c, err := buildFloor(work)
		if err != nil {
			return err
		}
		b.r.Images = append(b.r.Images, bi, c)
	}
	// D is also booted by the debboot part.
	if !b.parts["debian"] && !b.parts["debboot"] {
		b.r.DebianErr = "not built with QUICK=1 or -only"
	} else {
		logf("building Debian's initramfs-tools image for %s", release)
		if d, err := buildDebian(work, release); err != nil {
			b.r.DebianErr = err.Error()
		} else {
			b.r.Images = append(b.r.Images, d)
		}
	}
	b.imgs = map[string]string{}
	for i := range b.r.Images {
		im := &b.r.Images[i]
		if im.Path != "" {
			im.Path, _ = filepath.Abs(im.Path)
		}
		b.imgs[im.Key] = im.Path
	}
	return nil
}

// boots boots A, B and C in turn, N rounds after the warm-up (round 0).
func (b *bench) boots() {
	for round := 1 - b.r.Warmup; round <= b.r.N; round++ {
		for _, k := range []string{"A", "B", "C"} {
			s := newSession(fmt.Sprintf("bench-%s-%d", k, round), b.verbose)
			bt, err := bootFns[k](s, b.kernel, b.imgs[k], 256, true, bootTimeout)
			err = s.end(err)
			bt.Image, bt.Round, bt.MemMiB = k, round, 256
			if err != nil {
				bt.Err = err.Error()
				b.fail("image %s round %d did not reach its prompt: %v", k, round, err)
			}
			logf("boot %s round %d: wall %.2f s, guest %.2f s, init overhead %.2f s %s", k, round, bt.Wall, bt.Guest, bt.Overhead, bt.Err)
			b.r.Boots = append(b.r.Boots, bt)
		}
	}
}

// demoRoots boots ants N times to the demo root on a disk.
func (b *bench) demoRoots() {
	tree, err := qvm.DemoRoot()
	if err != nil {
		b.fail("demo root: %v", err)
		return
	}
	disk, err := qvm.MakeDisk(tree, "benchroot", false, filepath.Join(work, "demoroot.img"))
	if err != nil {
		b.fail("demo root disk: %v", err)
		return
	}
	defer os.Remove(disk.Path)
	// The network roots of goal 2, NFS from one ganesha and 9P from one diod,
	// each booted right after the disk root of the same round.
	servers := newSession("bench-net-servers", b.verbose)
	defer servers.end(nil)
	g, err := b.nfsServer(servers, tree)
	if err != nil {
		b.fail("nfs root: the server: %v", err)
	}
	nineDir, d9, err := b.ninePServer(servers, tree)
	if err != nil {
		b.fail("9p root: the server: %v", err)
	}
	b.r.NIC = b.nic
	net := func(kind string, i int, boot func(s *session) (demo, error)) demo {
		s := newSession(fmt.Sprintf("bench-%s-%d", kind, i+1), b.verbose)
		n, err := boot(s)
		if err = s.end(err); err != nil {
			n.Err = err.Error()
			b.fail("%s root %d: %v", kind, i+1, err)
		}
		logf("%s root %d: wall %.2f s, guest %.2f s %s", kind, i+1, n.Wall, n.Guest, n.Err)
		return n
	}
	for i := 0; i < b.r.N; i++ {
		s := newSession(fmt.Sprintf("bench-demo-%d", i+1), b.verbose)
		d, err := bootDemo(s, b.kernel, b.imgs["A"], disk)
		if err = s.end(err); err != nil {
			d.Err = err.Error()
			b.fail("demo root %d: %v", i+1, err)
		}
		logf("demo root %d: wall %.2f s, guest %.2f s %s", i+1, d.Wall, d.Guest, d.Err)
		b.r.Demo = append(b.r.Demo, d)
		if g != nil {
			b.r.NFS = append(b.r.NFS, net("nfs", i, func(s *session) (demo, error) { return bootNFS(s, b.kernel, b.imgs["A"], g, b.nic) }))
		}
		if d9 != nil {
			b.r.NineP = append(b.r.NineP, net("9p", i, func(s *session) (demo, error) { return boot9P(s, b.kernel, b.imgs["A"], d9, nineDir, b.nic) }))
		}
	}
}

// nfsServer starts a ganesha in s exporting a copy of the demo root tree (the
// root writes to it, so not the tree itself).
func (b *bench) nfsServer(s *session, demo string) (*qvm.Ganesha, error) {
	dir, err := s.copyTree(demo)
	if err != nil {
		return nil, err
	}
	return s.ganesha(dir)
}

// hungRoots runs the hung-root scenario -hung times.
func (b *bench) hungRoots() {
	if b.hungN == 0 {
		return
	}
	demo, err := qvm.DemoRoot()
	if err != nil {
		b.fail("demo root: %v", err)
		return
	}
	for i := 0; i < b.hungN; i++ {
		s := newSession(fmt.Sprintf("bench-hung-%d", i+1), b.verbose)
		b.r.NIC = b.nic
		h, err := hungRoot(s, b.kernel, b.imgs["A"], demo, b.nic)
		if err = s.end(err); err != nil {
			h.Err = err.Error()
			b.fail("hung root %d: %v", i+1, err)
		}
		logf("hung root %d: escape %.0f ms, restart %.2f s, cold boot of the same root %.2f s %s", i+1, h.EscapeMS, h.RestartS, h.ColdS, h.Err)
		b.r.Hung = append(b.r.Hung, h)
	}
}

// fleets boots each -fleet count of guests at once from one NFS export.
func (b *bench) fleets() {
	if len(b.fleet) == 0 {
		return
	}
	demo, err := qvm.DemoRoot()
	if err != nil {
		b.fail("demo root: %v", err)
		return
	}
	// One copy of the tree for every run: the overlays keep it unwritten.
	tmp, err := os.MkdirTemp("", "ants-bench-fleet-")
	if err != nil {
		b.fail("fleet: %v", err)
		return
	}
	defer os.RemoveAll(tmp)
	export, err := qvm.CopyTree(demo, tmp)
	if err != nil {
		b.fail("fleet: %v", err)
		return
	}
	b.r.NIC = b.nic
	for _, n := range b.fleet {
		s := newSession(fmt.Sprintf("bench-fleet-%d", n), b.verbose)
		f, err := bootFleet(s, b.kernel, b.imgs["A"], export, n, b.nic)
		if err = s.end(err); err != nil {
			f.Err = err.Error()
			b.fail("fleet of %d: %v", n, err)
		}
		logf("fleet of %d: all roots up %.2f s after the first QEMU start (each: %v), ganesha CPU %.2f s %s", n, f.Wall, f.Up, f.ServerCPU, f.Err)
		b.r.Fleet = append(b.r.Fleet, f)
	}
}

// minMem bisects, for A, B and C, the smallest memory that reaches the prompt
// (one run each).
func (b *bench) minMem() {
	b.r.MinMem, b.r.MemTrials = map[string]int{}, map[string][]int{}
	for _, k := range []string{"A", "B", "C"} {
		limit := 4 * maxWall(b.r.Boots, k)
		if limit < 60 {
			limit = 60
		}
		ok := func(mem int) bool {
			s := newSession(fmt.Sprintf("bench-mem-%s-%d", k, mem), false)
			s.quiet = true // a boot short of memory is expected here
			_, err := bootFns[k](s, b.kernel, b.imgs[k], mem, false, time.Duration(limit*float64(time.Second)))
			good := s.end(err) == nil
			logf("memory %s -m %d: %v", k, mem, map[bool]string{true: "reached", false: "did not reach"}[good])
			if good {
				b.r.MemTrials[k] = append(b.r.MemTrials[k], mem)
			} else {
				b.r.MemTrials[k] = append(b.r.MemTrials[k], -mem)
			}
			return good
		}
		b.r.MinMem[k] = bisect(32, 256, 4, ok)
	}
}

// finish prints the report, writes the JSON and exits 1 if anything failed.
func finish(r *result) {
	fmt.Print(report(r))
	if err := writeJSON(r); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if err := picture(r, "build/bench/boot.svg"); err != nil {
		fmt.Fprintln(os.Stderr, "bench: the boot picture:", err)
	} else {
		fmt.Fprintln(os.Stderr, "bench: the boot, drawn: build/bench/boot.svg (docs/performance.md)")
	}
	if len(r.Failures) > 0 {
		fmt.Fprintf(os.Stderr, "bench: FAILED: %d scenario(s) did not reach their end point:\n", len(r.Failures))
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

// ninePServer starts a diod in s exporting a copy of the demo root tree, and
// returns the copy (the aname) with it.
func (b *bench) ninePServer(s *session, demo string) (string, *qvm.Diod, error) {
	dir, err := s.copyTree(demo)
	if err != nil {
		return "", nil, err
	}
	d, err := s.diod(dir)
	return dir, d, err
}
