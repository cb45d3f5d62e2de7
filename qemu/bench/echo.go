package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ants/ants/internal/qvm"
	"github.com/u-root/u-root/pkg/cpio"
)

// The key echo row (issue 15, goal 4): the host time from writing one key into
// QEMU's serial input to its echo arriving on the serial output, in four shells:
// ants' admin shell, the demo root's busybox sh through ants' console mux, the same
// busybox sh as the initramfs' own shell on ttyS0 with nothing between (the floor),
// and stock u-root's gosh for reference.

// echoRun is one shell's echo times.
type echoRun struct {
	Key       string    `json:"key"`       // admin, root, floor, gosh
	Shell     string    `json:"shell"`     // what was measured
	MS        []float64 `json:"echo_ms"`   // one per key, in order
	Disturbed int       `json:"disturbed"` // keys dropped: other output (a log line) came before the echo
	Err       string    `json:"error,omitempty"`
}

// echoKeys are the rows, in the order the report shows them.
var echoKeys = []struct{ key, shell string }{
	{"admin", "A: ants' admin shell (antsh), console mux"},
	{"root", "A: demo root's busybox sh through ants' mux (disk root)"},
	{"floor", "floor: the same busybox sh, the initramfs' own shell on ttyS0"},
	{"relay", "the floor's sh behind a C pty relay (util-linux script), for reference"},
	{"gorelay", "the same behind a Go pty relay (gorelay copy: blocking reads), for reference"},
	{"gorelayraw", "the same, the Go relay's wait by RawSyscall (gorelay raw), for reference"},
	{"gosh", "B: stock u-root's gosh (goshsmall), for reference"},
}

const (
	echoKey     = "x"    // echoes as itself in every shell
	eraseKey    = "\x7f" // DEL, the serial terminal's Backspace: the line stays empty
	echoGoal    = 1.1    // within 1.1x the floor
	echoTimeout = 5 * time.Second
)

// stamped is a console stream recorded with the host time each piece arrived (it is
// the VM's Options.Console: qvm's reader writes every piece to it as it reads it
// from QEMU's stdout, before any Expect sees it).
type stamped struct {
	mu      sync.Mutex
	buf     []byte
	ends    []int       // the end offset of each piece in buf
	times   []time.Time // its arrival
	changed chan struct{}
}

func newStamped() *stamped { return &stamped{changed: make(chan struct{}, 1)} }

func (s *stamped) Write(p []byte) (int, error) {
	now := time.Now()
	s.mu.Lock()
	s.buf = append(s.buf, p...)
	s.ends = append(s.ends, len(s.buf))
	s.times = append(s.times, now)
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

// Len is the number of bytes recorded so far.
func (s *stamped) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buf)
}

// bytesFrom is a copy of the stream from offset off on.
func (s *stamped) bytesFrom(off int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if off > len(s.buf) {
		return nil
	}
	return append([]byte(nil), s.buf[off:]...)
}

// at is the arrival time of the byte at offset off (the piece that held it); the
// zero time if it has not arrived.
func (s *stamped) at(off int) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.SearchInts(s.ends, off+1) // the first piece ending after off
	if off < 0 || i == len(s.ends) {
		return time.Time{}
	}
	return s.times[i]
}

// waitFor waits until the stream from offset off holds one of subs, and returns the
// offset of the first match's first byte and which of subs matched.
func (s *stamped) waitFor(off int, timeout time.Duration, subs ...string) (int, int, error) {
	deadline := time.After(timeout)
	for {
		if i, k := firstOf(s.bytesFrom(off), subs); i >= 0 {
			return off + i, k, nil
		}
		select {
		case <-s.changed:
		case <-deadline:
			return 0, 0, fmt.Errorf("after %v no %q on the console; it shows %q", timeout, subs, lastN(s.bytesFrom(off), 200))
		}
	}
}

// firstOf is the earliest offset in b of any of subs, and which; -1 if none.
func firstOf(b []byte, subs []string) (int, int) {
	best, which := -1, -1
	for k, sub := range subs {
		if i := bytes.Index(b, []byte(sub)); i >= 0 && (best < 0 || i < best) {
			best, which = i, k
		}
	}
	return best, which
}

func lastN(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// echoPause is the pause before the i-th key: 80 to 139 ms, varied so that the keys
// do not keep step with any timer in the guest.
func echoPause(i int) time.Duration { return time.Duration(80+(i*37)%60) * time.Millisecond }

// measureEcho types n keys at a prompt, each erased again, and returns each key's
// echo time in ms: from writing the key to QEMU's serial input to the arrival of its
// echo on the console stream rec. A key whose echo comes after other output with a
// newline (a log line) is dropped and counted, and typed again (up to n more times).
// One key first, not counted, warms the path.
func measureEcho(vm *qvm.VM, rec *stamped, n int) ([]float64, int, error) {
	var ms []float64
	disturbed := 0
	for i := -1; len(ms) < n; i++ {
		time.Sleep(echoPause(i + 1))
		mark := rec.Len()
		t0 := time.Now()
		if err := vm.Type(echoKey); err != nil {
			return ms, disturbed, err
		}
		off, _, err := rec.waitFor(mark, echoTimeout, echoKey)
		if err != nil {
			return ms, disturbed, fmt.Errorf("key %d: %w", i+1, err)
		}
		d := rec.at(off).Sub(t0)
		if err := vm.Type(eraseKey); err != nil {
			return ms, disturbed, err
		}
		// Every shell here erases with a backspace ("\b \b", "\b\x1b[K") or a
		// cursor move ("\x1b[D").
		if _, _, err := rec.waitFor(off+1, echoTimeout, "\b", "\x1b["); err != nil {
			return ms, disturbed, fmt.Errorf("erasing key %d: %w", i+1, err)
		}
		switch {
		case i < 0: // the warm-up key
		case bytes.ContainsAny(rec.bytesFrom(mark)[:off-mark], "\n"):
			disturbed++
			if disturbed > n {
				return ms, disturbed, fmt.Errorf("%d keys disturbed by other output", disturbed)
			}
		default:
			ms = append(ms, float64(d.Microseconds())/1000)
		}
	}
	return ms, disturbed, nil
}

// settle waits until the console has been quiet for quiet (at most limit): the
// boot's last lines out of the way before the keys.
func settle(rec *stamped, quiet, limit time.Duration) {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		n := rec.Len()
		time.Sleep(quiet)
		if rec.Len() == n {
			return
		}
	}
}

// echoAnts boots ants with the demo root from disk and measures the root's console
// (through the mux: it has the focus), then, after Ctrl-] a, the admin shell.
//
// With full, the root's console first prints more than its backlog keeps while the
// admin shell has the console (so it costs no serial time), and gets the console
// back (the mux replays the backlog): its keys are then timed with the backlog full,
// as on a console used for a while.
func echoAnts(s *session, kernel, initrd string, disk qvm.Disk, n int, full bool) (root, admin echoRun, err error) {
	root, admin = echoRun{Key: "root"}, echoRun{Key: "admin"}
	rec := newStamped()
	vm, err := s.start(qvm.Options{Kernel: kernel, Initrd: initrd, Append: "root=LABEL=" + disk.Label + " rootwait", Devices: []qvm.Device{disk}, Console: rec})
	if err != nil {
		return
	}
	if _, err = vm.Expect(`demo root: up`, bootTimeout); err != nil {
		return
	}
	if err = vm.Line(""); err != nil {
		return
	}
	if _, err = vm.Expect(demoPrompt, cmdTimeout); err != nil {
		return
	}
	settle(rec, 500*time.Millisecond, 10*time.Second)
	if full {
		if err = fillBacklog(vm, rec); err != nil {
			err = fmt.Errorf("filling the root console's backlog: %w", err)
			return
		}
	}
	if root.MS, root.Disturbed, err = measureEcho(vm, rec, n); err != nil {
		err = fmt.Errorf("the root's console: %w", err)
		return
	}
	if err = vm.Type(escape + "a"); err != nil {
		return
	}
	if _, err = vm.Expect(`\[ants: admin shell;`, cmdTimeout); err != nil {
		return
	}
	if err = vm.Line(""); err != nil {
		return
	}
	if _, err = vm.Expect(antsPrompt, cmdTimeout); err != nil {
		return
	}
	settle(rec, 300*time.Millisecond, 5*time.Second)
	if admin.MS, admin.Disturbed, err = measureEcho(vm, rec, n); err != nil {
		err = fmt.Errorf("the admin shell: %w", err)
	}
	return
}

// fillBacklog has the root's shell print 105 KB (more than console.RingSize) while
// the admin shell has the console, then gives the root its console back.
func fillBacklog(vm *qvm.VM, rec *stamped) error {
	if err := vm.Line("(sleep 2; seq 100000 114999; echo filled-up) &"); err != nil {
		return err
	}
	if err := vm.Type(escape + "a"); err != nil {
		return err
	}
	if _, err := vm.Expect(`\[ants: admin shell;`, cmdTimeout); err != nil {
		return err
	}
	time.Sleep(15 * time.Second) // seq's 105 KB into the backlog, not the serial line
	if err := vm.Type(escape + "r"); err != nil {
		return err
	}
	// The replay: the backlog's last 64 KiB over the serial line.
	if _, err := vm.Expect(`filled-up`, 120*time.Second); err != nil {
		return err
	}
	if err := vm.Line(""); err != nil {
		return err
	}
	if _, err := vm.Expect(demoPrompt, cmdTimeout); err != nil {
		return err
	}
	settle(rec, 500*time.Millisecond, 10*time.Second)
	return nil
}

// echoFloor boots the floor shell image (buildFloorShell), or a relay image of
// it, and measures its shell as the row key.
func echoFloor(s *session, key, kernel, initrd string, n int) (echoRun, error) {
	e := echoRun{Key: key}
	rec := newStamped()
	vm, err := s.start(qvm.Options{Kernel: kernel, Initrd: initrd, Console: rec})
	if err != nil {
		return e, err
	}
	if _, err := vm.Expect(`demo root: up`, bootTimeout); err != nil {
		return e, err
	}
	if err := vm.Line(""); err != nil {
		return e, err
	}
	if _, err := vm.Expect(demoPrompt, cmdTimeout); err != nil {
		return e, err
	}
	settle(rec, 500*time.Millisecond, 10*time.Second)
	e.MS, e.Disturbed, err = measureEcho(vm, rec, n)
	return e, err
}

// echoGosh boots stock u-root (B) and measures gosh.
func echoGosh(s *session, kernel, initrd string, n int) (echoRun, error) {
	e := echoRun{Key: "gosh"}
	rec := newStamped()
	vm, err := s.start(qvm.Options{Kernel: kernel, Initrd: initrd, Console: rec})
	if err != nil {
		return e, err
	}
	if _, err := expectAll(vm, bootTimeout, `Welcome to u-root`, stockPrompt); err != nil {
		return e, err
	}
	settle(rec, 500*time.Millisecond, 10*time.Second)
	e.MS, e.Disturbed, err = measureEcho(vm, rec, n)
	return e, err
}

// buildFloorShell writes an initramfs of the demo root tree itself, with /init a
// link to its busybox: the kernel runs busybox init as PID 1, which runs the tree's
// rcS ("demo root: up") and its login shell (PS1 "demo# ") on /dev/console, the
// serial line, with no mux in between. The shell is the one the root console row
// measures through ants.
func buildFloorShell(demo, out string) error { return writeFloor(demo, out, nil) }

// The relay rows (references for the mux rows, full runs only): the floor's
// login shell behind one relay process on the console, through a pty both ways
// as a mux must. util-linux's script(1) is a C relay (poll(2), one thread): its
// echo less the floor's is what the pty's own hops cost, the least any relay
// adds. gorelay is the simplest Go relay, as ants' mux waits (blocking read(2)s)
// and with its wait by RawSyscall (nothing of the runtime around it).
var relayRows = []struct{ key, files, cmd string }{
	{"relay", "script", `/usr/bin/script -q -c "/bin/sh -l" /dev/null`},
	{"gorelay", "gorelay", "/usr/bin/gorelay copy"},
	{"gorelayraw", "gorelay", "/usr/bin/gorelay raw"},
}

// relayInittab is the floor's inittab with the login shell behind cmd.
func relayInittab(cmd string) string {
	return "::sysinit:/etc/init.d/rcS\n::respawn:" + cmd + "\n::shutdown:/bin/sync\n"
}

// scriptFiles are the host's script(1) and what it links to.
var scriptFiles = []string{"/usr/bin/script", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}

// relayFile is a host file put in a relay image at name.
type relayFile struct{ host, name string }

// buildRelayShell is buildFloorShell with the login shell behind cmd
// (relayInittab), and files added.
func buildRelayShell(demo, out, cmd string, files []relayFile) error {
	rec := cpio.NewRecorder()
	var extra []cpio.Record
	for _, f := range files {
		real, err := filepath.EvalSymlinks(f.host)
		if err != nil {
			return fmt.Errorf("the relay image needs %s: %v", f.host, err)
		}
		r, err := rec.GetRecord(real)
		if err != nil {
			return err
		}
		r.Name = strings.TrimPrefix(f.name, "/")
		extra = append(extra, r)
	}
	extra = append(extra, cpio.StaticFile("etc/inittab", relayInittab(cmd), 0o644))
	return writeFloor(demo, out, extra)
}

// relayFiles are the files a row needs in its image: the host's script(1) and
// its libraries (Debian's bsdutils), or gorelay, built into dir.
func relayFiles(files, dir string) ([]relayFile, error) {
	if files == "script" {
		var fs []relayFile
		for _, f := range scriptFiles {
			fs = append(fs, relayFile{f, f})
		}
		return fs, nil
	}
	bin := filepath.Join(dir, "gorelay")
	if err := buildGuestCmd("gorelay", bin); err != nil {
		return nil, err
	}
	return []relayFile{{bin, "/usr/bin/gorelay"}}, nil
}

// writeFloor writes the demo tree as an initramfs run by its busybox init, with
// extra records in place of the tree's own of the same name.
func writeFloor(demo, out string, extra []cpio.Record) error {
	tree, err := treeRecords(demo)
	if err != nil {
		return err
	}
	replaced := map[string]bool{}
	for _, r := range extra {
		replaced[r.Name] = true
	}
	var recs []cpio.Record
	for _, r := range tree {
		if !replaced[r.Name] {
			recs = append(recs, r)
		}
	}
	recs = append(recs, extra...)
	recs = append(recs, cpio.CharDev("dev/console", 0o600, 5, 1), cpio.Symlink("init", "bin/busybox"))
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := cpio.Newc.Writer(f)
	if err := cpio.WriteRecordsAndDirs(w, recs); err != nil {
		f.Close()
		return err
	}
	if err := cpio.WriteTrailer(w); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// treeRecords are the cpio records of every file under dir, named relative to it
// (the tree's dev/ is empty; any top-level init is left out for ours).
func treeRecords(dir string) ([]cpio.Record, error) {
	rec := cpio.NewRecorder()
	var recs []cpio.Record
	err := filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." || rel == "init" || strings.HasPrefix(rel, ".demoroot") {
			return err
		}
		r, err := rec.GetRecord(path)
		if err != nil {
			return err
		}
		r.Name = rel
		recs = append(recs, r)
		return nil
	})
	return recs, err
}

// keyEcho is the bench's key echo part: the floor, then ants (root console and
// admin shell in one boot), then stock u-root (not with QUICK=1), one VM at a time.
func (b *bench) keyEcho() {
	start := time.Now()
	defer func() { logf("key echo: %.0f s for %d keys in each shell", since(start), b.keys) }()
	demo, err := qvm.DemoRoot()
	if err != nil {
		b.fail("key echo: demo root: %v", err)
		return
	}
	floor := filepath.Join(work, "floorsh.cpio")
	if err := buildFloorShell(demo, floor); err != nil {
		b.fail("key echo: the floor shell image: %v", err)
		return
	}
	floor, _ = filepath.Abs(floor)
	disk, err := qvm.MakeDisk(demo, "benchroot", false, filepath.Join(work, "echoroot.img"))
	if err != nil {
		b.fail("key echo: demo root disk: %v", err)
		return
	}
	defer os.Remove(disk.Path)
	runs := map[string]echoRun{}
	record := func(e echoRun, err error) {
		if err != nil {
			e.Err = err.Error()
			b.fail("key echo, %s: %v", e.Key, err)
		}
		st := stats(e.MS)
		logf("key echo %s: %d keys, median %.2f ms, p90 %.2f ms, %d disturbed %s", e.Key, st.N, st.Med, percentile(e.MS, 90), e.Disturbed, e.Err)
		runs[e.Key] = e
	}
	s := newSession("bench-echo-floor", b.verbose)
	e, err := echoFloor(s, "floor", b.kernel, floor, b.keys)
	record(e, s.end(err))
	// The relay rows are for reference (what a pty and a Go relay cost): not with
	// QUICK=1.
	files := map[string][]relayFile{} // by relayRows' files: gorelay is built once
	for _, r := range relayRows {
		if b.quickFlag {
			break
		}
		img := filepath.Join(work, "floor"+r.key+".cpio")
		fs, ok := files[r.files]
		var err error
		if !ok {
			if fs, err = relayFiles(r.files, work); err == nil {
				files[r.files] = fs
			}
		}
		if err == nil {
			err = buildRelayShell(demo, img, r.cmd, fs)
		}
		if err != nil {
			b.fail("key echo: the %s image: %v", r.key, err)
			continue
		}
		img, _ = filepath.Abs(img)
		s = newSession("bench-echo-"+r.key, b.verbose)
		e, err = echoFloor(s, r.key, b.kernel, img, b.keys)
		record(e, s.end(err))
	}
	s = newSession("bench-echo-ants", b.verbose)
	root, admin, err := echoAnts(s, b.kernel, b.imgs["A"], disk, b.keys, b.echoFull)
	err = s.end(err)
	record(root, err)
	record(admin, err)
	// gosh is for reference only: QUICK=1 saves its boot.
	if b.imgs["B"] != "" && !b.quickFlag {
		s = newSession("bench-echo-gosh", b.verbose)
		e, err = echoGosh(s, b.kernel, b.imgs["B"], b.keys)
		record(e, s.end(err))
	}
	for _, k := range echoKeys {
		if e, ok := runs[k.key]; ok {
			e.Shell = k.shell
			if k.key == "root" && b.echoFull {
				e.Shell += ", backlog full"
			}
			b.r.Echo = append(b.r.Echo, e)
		}
	}
}

// percentile is the p-th percentile of xs by nearest rank (the smallest value with
// at least p% of the sample at or below it); 0 for none.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// echoVerdict compares a shell's echo with the floor's: the ratios of the medians
// and of the p90s, and whether the median is within the goal. ok is false when
// either has no keys.
func echoVerdict(e, floor echoRun) (med, p90 float64, met, ok bool) {
	se, sf := stats(e.MS), stats(floor.MS)
	if e.Err != "" || floor.Err != "" || se.N == 0 || sf.N == 0 || sf.Med <= 0 {
		return 0, 0, false, false
	}
	med = se.Med / sf.Med
	p90 = percentile(e.MS, 90) / percentile(floor.MS, 90)
	return med, p90, med <= echoGoal, true
}

// echoTable is the key echo row: each shell's median and p90, and its ratios to the
// floor.
func echoTable(runs []echoRun) string {
	if len(runs) == 0 {
		return ""
	}
	var floor echoRun
	for _, e := range runs {
		if e.Key == "floor" {
			floor = e
		}
	}
	var w strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&w, f, a...) }
	p("| key echo over the serial line (host: key written to QEMU → its echo read) | keys | median ms | p90 ms | median / floor | p90 / floor |\n|---|---|---|---|---|---|\n")
	for _, e := range runs {
		if e.Err != "" {
			p("| %s | failed: %s | | | | |\n", e.Shell, firstLine(e.Err))
			continue
		}
		med, p90, _, ok := echoVerdict(e, floor)
		rm, rp := "n/a", "n/a"
		if ok {
			rm, rp = fmt.Sprintf("%.2f", med), fmt.Sprintf("%.2f", p90)
		}
		p("| %s | %d | %.2f | %.2f | %s | %s |\n", e.Shell, len(e.MS), stats(e.MS).Med, percentile(e.MS, 90), rm, rp)
	}
	p("\n")
	return w.String()
}
