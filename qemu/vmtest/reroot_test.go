//go:build !race

package vmtest

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ants/ants/internal/qvm"
	"github.com/ants/ants/internal/qvm/qvmtest"
)

// TestRerootPty: a shell that reroot starts in the root is on a fresh pty that
// reroot relays, not on the admin shell's terminal (a root process could read or
// inject into that through /proc/PID/fd), with the root's bounding set, OOM score
// and cgroup limits; typing works, and exit comes back to
// an admin shell whose terminal works as before. Piped, the command gets pipes.
func TestRerootPty(t *testing.T) {
	t.Parallel()
	disk := qvmtest.MakeDisk(t, qvmtest.DemoRoot(t), "ptyroot", false)
	vm := boot(t, qvm.Options{Append: "root=LABEL=ptyroot rootwait", Devices: []qvm.Device{disk}})
	vm.Expect(`demo root: up`, bootTimeout)
	toAdmin(t, vm, `ants% `)
	a := `ants% `
	pts := regexp.MustCompile(`\s(\d+) -> (\S+)`)
	fds := func(out string) map[string]string {
		m := map[string]string{}
		for _, s := range pts.FindAllStringSubmatch(out, -1) {
			m[s[1]] = s[2]
		}
		return m
	}
	admin := fds(vm.Run("ls -l /proc/self/fd/", a, cmdTimeout))["0"]
	if !strings.HasPrefix(admin, "/dev/pts/") {
		t.Fatalf("the admin shell's terminal is %q, want a /dev/pts/N", admin)
	}
	vm.Line("reroot")
	p := `demo# `
	vm.Expect(p, cmdTimeout)
	in := fds(vm.Run("ls -l /proc/$$/fd/", p, cmdTimeout))
	if !strings.HasPrefix(in["0"], "/dev/pts/") || in["0"] == admin || in["1"] != in["0"] || in["2"] != in["0"] {
		t.Errorf("reroot's shell has fds %v; want one new pty, not the admin's %s", in, admin)
	}
	contains(t, "typing", vm.Run("echo $((6*7)); hostname", p, cmdTimeout), "42", "demo")
	// No more than the root's own processes: its bounding set, its OOM score, a
	// cgroup under the root's limits and device filter.
	confined := vm.Run("grep CapBnd /proc/$$/status; cat /proc/$$/oom_score_adj", p, cmdTimeout)
	confined += vm.Run("cat /proc/$$/cgroup; head -c1 /dev/ttyS0", p, cmdTimeout)
	if strings.Contains(confined, "000001ffffffffff") || !strings.Contains(confined, "CapBnd:") {
		t.Errorf("reroot's shell has the whole bounding set:\n%s", confined)
	}
	contains(t, "confined", confined, "\n0\r", "reroot", "ttyS0")
	if strings.Contains(confined, "-1000") {
		t.Errorf("reroot's shell has the admin's OOM score:\n%s", confined)
	}
	vm.Line("exit")
	vm.Expect(a, cmdTimeout)
	contains(t, "back", vm.Run("echo $((4*4)); hostname", a, cmdTimeout), "16", "ants")
	// Not on a terminal: pipes of reroot's own, the data through them.
	piped := vm.Run("echo through | reroot sh -c 'cat; ls -l /proc/$$/fd/'", a, cmdTimeout)
	contains(t, "piped", piped, "through")
	if in := fds(piped); !strings.HasPrefix(in["0"], "pipe:") || !strings.HasPrefix(in["1"], "pipe:") {
		t.Errorf("piped reroot's fds %v; want pipes", in)
	}
	contains(t, "status", vm.Run("reroot sh -c 'exit 7'; echo status=$?", a, cmdTimeout), "status=7")
}
