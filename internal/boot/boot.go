// Package boot runs the boot scripts: POSIX sh files, in lexical order, each in its
// own mvdan.cc/sh interpreter with the boot variables (/env) in its environment. It
// runs in a child of PID 1 (the interpreter waits for its commands, which a PID 1
// with a reaper must not do). A failing script is reported with file and line, and
// boot goes on.
package boot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/klog"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// ScriptError says where and how a boot script failed.
type ScriptError struct {
	File   string
	Line   int
	What   string // "syntax error: ...", "'bogus' exited 127 (command not found)"
	Status int
}

func (e *ScriptError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.What)
	}
	return fmt.Sprintf("%s: %s", e.File, e.What)
}

// Runner runs boot scripts.
type Runner struct {
	Log    *klog.Log
	EnvDir string // /env: read before each script, so a script sees what the last set
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// BaseEnv is the environment every script starts from (PATH, HOME, ...).
	BaseEnv []string
	// Break names a script to stop before (ants.break); Shell runs the break shell.
	Break string
	Shell func(reason string) error
	// Builtins run commands in the runner's own process instead of starting a
	// program: each start of the busybox binary costs some 40 ms under TCG. A
	// builtin that returns ran=false leaves the command to be started as usual.
	Builtins map[string]Builtin
}

// Builtin runs args (args[0] is the command's name) with the given stdio and
// returns its exit status, or ran=false to have the program started instead.
type Builtin func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (status int, ran bool)

// Scripts lists dir/*.sh in lexical order; a missing dir has none.
func Scripts(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*.sh"))
	sort.Strings(m)
	return m
}

// BreakMatches says whether ants.break=name names the script at path: its file
// name, with or without ".sh", or without its "NN-" order prefix too.
func BreakMatches(name, path string) bool {
	if name == "" {
		return false
	}
	base := filepath.Base(path)
	noExt := strings.TrimSuffix(base, ".sh")
	bare := noExt
	if i := strings.IndexByte(noExt, '-'); i > 0 && strings.Trim(noExt[:i], "0123456789") == "" {
		bare = noExt[i+1:]
	}
	return name == base || name == noExt || name == bare
}

// RunAll runs the scripts in order and returns how many failed.
func (r *Runner) RunAll(ctx context.Context, scripts []string) int {
	failed := 0
	for _, s := range scripts {
		if BreakMatches(r.Break, s) {
			r.Log.Printf("break before %s (ants.break=%s): exit the shell to go on", s, r.Break)
			if r.Shell != nil {
				if err := r.Shell("break"); err != nil {
					r.Log.Printf("break shell: %v", err)
				}
			}
			r.Log.Printf("resuming boot at %s", s)
		}
		start := time.Now()
		err := r.RunScript(ctx, s)
		ms := time.Since(start).Milliseconds()
		if err != nil {
			failed++
			r.Log.Printf("FAILED %v; boot goes on (%d ms)", err, ms)
			continue
		}
		r.Log.Printf("ran %s (%d ms)", s, ms)
	}
	return failed
}

// Env is the environment of a script: the base, then every /env variable (dots in
// names become underscores: ants.break is $ants_break).
func (r *Runner) Env() []string {
	env := append([]string{}, r.BaseEnv...)
	if r.EnvDir == "" {
		return env
	}
	vars, err := bootvar.ReadEnv(r.EnvDir)
	if err != nil {
		return env
	}
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		n := bootvar.EnvName(k)
		if syntax.ValidName(n) {
			env = append(env, n+"="+vars[k])
		}
	}
	return env
}

// RunScript runs one script with errexit: the first failing command ends it, and the
// error names the file and the line of that command.
func (r *Runner) RunScript(ctx context.Context, path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return &ScriptError{File: path, What: fmt.Sprintf("cannot read: %v", err), Status: 1}
	}
	f, err := syntax.NewParser().Parse(strings.NewReader(string(src)), path)
	if err != nil {
		var pe syntax.ParseError
		if errors.As(err, &pe) {
			return &ScriptError{File: path, Line: int(pe.Pos.Line()), What: "syntax error: " + pe.Text, Status: 2}
		}
		return &ScriptError{File: path, What: "syntax error: " + err.Error(), Status: 2}
	}
	// The interpreter tells the call handler where each command stands; pipelines
	// call it from several goroutines.
	var mu sync.Mutex
	var lastCall []string
	lastLine := 0
	sh, err := interp.New(
		interp.StdIO(r.Stdin, r.Stdout, r.Stderr),
		interp.Env(expand.ListEnviron(r.Env()...)),
		interp.Dir("/"),
		interp.Params("-e", "--", path),
		interp.CallHandler(func(ctx context.Context, args []string) ([]string, error) {
			mu.Lock()
			lastCall = append(lastCall[:0], args...)
			lastLine = int(interp.HandlerCtx(ctx).Pos.Line())
			mu.Unlock()
			return args, nil
		}),
		interp.ExecHandlers(func(next interp.ExecHandlerFunc) interp.ExecHandlerFunc {
			return func(ctx context.Context, args []string) error {
				b := r.Builtins[args[0]]
				if b == nil {
					return next(ctx, args)
				}
				hc := interp.HandlerCtx(ctx)
				stdin := hc.Stdin
				if stdin == nil { // no standard input: reads see its end
					stdin = strings.NewReader("")
				}
				stdout, stderr := hc.Stdout, hc.Stderr
				if stdout == nil {
					stdout = io.Discard
				}
				if stderr == nil {
					stderr = io.Discard
				}
				status, ran := b(ctx, args, stdin, stdout, stderr)
				if !ran {
					return next(ctx, args)
				}
				if status != 0 {
					return interp.ExitStatus(status)
				}
				return nil
			}
		}),
	)
	if err != nil {
		return &ScriptError{File: path, What: err.Error(), Status: 1}
	}
	for i, st := range f.Stmts {
		mu.Lock()
		lastCall, lastLine = lastCall[:0], 0
		mu.Unlock()
		err := sh.Run(ctx, st)
		exited := sh.Exited()
		if err == nil {
			if exited {
				return nil
			}
			continue
		}
		status := 1
		var es interp.ExitStatus
		if errors.As(err, &es) {
			status = int(es)
		}
		// As with sh -e: a failure inside && or || does not end the script, but the
		// script's status is its last statement's.
		if !exited && i < len(f.Stmts)-1 {
			continue
		}
		mu.Lock()
		line, what := describeFailure(st, lastCall, lastLine, status, err)
		mu.Unlock()
		return &ScriptError{File: path, Line: line, What: what, Status: status}
	}
	return nil
}

// describeFailure words the failure of statement st: the last command called, at
// the line the interpreter gave for it.
func describeFailure(st *syntax.Stmt, last []string, line, status int, err error) (int, string) {
	if line == 0 {
		line = int(st.Pos().Line())
	}
	if len(last) == 0 {
		if _, ok := err.(interp.ExitStatus); ok {
			return line, fmt.Sprintf("exit status %d", status)
		}
		return line, err.Error()
	}
	name := last[0]
	what := fmt.Sprintf("'%s' exited %d", strings.Join(last, " "), status)
	switch {
	case name == "exit":
		what = fmt.Sprintf("exit %d", status)
	case status == 127:
		what = fmt.Sprintf("'%s': command not found (exit 127)", name)
	case status == 126:
		what = fmt.Sprintf("'%s': not executable (exit 126)", name)
	}
	return line, what
}
