package nsfs

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/ants/ants/internal/nsfile"
)

// NsfileBackend is the backend of the real thing: internal/nsfile reads and writes
// namespaces (the same code as `ns` and `ns -w`).
func NsfileBackend(log io.Writer) *Backend {
	return &Backend{
		Read: nsfile.Print,
		Write: func(pid int, lines string) error {
			r, err := nsfile.Apply(pid, lines, nil)
			if err != nil {
				return err
			}
			if r.Report(log, fmt.Sprintf("nsfs: pid %d", pid)) {
				return r.Err
			}
			return nil
		},
	}
}

const usage = `usage: nsfs [-d] [MOUNTPOINT]
  serve MOUNTPOINT/PID/ns (default /n/ns) for every process: reading it prints the
  namespace as ns PID does; each line written to it is applied as ns -w PID applies
  it (only root, or the process's own user, may write); -d runs in the background,
  logging to /run/ants/nsfs.log`

// Main is the nsfs command.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nsfs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	daemon := fs.Bool("d", false, "run in the background")
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dir := "/n/ns"
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	if *daemon {
		return background(dir, stdout, stderr)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "nsfs: %v\n", err)
		return 1
	}
	srv, err := Mount(dir, NsfileBackend(stderr))
	if err != nil {
		fmt.Fprintf(stderr, "nsfs: mounting %s: %v (is the fuse module loaded? ants modprobe fuse)\n", dir, err)
		return 1
	}
	fmt.Fprintf(stdout, "nsfs: serving %s\n", dir)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		<-sig
		srv.Unmount()
	}()
	srv.Wait()
	return 0
}

// background starts nsfs again in a session of its own, logging to a file, and
// returns once it serves (or failed).
func background(dir string, stdout, stderr io.Writer) int {
	log, err := os.OpenFile("/run/ants/nsfs.log", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		log, _ = os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	self, err := os.Executable()
	if err != nil {
		self = "/bbin/nsfs"
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "nsfs: %v\n", err)
		return 1
	}
	cmd := exec.Command(self, dir)
	cmd.Args[0] = "nsfs"
	cmd.Stdout, cmd.Stderr = w, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "nsfs: %v\n", err)
		return 1
	}
	w.Close()
	buf := make([]byte, 256)
	n, rerr := r.Read(buf)
	if n == 0 || errors.Is(rerr, io.EOF) {
		fmt.Fprintf(stderr, "nsfs: did not start; see /run/ants/nsfs.log\n")
		return 1
	}
	fmt.Fprintf(stdout, "%s", buf[:n])
	cmd.Process.Release()
	return 0
}
