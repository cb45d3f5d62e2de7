package pid1

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ants/ants/internal/power"
	"golang.org/x/sys/unix"
)

// A mountinfo of the admin namespace: the kernel's file systems, which stay,
// and three more, one with a space in its name.
const testMountinfo = `22 1 0:20 / / rw - tmpfs tmpfs rw
23 22 0:21 / /proc rw - proc proc rw
24 22 0:22 / /sys rw - sysfs sysfs rw
25 22 0:5 / /dev rw - devtmpfs devtmpfs rw
26 25 0:23 / /dev/pts rw - devpts devpts rw
27 22 0:24 / /run rw - tmpfs tmpfs rw
28 27 0:25 / /run/ants/rootdev rw - tmpfs tmpfs rw
29 22 0:26 / /mnt/a\040b rw - tmpfs tmpfs rw
`

// The shutdown's order: the root first, SIGTERM to the rest, SIGKILL to what
// stays (after 3 s), sync, the unmounts newest first (a busy one detached), sync
// again, reboot(2); each step bounded, so that one stuck does not hold it.
func TestShutdown(t *testing.T) {
	t.Parallel()
	const (
		user   = "300 (sh) S 1 300 300 0 -1 4194560 0"
		kthr   = "2 (kthreadd) S 0 0 0 0 -1 2129984 0"
		zombie = "301 (z) Z 1 301 301 0 -1 4194560 0"
	)
	for _, tc := range []struct {
		name string
		// termKills: SIGTERM ends the user process; killKills: SIGKILL does.
		termKills, killKills bool
		syncStuck            bool
		unmountStuck         bool
		rebootErr            error
		calls                string   // what the world saw, in order
		log                  []string // in the log
		notLog               []string
		slept                time.Duration // the clock's sleeps between SIGTERM and the sync
	}{
		{
			name: "all end on SIGTERM", termKills: true,
			calls:  "kill -1 SIGTERM; sync; unmount /mnt/a b 0; unmount /mnt/a b MNT_DETACH; unmount /run/ants/rootdev 0; unmount /run 0; sync; reboot 0x4321fedc",
			log:    []string{"powering off: stopping all processes", "powering off: synced, 3 file systems unmounted, 0.0 s; goodbye"},
			notLog: []string{"killing them", "ignored SIGTERM"},
		},
		{
			name: "one ignores SIGTERM", killKills: true,
			calls: "kill -1 SIGTERM; kill -1 SIGKILL; sync; unmount /mnt/a b 0; unmount /mnt/a b MNT_DETACH; unmount /run/ants/rootdev 0; unmount /run 0; sync; reboot 0x4321fedc",
			log:   []string{"powering off: some processes ignored SIGTERM for 3 s; killing them", "synced, 3 file systems unmounted, 3.0 s"},
			slept: 3050 * time.Millisecond,
		},
		{
			name:  "one survives SIGKILL (D state)",
			calls: "kill -1 SIGTERM; kill -1 SIGKILL; sync; unmount /mnt/a b 0; unmount /mnt/a b MNT_DETACH; unmount /run/ants/rootdev 0; unmount /run 0; sync; reboot 0x4321fedc",
			log:   []string{"ignored SIGTERM for 3 s; killing them", "synced, 3 file systems unmounted, 4.1 s"},
			slept: 4100 * time.Millisecond,
		},
		{
			name: "sync hangs", termKills: true, syncStuck: true,
			calls: "kill -1 SIGTERM; sync; unmount /mnt/a b 0; unmount /mnt/a b MNT_DETACH; unmount /run/ants/rootdev 0; unmount /run 0; sync; reboot 0x4321fedc",
			log:   []string{"powering off: sync did not end in 10s: a file system cannot write", "powering off: not all synced, 3 file systems unmounted, 12.0 s; goodbye"},
		},
		{
			name: "an unmount hangs", termKills: true, unmountStuck: true,
			calls: "kill -1 SIGTERM; sync; unmount /mnt/a b 0; unmount /mnt/a b MNT_DETACH; unmount /run/ants/rootdev 0; sync; reboot 0x4321fedc",
			log:   []string{"powering off: unmounting did not end in 5 s; going on", "powering off: synced, 1 file systems unmounted, 5.0 s"},
		},
		{
			name: "reboot fails", termKills: true, rebootErr: unix.EPERM,
			calls: "kill -1 SIGTERM; sync; unmount /mnt/a b 0; unmount /mnt/a b MNT_DETACH; unmount /run/ants/rootdev 0; unmount /run 0; sync; reboot 0x4321fedc",
			log:   []string{"init: reboot(2): operation not permitted; the admin shell stays"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, w := newTestInit(t)
			w.proc(1, "1 (init) S 0 1 1 0 -1 4194560 0")
			w.proc(2, kthr)
			w.proc(300, user)
			w.proc(301, zombie)
			writeFile(t, filepath.Join(w.dir, "proc/self/mountinfo"), testMountinfo)
			w.reboot = tc.rebootErr
			w.onKill = func(pid int, sig unix.Signal) {
				if st := in.root.Status(); !strings.Contains(st, "state: stopped") {
					t.Errorf("%s before the root was stopped:\n%s", unix.SignalName(sig), st)
				}
				if sig == unix.SIGTERM && tc.termKills || sig == unix.SIGKILL && tc.killKills {
					w.gone(300)
				}
			}
			if tc.syncStuck {
				w.syncs = make(chan struct{})
			}
			var unmounting chan struct{}
			if tc.unmountStuck {
				unmounting = make(chan struct{})
				t.Cleanup(func() { close(unmounting) })
			}
			w.unmount = func(target string, flags int) error {
				switch {
				case target == "/mnt/a b" && flags == 0:
					return unix.EBUSY // then detached
				case target == "/run/ants/rootdev" && unmounting != nil:
					<-unmounting
				}
				return nil
			}
			sys := in.root.Sys.(*fakeSys)
			rootPid, err := in.root.Start(ninePSource(t), false)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := power.ByName("poweroff")
			done := make(chan struct{})
			go func() { defer close(done); in.shutdown(a) }()
			// The stuck steps (once they are stuck): their bounds come from the clock.
			for _, step := range []struct {
				d     time.Duration
				stuck bool
				calls string // what the world has seen by then
			}{
				{10 * time.Second, tc.syncStuck, "; sync"},
				{5 * time.Second, tc.unmountStuck, "; unmount /run/ants/rootdev 0"},
				{2 * time.Second, tc.syncStuck, "; unmount /run 0; sync"},
			} {
				if !step.stuck {
					continue
				}
				eventually(t, fmt.Sprintf("a bound of %v", step.d), func() bool {
					return w.clock.waiting(step.d) && strings.HasSuffix(w.callList(), step.calls)
				})
				w.clock.Advance(step.d)
			}

			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("the shutdown hangs; calls %s; log:\n%s", w.callList(), w.out)
			}
			if got := w.callList(); got != tc.calls {
				t.Errorf("calls:\n%s\nwant\n%s", got, tc.calls)
			}
			if sigs := sys.sigs(); sigs != fmt.Sprintf("%d SIGTERM", rootPid) {
				t.Errorf("the root got %s, want its stop signal", sigs)
			}
			for _, s := range tc.log {
				if !w.logged(s) {
					t.Errorf("no %q in the log:\n%s", s, w.out)
				}
			}
			for _, s := range tc.notLog {
				if w.logged(s) {
					t.Errorf("%q in the log:\n%s", s, w.out)
				}
			}
			var slept time.Duration
			for _, d := range w.clock.slept() {
				slept += d
			}
			if slept != tc.slept {
				t.Errorf("slept %v in all, want %v", slept, tc.slept)
			}
			if !in.powerDown.Load() {
				t.Errorf("powerDown not set")
			}
		})
	}
}

// A root stuck in the kernel does not hold the shutdown: its stop ends in
// abandonment, and the rest goes on.
func TestShutdownStuckRoot(t *testing.T) {
	t.Parallel()
	in, w := newTestInit(t)
	sys := in.root.Sys.(*fakeSys)
	sys.how, sys.grace = stuckForEver, 50*time.Millisecond

	if _, err := in.root.Start(ninePSource(t), false); err != nil {
		t.Fatal(err)
	}
	a, _ := power.ByName("reboot")
	in.shutdown(a)
	if !w.logged("root system: abandoned pid") || !strings.HasSuffix(w.callList(), "reboot 0x1234567") {
		t.Errorf("calls %s; log:\n%s", w.callList(), w.out)
	}
}

// othersAlive reads /proc/PID/stat: PID 1, kernel threads, zombies and
// processes gone meanwhile do not count.
func TestOthersAlive(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		procs map[string]string // pid: stat ("" a directory without stat)
		want  bool
	}{
		{"none", nil, false},
		{"PID 1 and kernel threads", map[string]string{"1": "1 (init) S 0 1 1 0 -1 4194560 0", "2": "2 (kthreadd) S 0 0 0 0 -1 2129984 0"}, false},
		{"a zombie", map[string]string{"40": "40 (z) Z 1 40 40 0 -1 4194560 0"}, false},
		{"one gone meanwhile", map[string]string{"41": ""}, false},
		{"not a pid", map[string]string{"self": "5 (sh) S 1 5 5 0 -1 4194560 0", "sys": ""}, false},
		{"a shell", map[string]string{"2": "2 (kthreadd) S 0 0 0 0 -1 2129984 0", "42": "42 (sh) S 1 42 42 0 -1 4194560 0"}, true},
		{"one in D state", map[string]string{"43": "43 (cat) D 1 43 43 0 -1 4194560 0"}, true},
	} {
		proc := t.TempDir()
		for pid, stat := range tc.procs {
			if stat == "" {
				writeFile(t, filepath.Join(proc, pid, "status"), "")
				continue
			}
			writeFile(t, filepath.Join(proc, pid, "stat"), stat)
		}
		if got := othersAlive(proc); got != tc.want {
			t.Errorf("%s: othersAlive = %v, want %v", tc.name, got, tc.want)
		}
	}
	if othersAlive(filepath.Join(t.TempDir(), "none")) {
		t.Errorf("no /proc: others alive")
	}
}

// unmountAll without a mountinfo unmounts nothing.
func TestUnmountAllNoMountinfo(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	called := false
	unmountAll(t.TempDir(), func(string, int) error { called = true; return nil }, &n)
	if called || n.Load() != 0 {
		t.Errorf("unmounted %d (called %v)", n.Load(), called)
	}
}

// unmountAll leaves the kernel's file systems and the image's read-only mounts
// (the admin shell that stays if reboot(2) fails needs its programs), and unmounts
// the rest newest first.
func TestUnmountAllKeepsTheImage(t *testing.T) {
	proc := t.TempDir()
	os.MkdirAll(filepath.Join(proc, "self"), 0o755)
	var info strings.Builder
	for i, p := range []string{"/", "/proc", "/dev", "/bbin", "/bbin/bb", "/lib/modules", "/mnt/disk", "/run/ants/root"} {
		fmt.Fprintf(&info, "%d 1 0:%d / %s rw - tmpfs x rw\n", 20+i, i, p)
	}
	os.WriteFile(filepath.Join(proc, "self/mountinfo"), []byte(info.String()), 0o644)
	var got []string
	var n atomic.Int32
	unmountAll(proc, func(p string, _ int) error { got = append(got, p); return nil }, &n)
	if strings.Join(got, " ") != "/run/ants/root /mnt/disk" || n.Load() != 2 {
		t.Errorf("unmounted %v (%d), want /run/ants/root /mnt/disk", got, n.Load())
	}
}
