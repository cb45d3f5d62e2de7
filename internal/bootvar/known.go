package bootvar

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/ants/ants/internal/guard"
)

// Kind says how a variable is written on a kernel command line.
type Kind int

const (
	// Value is written KEY=VALUE.
	Value Kind = iota
	// Flag is a bare word (ro, rw, rootwait): set means present.
	Flag
)

// Known describes a variable ants understands.
type Known struct {
	Name    string
	Kind    Kind
	Default string
	// Ask: interactive=yes asks for it, in the order of the table.
	Ask bool
	// Check validates a value (never "ask"); nil accepts anything.
	Check func(string) error
	// MaxSeconds > 0 makes it a duration: a whole number of seconds from 0 to
	// MaxSeconds (its Check, set by init).
	MaxSeconds int
	Doc        string
}

// Table lists every variable ants knows, in the order interactive=yes asks them.
// docs/cmdline.md is the reference for users; a test keeps the two in step.
var Table = []Known{
	{Name: "sysname", Ask: true, Check: checkSysname, Doc: "machine name: sets the hostname and selects /cfg/$sysname/"},
	{Name: "root", Ask: true, Doc: "where the root comes from: a device (/dev/vda1, LABEL=, UUID=, PARTUUID=), 9p, nfs:SERVER:/PATH, nfs4:SERVER:/PATH, /dev/nfs, virtfs:TAG"},
	{Name: "nfsroot", Doc: "with root=/dev/nfs: [SERVER:]PATH[,OPTIONS] of the NFS root"},
	{Name: "rootfstype", Doc: "file system type of the root"},
	{Name: "rootflags", Doc: "mount options of the root"},
	{Name: "ro", Kind: Flag, Doc: "mount the root read-only"},
	{Name: "rw", Kind: Flag, Doc: "mount the root read-write"},
	{Name: "rootwait", Kind: Flag, Doc: "wait for the root device to appear"},
	{Name: "rootdelay", MaxSeconds: MaxSeconds, Doc: "seconds to wait before mounting the root"},
	{Name: "init", Default: "/sbin/init", Doc: "program started as PID 1 of the root system"},
	{Name: "ip", Ask: true, Check: checkIP, Doc: "network: dhcp, none, or client:server:gw:mask:host:dev:autoconf"},
	{Name: "console", Doc: "console device(s), as the kernel takes them"},
	{Name: "venti", Ask: true, Check: checkDial, Doc: "network root fileserver: tcp!HOST!PORT or HOST:PORT (port 564 by default), or a comma-separated list of them, tried in order"},
	{Name: "interactive", Check: checkYesNo, Doc: "yes: ask for every askable variable at boot"},
	{Name: "ants.break", Doc: "stop before boot script NAME with a shell; exit the shell to go on"},
	{Name: "ants.modules", Doc: "extra kernel modules to load at boot, separated by commas or spaces"},
	{Name: "ants.onrootexit", Default: "shell", Check: oneOf("shell", "restart", "poweroff", "reboot"), Doc: "what to do when the root's init exits"},
	{Name: "ants.escape", Default: "^]", Doc: "console escape key, written ^X"},
	{Name: "ants.aname", Doc: "9P attach name (the exported path) of the network root"},
	{Name: "ants.initargs", Doc: "arguments for the root's init"},
	{Name: "ants.watchdog", Default: "5", MaxSeconds: MaxSeconds, Doc: "seconds between probes of the root, and each probe's timeout; 0 turns the watchdog off"},
	{Name: "ants.onroothang", Default: "report", Check: oneOf("report", "failover", "restart"), Doc: "what to do with a root not responding for ants.hangafter: report, failover (the next server of the list), restart (the same)"},
	{Name: "ants.hangafter", Default: "30", MaxSeconds: MaxSeconds, Doc: "seconds a root is not responding before ants.onroothang acts"},
	{Name: "ants.tmpfs", Default: "50%", Check: checkSize, Doc: "size limit of the admin namespace's tmpfs (bytes, k/m/g suffix, or % of RAM)"},
	{Name: "ants.overlay", Doc: "tmpfs[:size=N] or a disk (LABEL=, UUID=, /dev/X): the root's tree read-only under a writable layer there"},
	{Name: "ants.rootpriv", Default: "contained", Check: oneOf("contained", "full"), Doc: "contained: the root gets its own /dev, read-only /proc/sys and /sys, fewer capabilities and a device filter; full: a trusted root gets the machine back"},
	{Name: "ants.rootmem", Default: "auto", Check: checkRootMem, Doc: "memory limit of the root's cgroup: auto (all but a reserve for the admin side), max, a size or a % of RAM"},
	{Name: "ants.rootpids", Default: "auto", Check: checkRootPids, Doc: "task limit of the root's cgroup: auto (all but a reserve for the admin side), max, or a number"},
	{Name: "ants.sshd", Check: checkListen, Doc: "[ADDR:]PORT: start the SSH listener of the admin namespace there (off when unset)"},
	{Name: "ants.sshkey", Check: checkSSHKey, Doc: "a public key allowed to log in over ssh, as a line of authorized_keys, in double quotes"},
}

func init() {
	for i, k := range Table {
		if k.MaxSeconds > 0 {
			Table[i].Check = seconds(k.MaxSeconds)
		}
	}
}

// Lookup returns the table entry for name.
func Lookup(name string) (Known, bool) {
	for _, k := range Table {
		if k.Name == name {
			return k, true
		}
	}
	return Known{}, false
}

// IsKnown reports whether name is a variable of the table.
func IsKnown(name string) bool {
	_, ok := Lookup(name)
	return ok
}

// Validate checks value for the named variable. "ask" is always valid.
func Validate(name, value string) error {
	k, ok := Lookup(name)
	if !ok || k.Check == nil || value == Ask {
		return nil
	}
	return k.Check(value)
}

// Ask is the value that makes boot ask for a variable on the console.
const Ask = "ask"

func checkDial(v string) error {
	_, err := ParseDials(v)
	return err
}

func checkSysname(v string) error {
	if len(v) > 64 {
		return fmt.Errorf("%q is longer than 64 characters", v)
	}
	for _, c := range v {
		if !(c == '-' || c == '.' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return fmt.Errorf("%q has the character %q; use letters, digits, '-', '_' and '.'", v, c)
		}
	}
	return nil
}

// MaxSeconds bounds every duration variable: an hour. A larger count of seconds
// is a typo, and past 2^63 ns it would overflow a time.Duration (to a negative
// one, which makes a ticker spin).
const MaxSeconds = 3600

// seconds checks a whole number of seconds from 0 to max.
func seconds(max int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if errors.Is(err, strconv.ErrRange) || (err == nil && (n < 0 || n > max)) {
			return fmt.Errorf("%q is out of range: from 0 to %d seconds", v, max)
		}
		if err != nil {
			return fmt.Errorf("%q is not a whole number of seconds", v)
		}
		return nil
	}
}

// Seconds reads the value of a duration variable of the table, checked against
// its range; the error names the variable, the value and the range.
func Seconds(name, value string) (time.Duration, error) {
	k, ok := Lookup(name)
	if !ok || k.MaxSeconds == 0 {
		return 0, fmt.Errorf("%s is not a duration variable", name)
	}
	if err := k.Check(value); err != nil {
		return 0, fmt.Errorf("%s: %v", name, err)
	}
	n, err := strconv.Atoi(value)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number of seconds", name, value)
	}
	return time.Duration(n) * time.Second, nil
}

func checkYesNo(v string) error {
	switch strings.ToLower(v) {
	case "yes", "no", "1", "0", "true", "false", "y", "n", "":
		return nil
	}
	return fmt.Errorf("%q is not yes or no", v)
}

// Truth reads a yes/no variable value.
func Truth(v string) bool {
	switch strings.ToLower(v) {
	case "yes", "1", "true", "y":
		return true
	}
	return false
}

func checkIP(v string) error {
	switch v {
	case "", "dhcp", "none", "off", "on", "any", "auto", "both", "bootp", "rarp":
		return nil
	}
	if n := strings.Count(v, ":"); n < 1 || n > 8 {
		return fmt.Errorf("%q is not dhcp, none, or client:server:gw:mask:host:dev:autoconf", v)
	}
	return nil
}

func checkSize(v string) error {
	if _, err := ParseSize(v, 1<<30); err != nil {
		return err
	}
	return nil
}

// ParseSize reads a size as bytes, with an optional k, m or g suffix, or as a
// percentage of total (rounded down). A size of 0, or one that does not fit 64 bits,
// is an error.
func ParseSize(v string, total uint64) (uint64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	if strings.HasSuffix(s, "%") {
		p, err := strconv.ParseUint(strings.TrimSuffix(s, "%"), 10, 8)
		if err != nil || p == 0 || p > 100 {
			return 0, fmt.Errorf("%q is not a percentage from 1%% to 100%%", v)
		}
		// total*p/100 on 128 bits: hi < p <= 100, so the quotient fits 64 bits.
		hi, lo := bits.Mul64(total, p)
		n, _ := bits.Div64(hi, lo, 100)
		if n == 0 {
			return 0, fmt.Errorf("%q of %d bytes is 0 bytes", v, total)
		}
		return n, nil
	}
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1<<10, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "m"):
		mult, s = 1<<20, strings.TrimSuffix(s, "m")
	case strings.HasSuffix(s, "g"):
		mult, s = 1<<30, strings.TrimSuffix(s, "g")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is too large: it does not fit 64 bits", v)
	}
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a size such as 64m or 50%%", v)
	}
	hi, size := bits.Mul64(n, mult)
	if hi != 0 {
		return 0, fmt.Errorf("%q is too large: it does not fit 64 bits", v)
	}
	return size, nil
}

func oneOf(vals ...string) func(string) error {
	return func(v string) error {
		for _, x := range vals {
			if v == x {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(vals, ", "))
	}
}

// A machine to judge limits' syntax by; the real one is read when the root starts.
var someMachine = guard.Machine{MemTotal: 1 << 30, Tasks: 32768}

func checkRootMem(v string) error {
	_, err := guard.ParseLimits(v, "", someMachine)
	return err
}

func checkRootPids(v string) error {
	_, err := guard.ParseLimits("", v, someMachine)
	return err
}
