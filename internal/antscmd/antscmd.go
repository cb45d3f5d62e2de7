// Package antscmd is the `ants` command: the admin's tool for boot variables and the
// boot runner PID 1 starts.
//
//	ants env [-l]          the boot variables as a kernel command line (ANTS save9cfg)
//	ants ask [NAME ...]    ask on the console for variables set to "ask"
//	ants conf FILE         add a boot.conf's variables to /env (the command line wins)
//	ants coldplug          load the driver of every device in /sys
//	ants modprobe NAME ... load modules (or aliases) with their dependencies
//	ants net [IP]          configure the network from ip= (netlink; DHCP)
//	ants boot              run the boot scripts (PID 1 starts this)
//	ants netcfg            copy a network root's /cfg/$sysname into the admin namespace
//	ants sshd [status|start|stop|keys|serve]  the SSH listener (internal/sshd)
package antscmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ants/ants/internal/ask"
	"github.com/ants/ants/internal/boot"
	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/klog"
	"github.com/ants/ants/internal/sshd"
)

// Paths, as PID 1 lays them out.
var (
	EnvDir     = "/env"
	BootConf   = "/cfg/boot.conf"
	CfgDir     = "/cfg"
	ScriptDir  = "/lib/boot"
	BootLog    = "/run/ants/boot.log"
	Cmdline    = "/proc/cmdline"
	Shell      = "/bbin/antsh"
	askedAllAt = "/run/ants/asked-interactive"
)

const usage = `usage:
  ants env [-l]          print the boot variables as a kernel command line (-l: one a line)
  ants ask [NAME ...]    ask on the console for NAMEs, or for every variable set to "ask"
  ants conf FILE         add the variables of a boot.conf to /env (the command line wins)
  ants coldplug          load the module of every device in /sys (its modalias)
  ants modprobe NAME ... load modules or aliases, with their dependencies
  ants net [IP]          configure the network from ip= (or IP): dhcp, none, or
                         client:server:gw:mask:host:dev:autoconf
  ants boot              run the boot scripts (init does this at boot)
  ants netcfg            copy a network root's /cfg/$sysname/ (boot.conf, *.sh) from
                         its server into /cfg/$sysname/ and apply its boot.conf
  ants sshd [status]     the SSH listener: status, start [[ADDR:]PORT], stop, keys (docs/remote.md)`

// Main runs the ants command with args (without "ants").
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "env":
		err = env(args[1:], stdout)
	case "ask":
		err = askCmd(args[1:], stdin, stdout)
	case "conf":
		err = conf(args[1:], stdout)
	case "coldplug":
		err = coldplug(args[1:], stdout)
	case "modprobe":
		err = modprobe(args[1:], stdout)
	case "net":
		err = netCmd(args[1:], stdout)
	case "boot":
		return bootCmd(stdin, stdout, stderr)
	case "sshd":
		return sshd.Main(args[1:], stdout, stderr)
	case "root-child":
		return rootChild(args[1:], stderr)
	case "probe":
		err = probe(args[1:], stdout)
	case "root-abort":
		err = rootAbort(args[1:], stdout)
	case "netcfg":
		err = netcfg(args[1:], stdout)
	case "netcfg-fetch":
		err = netcfgFetch(args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "ants: unknown command %q\n%s\n", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "ants %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// inProcess runs "ants SUBCOMMAND ..." in the calling process for the boot runner;
// a panic becomes exit status 1 with its message.
func inProcess(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (status int, ran bool) {
	if len(args) < 2 {
		return 0, false
	}
	switch args[1] {
	case "boot", "root-child", "root-abort", "probe", "netcfg-fetch":
		return 0, false
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "ants %s: PANIC: %v\n", args[1], r)
			status, ran = 1, true
		}
	}()
	return Main(args[1:], stdin, stdout, stderr), true
}

func readCmdline() string {
	b, _ := os.ReadFile(Cmdline)
	return string(b)
}

// current is the variables as they stand: /env on top of their sources.
func current() (*bootvar.Set, error) {
	confs := []string{BootConf}
	envs, err := bootvar.ReadEnv(EnvDir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", EnvDir, err)
	}
	if sn := envs["sysname"]; sn != "" && sn != bootvar.Ask {
		confs = append(confs, filepath.Join(CfgDir, sn, "boot.conf"))
	}
	s, _ := bootvar.Load(readCmdline(), confs...)
	s.MergeEnv(envs)
	return s, nil
}

func env(args []string, out io.Writer) error {
	lines := false
	for _, a := range args {
		switch a {
		case "-l":
			lines = true
		default:
			return fmt.Errorf("unknown argument %q; usage: ants env [-l]", a)
		}
	}
	envs, err := bootvar.ReadEnv(EnvDir)
	if err != nil {
		return fmt.Errorf("reading %s: %v", EnvDir, err)
	}
	s := bootvar.NewSet()
	for k, v := range envs {
		if kn, ok := bootvar.Lookup(k); ok && kn.Default == v {
			continue
		}
		s.Set(k, v, bootvar.FromEnv)
	}
	words := s.CmdlineWords()
	if lines {
		for _, w := range words {
			fmt.Fprintln(out, w)
		}
		return nil
	}
	fmt.Fprintln(out, strings.Join(words, " "))
	return nil
}

func askCmd(names []string, in io.Reader, out io.Writer) error {
	s, err := current()
	if err != nil {
		return err
	}
	if len(names) == 0 {
		for _, n := range s.Names() {
			if s.Value(n) == bootvar.Ask {
				names = append(names, n)
			}
		}
		if bootvar.Truth(s.Value("interactive")) {
			if _, err := os.Stat(askedAllAt); err != nil {
				names = nil
				for _, k := range bootvar.Table {
					if k.Ask {
						names = append(names, k.Name)
					}
				}
				os.WriteFile(askedAllAt, nil, 0o644)
			}
		}
	}
	a := &ask.Asker{In: in, Out: out, Shell: func() error { return runShell(in, out) }}
	for _, n := range names {
		if strings.ContainsAny(n, "/\x00") || n == "" {
			return fmt.Errorf("%q is not a variable name", n)
		}
		offer := s.Offer(n)
		v, err := a.Ask(n, offer)
		if errors.Is(err, ask.ErrNoAnswer) {
			fmt.Fprintf(out, "ants: %s: %v; keeping %q\n", n, err, v)
		}
		if err := bootvar.WriteVar(EnvDir, n, v); err != nil {
			return err
		}
		s.Set(n, v, bootvar.FromConsole)
	}
	return nil
}

// runShell runs the admin shell on the console and waits for it.
func runShell(in io.Reader, out io.Writer) error {
	cmd := exec.Command(Shell)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, out
	cmd.Env = os.Environ()
	// ^C in the shell reaches us too (same process group): it is the shell's.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGQUIT)
	defer signal.Stop(sig)
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil
	}
	return err
}

func conf(args []string, out io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: ants conf FILE")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	params, errs := bootvar.ParseConf(f, args[0])
	onCmdline := map[string]bool{}
	cl, _ := bootvar.ParseCmdline(readCmdline())
	for _, p := range cl {
		onCmdline[p.Key] = true
	}
	// Apply on an empty set: a value refused by its check then leaves no trace,
	// and /env keeps what it had.
	s := &bootvar.Set{}
	var kept []bootvar.Param
	for _, p := range params {
		if !onCmdline[p.Key] {
			kept = append(kept, p)
		}
	}
	errs = append(errs, s.Apply(kept, args[0])...)
	for _, e := range errs {
		fmt.Fprintf(out, "ants conf: %v\n", e)
	}
	for _, n := range s.Names() {
		if err := bootvar.WriteVar(EnvDir, n, s.Value(n)); err != nil {
			return err
		}
	}
	return nil
}

func bootCmd(stdin io.Reader, stdout, stderr io.Writer) int {
	// ^C while a script runs is for the script's command, not for the runner.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGQUIT)
	log := klog.New("boot", stdout)
	if err := log.OpenFile(BootLog); err != nil {
		log.Printf("cannot append to %s: %v", BootLog, err)
	}
	envs, _ := bootvar.ReadEnv(EnvDir)
	r := &boot.Runner{
		Log:     log,
		EnvDir:  EnvDir,
		Stdin:   stdin,
		Stdout:  stdout,
		Stderr:  stderr,
		BaseEnv: os.Environ(),
		Break:   envs["ants.break"],
		Shell:   func(string) error { return runShell(stdin, stdout) },
		// ants' own subcommands run inside the runner, but those that must be a
		// process of their own (boot, root-child).
		Builtins: map[string]boot.Builtin{"ants": inProcess},
	}
	start := time.Now()
	scripts := boot.Scripts(ScriptDir)
	failed := r.RunAll(context.Background(), scripts)
	ran := len(scripts)
	envs, _ = bootvar.ReadEnv(EnvDir)
	if sn := envs["sysname"]; sn != "" && sn != bootvar.Ask && !strings.ContainsAny(sn, "/") {
		dir := filepath.Join(CfgDir, sn)
		if host := boot.Scripts(dir); len(host) > 0 {
			log.Printf("running the scripts of %s", dir)
			failed += r.RunAll(context.Background(), host)
			ran += len(host)
		}
	}
	log.Printf("boot scripts done: %d ran, %d failed (%d ms)", ran, failed, time.Since(start).Milliseconds())
	if failed > 0 {
		return 1
	}
	return 0
}
