// Package power asks PID 1 to power off, reboot or halt the machine, the way
// busybox init and sysvinit are asked: with a signal, so the request works even
// when the control socket or the file system is in trouble.
package power

import (
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Action is one way to stop the machine.
type Action struct {
	Name   string
	Signal syscall.Signal // what PID 1 is sent
	Cmd    int            // reboot(2) command PID 1 ends with
	Verb   string         // for messages: "powering off"
}

// Actions are the signals PID 1 takes, as busybox init takes them.
var Actions = []Action{
	{Name: "poweroff", Signal: unix.SIGUSR2, Cmd: unix.LINUX_REBOOT_CMD_POWER_OFF, Verb: "powering off"},
	{Name: "reboot", Signal: unix.SIGTERM, Cmd: unix.LINUX_REBOOT_CMD_RESTART, Verb: "rebooting"},
	{Name: "halt", Signal: unix.SIGUSR1, Cmd: unix.LINUX_REBOOT_CMD_HALT, Verb: "halting"},
}

// ByName finds an action.
func ByName(name string) (Action, bool) {
	for _, a := range Actions {
		if a.Name == name {
			return a, true
		}
	}
	return Action{}, false
}

// BySignal finds the action PID 1 must take for a signal it received. SIGINT is
// Ctrl-Alt-Del (a reboot) and SIGPWR a power failure (a poweroff).
func BySignal(s syscall.Signal) (Action, bool) {
	switch s {
	case unix.SIGINT:
		return ByName("reboot")
	case unix.SIGPWR:
		return ByName("poweroff")
	}
	for _, a := range Actions {
		if a.Signal == s {
			return a, true
		}
	}
	return Action{}, false
}

// Request asks PID 1 for the action.
func Request(a Action) error {
	if err := unix.Kill(1, a.Signal); err != nil {
		return fmt.Errorf("cannot signal init (pid 1): %v", err)
	}
	return nil
}

// Now stops the machine at once, without init: sync (given 2 s: a hung network
// file system can hold sync for ever), then reboot(2).
func Now(a Action) error {
	done := make(chan struct{})
	go func() { unix.Sync(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	if err := unix.Reboot(a.Cmd); err != nil {
		return fmt.Errorf("reboot(2) for %s: %v", a.Name, err)
	}
	return nil
}

// Main is the body of the poweroff, reboot and halt commands.
func Main(name string, args []string, stderr func(string)) int {
	a, ok := ByName(name)
	if !ok {
		stderr(fmt.Sprintf("%s: not a power command (poweroff, reboot, halt)", name))
		return 2
	}
	force := false
	for _, arg := range args {
		switch arg {
		case "-f", "--force":
			force = true
		case "-h", "--help":
			stderr(fmt.Sprintf("usage: %s [-f]\n  asks init to stop every process, sync, unmount and %s;\n  -f: sync and %s at once, without init", name, a.Name, a.Name))
			return 0
		default:
			stderr(fmt.Sprintf("%s: unknown argument %q; usage: %s [-f]", name, arg, name))
			return 2
		}
	}
	var err error
	if force {
		err = Now(a)
	} else {
		err = Request(a)
	}
	if err != nil {
		stderr(fmt.Sprintf("%s: %v", name, err))
		return 1
	}
	return 0
}
