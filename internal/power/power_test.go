package power

import (
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestBySignal(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		want string
		ok   bool
	}{
		{unix.SIGUSR2, "poweroff", true},
		{unix.SIGPWR, "poweroff", true},
		{unix.SIGTERM, "reboot", true},
		{unix.SIGINT, "reboot", true},
		{unix.SIGUSR1, "halt", true},
		{unix.SIGHUP, "", false},
		{unix.SIGQUIT, "", false},
	} {
		a, ok := BySignal(tc.sig)
		if ok != tc.ok || a.Name != tc.want {
			t.Errorf("BySignal(%v) = %q, %v; want %q, %v", tc.sig, a.Name, ok, tc.want, tc.ok)
		}
	}
}

func TestActionsRoundTrip(t *testing.T) {
	cmds := map[int]bool{}
	for _, a := range Actions {
		b, ok := BySignal(a.Signal)
		if !ok || b.Name != a.Name {
			t.Errorf("%s: its signal %v maps to %q", a.Name, a.Signal, b.Name)
		}
		if cmds[a.Cmd] {
			t.Errorf("%s: reboot command 0x%x used twice", a.Name, a.Cmd)
		}
		cmds[a.Cmd] = true
	}
	if a, _ := ByName("poweroff"); a.Cmd != unix.LINUX_REBOOT_CMD_POWER_OFF {
		t.Errorf("poweroff does not power off")
	}
}

func TestMainRefusesBadArguments(t *testing.T) {
	var msgs []string
	say := func(s string) { msgs = append(msgs, s) }
	if got := Main("poweroff", []string{"--now"}, say); got != 2 {
		t.Errorf("poweroff --now: status %d, want 2", got)
	}
	if got := Main("shutdown", nil, say); got != 2 {
		t.Errorf("unknown name: status %d, want 2", got)
	}
	if got := Main("reboot", []string{"-h"}, say); got != 0 {
		t.Errorf("reboot -h: status %d, want 0", got)
	}
	if len(msgs) != 3 {
		t.Errorf("messages: %q", msgs)
	}
}
