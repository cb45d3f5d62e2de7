package pid1

import (
	"os"
	"os/exec"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/hub"
	"github.com/ants/ants/internal/mount"
	"github.com/ants/ants/internal/rootctl"
	"github.com/ants/ants/internal/rootsys"
	"golang.org/x/sys/unix"
)

// initSys is what PID 1 does to the machine outside the root's lifecycle (whose
// calls are LifeSys): it starts children, sends signals, reads the clock and
// /proc, mounts and unmounts, opens the console's devices, syncs and calls
// reboot(2), on the paths it is given. Main has realSys; the tests give fakes
// (sys_test.go), so that the supervise loop, the shutdown, the root's exit
// policies and the servers run without a VM.
type initSys struct {
	// Start starts a child and gives its exit status once (Reaper.Start).
	Start func(cmd *exec.Cmd) (<-chan unix.WaitStatus, error)
	// PTY makes a pty of the mux for c and gives its slave, for the child
	// (console.Client.NewPTY).
	PTY func(c *console.Client) (*os.File, error)
	// OpenTTY opens /dev/NAME for a child when there is no mux, never as
	// PID 1's controlling terminal.
	OpenTTY func(name string) (*os.File, error)
	// Consoles names the kernel's consoles, the one /dev/console writes to last
	// (console.KernelConsoles); OpenConsole opens one raw for the mux
	// (console.OpenDevice).
	Consoles    func() []string
	OpenConsole func(name string) (*os.File, error)
	// Kill is kill(2): pid -1 is every process but PID 1, -N a process group.
	Kill func(pid int, sig unix.Signal) error
	// The clock: the supervise loop's pause and the shutdown's bounds.
	Now   func() time.Time
	Sleep func(time.Duration)
	After func(time.Duration) <-chan time.Time
	// Mount makes a mount of PID 1's tables (Entry.Do); Unmount is umount2(2)
	// (mount.Unmount); Sync is sync(2); Reboot is reboot(2) (power.Action.Cmd).
	Mount   func(e mount.Entry) error
	Unmount func(target string, flags int) error
	Sync    func()
	Reboot  func(cmd int) error
	// Quit ends the supervise loop, for tests; nil in PID 1, which never ends it.
	Quit <-chan struct{}
	sysPaths
}

// sysPaths are the files and directories PID 1 reads and writes outside its
// own tables; the tests point them into a temporary directory.
type sysPaths struct {
	Proc       string // /proc: PID/stat, PID/exe, PID/ns/mnt, self/mountinfo, meminfo
	Sysfs      string // /sys: the power buttons' input devices
	Dev        string // /dev: input/eventN
	Modules    string // the image's modules: RELEASE/
	Env        string // EnvDir
	Record     string // bootvar.RecordFile
	Cgroup     string // cgroupRoot
	CtlSocket  string // rootctl.Socket
	HubSocket  string // hub.Socket
	RootPid    string // RootPidFile
	RootErr    string // rootsys.ErrFile
	RootServer string // rootsys.ServerFile
	AbortLog   string // the root-abort helper's output
}

// defaultPaths are the admin namespace's.
var defaultPaths = sysPaths{
	Proc:       "/proc",
	Sysfs:      "/sys",
	Dev:        "/dev",
	Modules:    "/lib/modules",
	Env:        EnvDir,
	Record:     bootvar.RecordFile,
	Cgroup:     cgroupRoot,
	CtlSocket:  rootctl.Socket,
	HubSocket:  hub.Socket,
	RootPid:    RootPidFile,
	RootErr:    rootsys.ErrFile,
	RootServer: rootsys.ServerFile,
	AbortLog:   RunDir + "/root-abort.log",
}

// realSys is the machine itself: children start through in's reaper.
func realSys(in *Init) *initSys {
	return &initSys{
		Start: func(cmd *exec.Cmd) (<-chan unix.WaitStatus, error) { return in.reaper.Start(cmd) },
		PTY:   (*console.Client).NewPTY,
		OpenTTY: func(name string) (*os.File, error) {
			return os.OpenFile("/dev/"+name, os.O_RDWR|unix.O_NOCTTY, 0)
		},
		Consoles:    console.KernelConsoles,
		OpenConsole: console.OpenDevice,
		Kill:        unix.Kill,
		Now:         time.Now,
		Sleep:       time.Sleep,
		After:       time.After,
		Mount:       mount.Entry.Do,
		Unmount:     mount.Unmount,
		Sync:        unix.Sync,
		Reboot:      unix.Reboot,
		sysPaths:    defaultPaths,
	}
}

// kernelConsole names the tty of the kernel's console, the one /dev/console
// writes to; "console" when none is named (console.KernelConsole).
func (s *initSys) kernelConsole() string {
	f := s.Consoles()
	if len(f) == 0 {
		return "console"
	}
	return f[len(f)-1]
}

// bounded runs f and waits at most d for it; false if it did not end in time (it
// goes on in the background).
func (s *initSys) bounded(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return true
	case <-s.After(d):
		return false
	}
}

// waitFor polls cond every 50 ms for at most d.
func (s *initSys) waitFor(d time.Duration, cond func() bool) bool {
	deadline := s.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if s.Now().After(deadline) {
			return false
		}
		s.Sleep(50 * time.Millisecond)
	}
}

// rootVars reads the boot variables as they stand (the Env directory), with
// overrides.
func (in *Init) rootVars(over map[string]string) func(string) string {
	return envVars(in.sys.Env, over)
}
