//go:build !race

package vmtest

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/qvm"
	"github.com/ants/ants/internal/qvm/qvmtest"
)

// TestHubs: hubs (ANTS' hubfs) from OpenSSH's client and from the console, on one
// machine whose 9P root then hangs:
//   - hub new from ssh, hub send and hub log; the console's escape key lists the
//     hub and switches to it;
//   - one session shared: typed on the console, seen over ssh (hub attach on a
//     pty), typed over ssh, seen on the console; escape d detaches;
//   - the root's console over ssh (hub attach root);
//   - hub attach from the console's own admin shell moves the console;
//   - the escape pod remotely: the root's 9P server freezes, ssh still answers,
//     rootctl restart over ssh brings a root from a second server, and hub log
//     root shows what the new root printed.
func TestHubs(t *testing.T) {
	t.Parallel()
	s := newSSHTarget(t)
	dir1 := qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	dir2 := qvmtest.CopyTree(t, qvmtest.DemoRoot(t))
	os.WriteFile(filepath.Join(dir2, "etc/hostname"), []byte("second\n"), 0o644)
	d1, d2 := qvmtest.StartDiod(t, dir1), qvmtest.StartDiod(t, dir2)
	nic := d1.NIC("10.0.2.100")
	nic.GuestFwds = append(nic.GuestFwds, d2.GuestFwd("10.0.2.101"))
	nic.HostFwds = append(nic.HostFwds, qvm.HostFwd{HostPort: s.port, GuestPort: 22})
	vm := boot(t, qvm.Options{Append: "venti=tcp!10.0.2.100!564 ants.aname=" + dir1 + " ants.sshd=22 ants.watchdog=2",
		Devices: []qvm.Device{nic}, Rng: true}, s.files("")...)
	vm.Expect(`sshd: listening`, bootTimeout)
	vm.Expect(`demo root: up`, bootTimeout)
	ssh := func(cmd string) string {
		t.Helper()
		out, errOut, rc := s.run("", "ssh", "root@127.0.0.1", cmd)
		if rc != 0 {
			t.Errorf("ssh %q: status %d, stderr %q", cmd, rc, errOut)
		}
		return out
	}

	// The boot, drawn on the machine and copied off as a user would: PID 1's
	// steps, the boot scripts, the root's start and its init.
	contains(t, "bootchart", ssh("ants bootchart -o /tmp/boot.svg"), "/tmp/boot.svg: ", " s of boot, ")
	svg := filepath.Join(s.dir, "boot.svg")
	if _, errOut, rc := s.run("", "scp", "root@127.0.0.1:/tmp/boot.svg", svg); rc != 0 {
		t.Errorf("scp boot.svg: %d %s", rc, errOut)
	}
	b, _ := os.ReadFile(svg)
	if err := xml.Unmarshal(b, new(struct{})); err != nil || !bytes.HasPrefix(b, []byte("<svg")) {
		t.Errorf("boot.svg is not an SVG (%v): %.80q", err, b)
	}
	contains(t, "boot.svg", string(b), ">boot scripts<", "40-network", ">root start<", ">root init<")

	// The console's own hubs, and one made over ssh.
	contains(t, "hub list", ssh("hub"), "admin", "root", "boot", "r *")
	ssh("hub new work")
	ssh("hub send work 'echo $((3*4))zz'")
	waitLog := func(name, want string) string {
		t.Helper()
		var out string
		for i := 0; i < 20; i++ {
			if out = ssh("hub log " + name); strings.Contains(out, want) {
				return out
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Fatalf("hub log %s: no %q in %q", name, want, out)
		return ""
	}
	waitLog("work", "12zz")
	if out, errOut, rc := s.run("", "ssh", "root@127.0.0.1", "hub kill root; hub log nosuch"); rc == 0 ||
		!strings.Contains(errOut, "console's own") || !strings.Contains(errOut, "no hub nosuch") {
		t.Errorf("refusals: %q %q %d", out, errOut, rc)
	}

	// The escape key lists the hubs and switches to one: its backlog shows.
	vm.Type(escape + "l")
	vm.Expect(`1 hub work +running`, cmdTimeout)
	vm.Type(escape + "1")
	vm.Expect(`\[ants: hub work;`, cmdTimeout)
	vm.Expect(`12zz`, cmdTimeout)

	// One session, two places: ssh attaches on a pty while the console shows it.
	it := s.interactive()
	it.expect("ants% ")
	it.line("hub attach work")
	it.expect("d detaches")
	it.expect("12zz")
	vm.Line("echo fromcon$((1+1))")
	it.expect("fromcon2")
	it.line("echo fromssh$((2+3))")
	vm.Expect(`fromssh5`, cmdTimeout)
	contains(t, "attached", ssh("hub"), "ssh:")
	io.WriteString(it.in, escape+"d")
	it.expect("[hub work: detached]")
	it.line("echo back$((4+4))")
	it.expect("back8")

	// The root's console over ssh: the demo root's shell answers.
	it.line("hub attach root")
	it.expect("d detaches")
	it.line("hostname; echo r$((6+1))")
	it.expect("r7")
	io.WriteString(it.in, escape+"d")
	it.expect("[hub root: detached]")

	// From the console's own admin shell, hub attach moves the console.
	toAdmin(t, vm, `ants% `)
	vm.Line("hub attach root")
	vm.Expect(`\[ants: root console;`, cmdTimeout)
	vm.Line("echo con$((2*9))")
	vm.Expect(`con18`, cmdTimeout)

	// The escape pod from afar: the root's server freezes; over ssh the admin
	// side answers, and a root from the second server replaces the hung one.
	d1.Stop(t)
	vm.Line("ls /etc")
	vm.Expect(`root not responding`, 60*time.Second)
	contains(t, "status over ssh", ssh("rootctl status"), "responding: no")
	start := time.Now()
	ssh("rootctl restart venti=tcp!10.0.2.101!564 ants.aname=" + dir2)
	t.Logf("rootctl restart over ssh: %v", time.Since(start).Round(time.Millisecond))
	// A hung 9P root's connection is PID 1's to break: its processes die, none is
	// abandoned in the kernel.
	vm.Expect(`root system: stopping pid \d+, which does not respond: its 9P connection broken and SIGKILL`, cmdTimeout)
	vm.Expect(`root system: stopped`, cmdTimeout)
	if strings.Contains(vm.Output(), "abandoned pid") {
		t.Errorf("the hung root's processes were abandoned, not ended")
	}
	log := waitLog("root", "hostname second")
	if i, j := strings.Index(log, "root system 2 starting from 9p tcp!10.0.2.101!564"), strings.LastIndex(log, "hostname second"); i < 0 || j < i {
		t.Errorf("hub log root: no start marker of the second root before its output:\n%s", log)
	}
	it.line("exit")
	it.wait()
	if n := strings.Count(vm.Output(), "init started"); n != 1 {
		t.Errorf("the machine booted %d times", n)
	}
}
