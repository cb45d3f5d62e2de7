package pid1

import (
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Reaper is PID 1's only wait4(-1) loop. Children are started through it and their
// exit status comes back on a channel; nothing else in PID 1 waits (a second
// waiter would steal statuses). Orphans re-parented to PID 1 are reaped quietly.
type Reaper struct {
	mu      sync.Mutex
	waiting map[int]chan unix.WaitStatus
	// Orphan is told about exits of processes nobody started here; may be nil.
	Orphan func(pid int, ws unix.WaitStatus)
}

// NewReaper returns a reaper; call Run in a goroutine with a SIGCHLD channel.
func NewReaper() *Reaper {
	return &Reaper{waiting: map[int]chan unix.WaitStatus{}}
}

// Start starts cmd and returns a channel that gets its wait status once.
func (r *Reaper) Start(cmd *exec.Cmd) (<-chan unix.WaitStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ch := make(chan unix.WaitStatus, 1)
	r.waiting[cmd.Process.Pid] = ch
	return ch, nil
}

// Run reaps children whenever sigchld fires, and every second in case a signal
// was coalesced. It never returns.
func (r *Reaper) Run(sigchld <-chan os.Signal) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-sigchld:
		case <-tick.C:
		}
		r.reapAll()
	}
}

func (r *Reaper) reapAll() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		r.mu.Lock()
		ch, ok := r.waiting[pid]
		delete(r.waiting, pid)
		r.mu.Unlock()
		if ok {
			ch <- ws
		} else if r.Orphan != nil {
			r.Orphan(pid, ws)
		}
	}
}

// Describe puts a wait status in words.
func Describe(ws unix.WaitStatus) string {
	switch {
	case ws.Exited():
		if ws.ExitStatus() == 0 {
			return "exited"
		}
		return "exited with status " + strconv.Itoa(ws.ExitStatus())
	case ws.Signaled():
		return "killed by " + unix.SignalName(ws.Signal())
	}
	return "stopped"
}
