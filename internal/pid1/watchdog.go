package pid1

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/rootsys"
	"golang.org/x/sys/unix"
)

// watchdog probes the running root every interval: a child (`ants probe PID`)
// looks at the root's "/" through its namespace and is given timeout to answer.
// PID 1 itself never touches the root's files, and never waits for a probe that
// hangs: at most one is out at a time. It says "root not responding" once, and
// says so again when the root answers.
func (in *Init) watchdog(interval, timeout time.Duration) {
	var stuck <-chan unix.WaitStatus // a probe that did not answer, not reaped yet
	for {
		time.Sleep(interval)
		if stuck != nil {
			select {
			case <-stuck:
				stuck = nil
			default:
				// Still stuck: the root still does not answer.
				in.root.mu.Lock()
				pid := in.root.pid
				in.root.mu.Unlock()
				in.onHang(pid)
				continue
			}
		}
		r := in.root
		r.mu.Lock()
		pid, state := r.pid, r.state
		r.mu.Unlock()
		if state != rootRunning || pid == 0 {
			continue
		}
		cmd := exec.Command(BinDir+"/ants", "probe", strconv.Itoa(pid))
		cmd.Env = in.env
		// exec would open /dev/null for unset stdio inside the reaper's lock; give
		// it the one PID 1 holds open.
		if n := devNull(); n != nil {
			cmd.Stdin, cmd.Stdout, cmd.Stderr = n, n, n
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		ch, err := in.reaper.Start(cmd)
		if err != nil {
			continue
		}
		var why string
		select {
		case ws := <-ch:
			if ws.Exited() && ws.ExitStatus() == 0 {
				in.rootAnswered(pid)
				continue
			}
			why = "its file system fails (" + Describe(ws) + ")"
		case <-time.After(timeout):
			unix.Kill(cmd.Process.Pid, unix.SIGKILL)
			stuck = ch
			why = "no answer in " + timeout.String()
		}
		in.rootSilent(pid, why)
		in.onHang(pid)
	}
}

// onHang applies ants.onroothang to a root not responding for ants.hangafter
// seconds: report (nothing more), failover (stop it as a hung root and start it
// from the next server of its list), restart (the same server). The stop and
// start run beside the watchdog; one at a time.
func (in *Init) onHang(pid int) {
	get := rootVars(nil)
	policy := get("ants.onroothang")
	if policy != "failover" && policy != "restart" {
		return
	}
	after, err := bootvar.Seconds("ants.hangafter", get("ants.hangafter"))
	if err != nil {
		after = 30 * time.Second
	}
	r := in.root
	r.mu.Lock()
	if r.pid != pid || !r.hung || r.acting || time.Since(r.hungSince) < after {
		r.mu.Unlock()
		return
	}
	r.acting = true
	src, since := r.src, time.Since(r.hungSince).Round(time.Second)
	r.mu.Unlock()
	go in.safe("onroothang", func() {
		defer func() {
			r.mu.Lock()
			r.acting = false
			r.mu.Unlock()
		}()
		next, what := src, "restarting it from the same server"
		if policy == "failover" {
			cur := currentServer()
			if len(src.Servers) < 2 {
				what = "one server only (" + src.String() + "): restarting it"
			} else {
				next = src.Next(cur)
				what = "failing over to " + next.Servers[0]
			}
		}
		in.log.Printf("root system: not responding for %s; %s (ants.onroothang=%s)", since, what, policy)
		if err := in.stopRoot(0); err != nil {
			in.log.Printf("root system: %v", err)
		}
		focus := in.mux == nil || in.mux.Focused() == in.rootc
		if _, err := in.startRoot(next, focus); err != nil {
			in.log.Printf("root system: %v", err)
		}
	})
}

// currentServer is the server the running root came from (rootsys.ServerFile).
func currentServer() string {
	b, _ := os.ReadFile(rootsys.ServerFile)
	return strings.TrimSpace(string(b))
}

var (
	nullOnce sync.Once
	nullFile *os.File
)

// devNull is /dev/null, opened once: children started under the reaper's lock get
// it as stdio, so that nothing is opened there (a /dev/null a root replaced, with
// ants.rootpriv=full, could be a FIFO that never opens).
func devNull() *os.File {
	nullOnce.Do(func() {
		nullFile, _ = os.OpenFile("/dev/null", os.O_RDWR|unix.O_NONBLOCK, 0)
	})
	return nullFile
}

func (in *Init) rootSilent(pid int, why string) {
	r := in.root
	r.mu.Lock()
	if r.pid != pid || r.hung {
		r.mu.Unlock()
		return
	}
	r.hung, r.hungSince, r.probeErr = true, time.Now(), why
	r.mu.Unlock()
	if in.mux == nil {
		// No multiplexer: no escape key; the admin shell shares the console.
		in.log.Printf("root not responding: %s; rootctl stop or restart in the admin shell", why)
		return
	}
	in.log.Printf("root not responding: %s; %s a for the admin shell, then rootctl stop or restart", why, console.KeyName(in.mux.Escape()))
}

func (in *Init) rootAnswered(pid int) {
	r := in.root
	r.mu.Lock()
	if r.pid != pid || !r.hung {
		r.mu.Unlock()
		return
	}
	d := time.Since(r.hungSince).Round(time.Second)
	r.hung = false
	r.mu.Unlock()
	in.log.Printf("root responding again after %s", d)
}
