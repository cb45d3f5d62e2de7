// Package antscmd is the `ants` command: the admin's tool for boot variables and the
// boot runner PID 1 starts.
//
//	ants env [-l | -v]     the boot variables as a kernel command line (ANTS save9cfg)
//	ants ask [NAME ...]    ask on the console for variables set to "ask"
//	ants conf FILE         add a boot.conf's variables to /env (the command line wins)
//	ants coldplug [-v]     load the driver of every device in /sys (-v: list those with none)
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
	"github.com/ants/ants/internal/hub"
	"github.com/ants/ants/internal/klog"
	"github.com/ants/ants/internal/rootctl"
	"github.com/ants/ants/internal/sshd"
)

// Paths are where the ants command finds and keeps things: Default is the admin
// namespace's, as PID 1 lays it out; tests make their own.
type Paths struct {
	EnvDir     string // /env: one file per variable, the truth at run time
	Record     string // the variables as PID 1 read them at boot, with their sources (bootvar.RecordFile)
	BootConf   string // the image's boot.conf
	CfgDir     string // /cfg: $sysname/boot.conf and $sysname/*.sh
	ScriptDir  string // the boot scripts
	BootLog    string // the boot log ants boot appends to
	Cmdline    string // the kernel command line
	Shell      string // the admin shell, for ask's "sh" and ants.break
	AskedAll   string // marks that interactive=yes has asked for everything once
	Answered   string // the variables answered on the console, a name a line: ants conf leaves them
	ModulesDir string // the image's modules: RELEASE/
	Sysfs      string // where the kernel shows its devices
	ResolvConf string // where ants net writes the DNS servers it learnt
	HubSocket  string // PID 1's hub socket: ask takes the console there first; "" for none
}

// Default are the paths of the admin namespace.
var Default = Paths{
	EnvDir:     "/env",
	Record:     bootvar.RecordFile,
	BootConf:   "/cfg/boot.conf",
	CfgDir:     "/cfg",
	ScriptDir:  "/lib/boot",
	BootLog:    rootctl.BootLog,
	Cmdline:    "/proc/cmdline",
	Shell:      "/bbin/antsh",
	AskedAll:   "/run/ants/asked-interactive",
	Answered:   "/run/ants/answered",
	ModulesDir: "/lib/modules",
	Sysfs:      "/sys",
	ResolvConf: "/etc/resolv.conf",
	HubSocket:  hub.Socket,
}

const usage = `usage:
  ants env [-l | -v]     print the boot variables as a kernel command line (-l: one a line;
                         -v: every one a line with its source)
  ants ask [NAME ...]    ask on the console for NAMEs, or for every variable set to "ask"
  ants conf FILE         add the variables of a boot.conf to /env (the command line wins)
  ants coldplug [-v]     load the module of every device in /sys (its modalias); -v: say
                         what it loads, and list the devices with no driver in the image
  ants modprobe NAME ... load modules or aliases, with their dependencies
  ants net [IP]          configure the network from ip= (or IP): dhcp, none, or
                         client:server:gw:mask:host:dev:autoconf
  ants boot              run the boot scripts (init does this at boot)
  ants netcfg            copy a network root's /cfg/$sysname/ (boot.conf, *.sh) from
                         its server into /cfg/$sysname/ and apply its boot.conf
  ants sshd [status]     the SSH listener: status, start [[ADDR:]PORT], stop, keys (docs/remote.md)
  ants bootchart [-o F]  the boot as an SVG timeline, from the boot log (docs/performance.md)`

// Main runs the ants command with args (without "ants") on the admin
// namespace's paths.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Default.Main(args, stdin, stdout, stderr)
}

// Main runs the ants command with args (without "ants").
func (p Paths) Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "env":
		err = p.env(args[1:], stdout)
	case "ask":
		err = p.askCmd(args[1:], stdin, stdout)
	case "conf":
		err = p.conf(args[1:], stdout)
	case "coldplug":
		err = p.coldplug(args[1:], stdout)
	case "modprobe":
		err = p.modprobe(args[1:], stdout)
	case "net":
		err = p.netCmd(args[1:], stdout)
	case "boot":
		return p.bootCmd(stdin, stdout, stderr)
	case "sshd":
		return sshd.Main(args[1:], stdout, stderr)
	case "root-child":
		return p.rootChild(args[1:], stderr)
	case "netcfg":
		err = p.netcfg(args[1:], stdout)
	case "netcfg-fetch":
		err = p.netcfgFetch(args[1:], stdout)
	case "bootchart":
		err = p.bootchartCmd(args[1:], stdout)
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
func (p Paths) inProcess(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (status int, ran bool) {
	if len(args) < 2 {
		return 0, false
	}
	switch args[1] {
	case "boot", "root-child", "netcfg-fetch":
		return 0, false
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "ants %s: PANIC: %v\n", args[1], r)
			status, ran = 1, true
		}
	}()
	return p.Main(args[1:], stdin, stdout, stderr), true
}

func (p Paths) readCmdline() string {
	b, _ := os.ReadFile(p.Cmdline)
	return string(b)
}

// boot is the variables as PID 1 read them at boot, with their layers: its
// record, or without one (a test) the same read again from the image's boot.conf
// and the kernel command line.
func (p Paths) boot() *bootvar.Set {
	if s, err := bootvar.ReadRecord(p.Record); err == nil {
		return s
	}
	s, _ := bootvar.Load(p.readCmdline(), p.BootConf)
	return s
}

// onCmdline says whether the kernel command line set name at boot.
func (p Paths) onCmdline(name string) bool {
	return p.boot().HasSource(name, bootvar.FromCmdline)
}

// current is the variables as they stand: /env on top of their sources at boot,
// with /cfg/$sysname/boot.conf under the kernel command line.
func (p Paths) current() (*bootvar.Set, error) {
	envs, err := bootvar.ReadEnv(p.EnvDir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", p.EnvDir, err)
	}
	s := p.boot()
	if sn := envs["sysname"]; sn != "" && sn != bootvar.Ask {
		host := filepath.Join(p.CfgDir, sn, "boot.conf")
		if f, err := os.Open(host); err == nil {
			params, _ := bootvar.ParseConf(f, host)
			f.Close()
			s.ApplyUnder(params, host, bootvar.FromCmdline)
		}
	}
	s.MergeEnv(envs)
	return s, nil
}

func (p Paths) env(args []string, out io.Writer) error {
	lines, sources := false, false
	for _, a := range args {
		switch a {
		case "-l":
			lines = true
		case "-v":
			sources = true
		default:
			return fmt.Errorf("unknown argument %q; usage: ants env [-l | -v]", a)
		}
	}
	envs, err := bootvar.ReadEnv(p.EnvDir)
	if err != nil {
		return fmt.Errorf("reading %s: %v", p.EnvDir, err)
	}
	if sources {
		p.envSources(envs, out)
		return nil
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

// envSources is `ants env -v`: every variable of /env, one a line, with where its
// value came from: the source the record gives, when /env still holds the
// value PID 1 wrote, else /env.
func (p Paths) envSources(envs map[string]string, out io.Writer) {
	boot := p.boot()
	s := &bootvar.Set{}
	for k, v := range envs {
		src := bootvar.FromEnv
		if bv, ok := boot.Get(k); ok && bv == v {
			src = boot.Source(k)
		}
		s.Set(k, v, src)
	}
	for _, n := range s.Names() {
		fmt.Fprintf(out, "%s\t(%s)\n", bootvar.Param{Key: n, Value: s.Value(n), HasValue: true}.Word(), s.Source(n))
	}
}

func (p Paths) askCmd(names []string, in io.Reader, out io.Writer) error {
	s, err := p.current()
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
			if _, err := os.Stat(p.AskedAll); err != nil {
				names = nil
				for _, k := range bootvar.Table {
					if k.Ask {
						names = append(names, k.Name)
					}
				}
				os.WriteFile(p.AskedAll, nil, 0o644)
			}
		}
	}
	if len(names) > 0 {
		p.takeConsole(in)
	}
	a := &ask.Asker{In: in, Out: out, Shell: func() error { return p.runShell(in, out) }}
	for _, n := range names {
		if strings.ContainsAny(n, "/\x00") || n == "" {
			return fmt.Errorf("%q is not a variable name", n)
		}
		offer := s.Offer(n)
		v, err := a.Ask(n, offer)
		if errors.Is(err, ask.ErrNoAnswer) {
			fmt.Fprintf(out, "ants: %s: %v; keeping %q\n", n, err, v)
		}
		if err := bootvar.WriteVar(p.EnvDir, n, v); err != nil {
			return err
		}
		s.Set(n, v, bootvar.FromConsole)
		p.answered(n)
	}
	return nil
}

// runShell runs the admin shell on the console and waits for it.
func (p Paths) runShell(in io.Reader, out io.Writer) error {
	cmd := exec.Command(p.Shell)
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

func (p Paths) conf(args []string, out io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: ants conf FILE")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	params, errs := bootvar.ParseConf(f, args[0])
	// The command line wins: what it set at boot (the record says) is left; so
	// does an answer on the console (this boot.conf's "ask" was answered already
	// when 20-ask.sh ran: ants ask reads it too).
	boot := p.boot()
	answered := p.answeredNames()
	// Apply on an empty set: a value refused by its check then leaves no trace,
	// and /env keeps what it had.
	s := &bootvar.Set{}
	var kept []bootvar.Param
	for _, prm := range params {
		if !boot.HasSource(prm.Key, bootvar.FromCmdline) && !answered[prm.Key] {
			kept = append(kept, prm)
		}
	}
	errs = append(errs, s.Apply(kept, args[0])...)
	for _, e := range errs {
		fmt.Fprintf(out, "ants conf: %v\n", e)
	}
	for _, n := range s.Names() {
		if err := bootvar.WriteVar(p.EnvDir, n, s.Value(n)); err != nil {
			return err
		}
	}
	return nil
}

func (p Paths) bootCmd(stdin io.Reader, stdout, stderr io.Writer) int {
	// ^C while a script runs is for the script's command, not for the runner.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGQUIT)
	log := klog.New("boot", stdout)
	if err := log.OpenFile(p.BootLog); err != nil {
		log.Printf("cannot append to %s: %v", p.BootLog, err)
	}
	envs, _ := bootvar.ReadEnv(p.EnvDir)
	r := &boot.Runner{
		Log:     log,
		EnvDir:  p.EnvDir,
		Stdin:   stdin,
		Stdout:  stdout,
		Stderr:  stderr,
		BaseEnv: os.Environ(),
		Break:   envs["ants.break"],
		Shell:   func(string) error { return p.runShell(stdin, stdout) },
		// ants' own subcommands run inside the runner, but those that must be a
		// process of their own (boot, root-child).
		Builtins: map[string]boot.Builtin{"ants": p.inProcess},
	}
	start := time.Now()
	scripts := boot.Scripts(p.ScriptDir)
	failed := r.RunAll(context.Background(), scripts)
	ran := len(scripts)
	envs, _ = bootvar.ReadEnv(p.EnvDir)
	if sn := envs["sysname"]; sn != "" && sn != bootvar.Ask && !strings.ContainsAny(sn, "/") {
		dir := filepath.Join(p.CfgDir, sn)
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

// takeConsole makes sure a question will be seen: the boot scripts run behind the
// admin prompt when the boot has nothing to ask (PID 1's promptFirst), so before
// asking, their terminal takes the console (hub.OpFocus). From any other terminal
// PID 1 does nothing, and without PID 1 (no socket) there is nothing to do.
func (p Paths) takeConsole(in io.Reader) {
	if p.HubSocket == "" {
		return
	}
	f, ok := in.(*os.File)
	if !ok {
		f = os.Stdin
	}
	(&hub.Client{Socket: p.HubSocket}).TakeConsole(f)
}

// answered notes that name got its value on the console (Paths.Answered).
func (p Paths) answered(name string) {
	if p.Answered == "" {
		return
	}
	if f, err := os.OpenFile(p.Answered, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
		fmt.Fprintln(f, name)
		f.Close()
	}
}

// answeredNames are the variables answered on the console so far.
func (p Paths) answeredNames() map[string]bool {
	names := map[string]bool{}
	if p.Answered == "" {
		return names
	}
	b, _ := os.ReadFile(p.Answered)
	for _, n := range strings.Fields(string(b)) {
		names[n] = true
	}
	return names
}
