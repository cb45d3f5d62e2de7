// Package shell is antsh, the admin shell of ants: POSIX sh by mvdan.cc/sh/v3, with a
// line editor made for serial consoles. Interactive on a terminal (prompt
// "sysname% ", history, ^C stops the running command and not the shell), and a plain
// script runner otherwise (antsh FILE, antsh -c CMD, commands on stdin).
package shell

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ants/ants/internal/console"
	"github.com/ants/ants/internal/lineedit"
	"github.com/ants/ants/internal/payload"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// killTimeout is how long a command gets after SIGINT (on ^C) before SIGKILL: when
// ^C cancels what the shell runs, the interpreter sends the command SIGINT and, if it
// has not exited killTimeout later, SIGKILL.
const killTimeout = 2 * time.Second

// Main runs antsh with args (without the program name) and returns its exit status.
func Main(args []string) int {
	fs := flag.NewFlagSet("antsh", flag.ContinueOnError)
	cmd := fs.String("c", "", "run `command` and exit")
	inter := fs.Bool("i", false, "interactive even when stdin is not a terminal")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: antsh [-i] [-c command | file [arg ...]]\n")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	r, err := newRunner(fs.Args())
	if err != nil {
		fmt.Fprintf(os.Stderr, "antsh: %v\n", err)
		return 2
	}
	ctx := context.Background()
	switch {
	case *cmd != "":
		return runSource(ctx, r, strings.NewReader(*cmd), "-c")
	case fs.NArg() > 0:
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			fmt.Fprintf(os.Stderr, "antsh: %v\n", err)
			return 127
		}
		defer f.Close()
		return runSource(ctx, r, f, fs.Arg(0))
	case *inter || term.IsTerminal(0):
		return Interactive(ctx, r, os.Stdin, os.Stdout)
	default:
		return runSource(ctx, r, os.Stdin, "stdin")
	}
}

func newRunner(params []string) (*interp.Runner, error) {
	opts := []interp.RunnerOption{
		interp.StdIO(os.Stdin, os.Stdout, os.Stderr),
		interp.Env(expand.ListEnviron(os.Environ()...)),
		interp.ExecHandlers(func(interp.ExecHandlerFunc) interp.ExecHandlerFunc {
			run := interp.DefaultExecHandler(killTimeout)
			return func(ctx context.Context, args []string) error {
				// A command typed the moment the prompt appears: PID 1 is
				// mounting the image's programs (internal/payload).
				payload.WaitBin(5 * time.Second)
				return run(ctx, args)
			}
		}),
	}
	if len(params) > 1 {
		opts = append(opts, interp.Params(append([]string{"--"}, params[1:]...)...))
	}
	return interp.New(opts...)
}

// runSource runs a whole script and returns its exit status.
func runSource(ctx context.Context, r *interp.Runner, src io.Reader, name string) int {
	f, err := syntax.NewParser().Parse(src, name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "antsh: %v\n", err)
		return 2
	}
	return status(r.Run(ctx, f))
}

func status(err error) int {
	if err == nil {
		return 0
	}
	var es interp.ExitStatus
	if errors.As(err, &es) {
		return int(es)
	}
	fmt.Fprintf(os.Stderr, "antsh: %v\n", err)
	return 1
}

// Prompt is "sysname% ", rc's prompt with the machine's name in front.
func Prompt() string {
	h, err := os.Hostname()
	if err != nil || h == "" || h == "(none)" {
		h = "ants"
	}
	return h + "% "
}

// Interactive reads commands from the terminal in and runs them until exit or ^D.
func Interactive(ctx context.Context, r *interp.Runner, in *os.File, out io.Writer) int {
	fd := int(in.Fd())
	noSuspend(fd)
	// ^C reaches every process of the foreground group: the command dies of it, the
	// shell only cancels what it is running. ^\ and ^Z must not stop or kill the
	// shell either: the console would be left with nobody reading it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU)
	defer signal.Stop(sigs)

	ed := lineedit.New(console.NewHotTerminal(in), out) // keys without the scheduler while they come
	var src strings.Builder
	last := 0
	for {
		prompt := Prompt()
		if src.Len() > 0 {
			prompt = "> "
		}
		reclaimTerminal(fd, sigs)
		old, rawErr := term.MakeRaw(fd)
		line, err := ed.ReadLine(prompt)
		if rawErr == nil {
			term.Restore(fd, old)
		}
		drain(sigs)
		switch {
		case errors.Is(err, lineedit.ErrInterrupt):
			src.Reset()
			continue
		case err == io.EOF:
			if src.Len() > 0 {
				fmt.Fprintln(out, "antsh: end of input inside a command; dropped")
				src.Reset()
				continue
			}
			fmt.Fprintln(out)
			return last
		case err != nil:
			fmt.Fprintf(os.Stderr, "antsh: reading the terminal: %v\n", err)
			return 1
		}
		src.WriteString(line)
		src.WriteString("\n")
		f, perr := syntax.NewParser().Parse(strings.NewReader(src.String()), "")
		if perr != nil {
			if syntax.IsIncomplete(perr) {
				continue
			}
			fmt.Fprintf(os.Stderr, "antsh: %v\n", perr)
			src.Reset()
			last = 2
			continue
		}
		src.Reset()
		var interrupted bool
		last, interrupted = runInteractive(ctx, r, f, sigs)
		if interrupted {
			// The terminal echoed ^C; the prompt goes on the next line.
			fmt.Fprintln(out)
			continue
		}
		if r.Exited() {
			return last
		}
	}
}

// runInteractive runs the statements of f, cancelled by ^C; it returns the exit
// status and whether ^C stopped it (the interpreter then looks as if it exited,
// which must not end the shell).
func runInteractive(ctx context.Context, r *interp.Runner, f *syntax.File, sigs chan os.Signal) (int, bool) {
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGINT {
					cancel()
				}
			case <-done:
				return
			}
		}
	}()
	last := 0
	for _, st := range f.Stmts {
		err := r.Run(cctx, st)
		last = statusQuiet(err)
		if r.Exited() || cctx.Err() != nil {
			break
		}
	}
	interrupted := cctx.Err() != nil
	close(done)
	cancel()
	if interrupted {
		return 130, true
	}
	return last, false
}

func statusQuiet(err error) int {
	if err == nil {
		return 0
	}
	var es interp.ExitStatus
	if errors.As(err, &es) {
		return int(es)
	}
	if errors.Is(err, context.Canceled) {
		return 130
	}
	fmt.Fprintf(os.Stderr, "antsh: %v\n", err)
	return 1
}

func drain(c chan os.Signal) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// reclaimTerminal makes the shell's process group the terminal's foreground again:
// a job-control shell run from here (reroot's, a root's sh) sets its own group as
// the foreground and may leave it so when it exits, and reading the terminal from
// the background fails with EIO.
func reclaimTerminal(fd int, sigs chan os.Signal) {
	pgrp := unix.Getpgrp()
	fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || fg == pgrp {
		return
	}
	// tcsetpgrp from the background raises SIGTTOU unless it is ignored.
	signal.Ignore(syscall.SIGTTOU)
	unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, pgrp)
	signal.Notify(sigs, syscall.SIGTTOU)
}

// noSuspend turns off the terminal's suspend character: without job control a
// stopped command would leave the shell waiting for ever.
func noSuspend(fd int) {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return
	}
	t.Cc[unix.VSUSP] = 0
	unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
