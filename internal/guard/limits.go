package guard

import (
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Limits bound what the root's cgroup may take of the machine. Zero means no limit.
type Limits struct {
	MemoryMax uint64 // bytes: memory.max
	PidsMax   uint64 // tasks: pids.max
}

// Machine is what the limits are computed from.
type Machine struct {
	MemTotal uint64 // bytes of RAM
	Tasks    uint64 // the kernel's own bound on tasks: min(kernel.pid_max, kernel.threads-max)
}

// The admin namespace's reserve: at least this much memory and these many tasks
// are left outside the root's limits (more on a big machine: an eighth).
const (
	MinMemReserve  = 64 << 20
	MinTaskReserve = 128
)

// ParseLimits reads ants.rootmem and ants.rootpids: "" or "auto" for the default
// (all but the reserve), "max" for no limit, or a value (a size such as 512m or a
// percentage of RAM; a number of tasks).
func ParseLimits(mem, pids string, m Machine) (Limits, error) {
	var l Limits
	switch strings.TrimSpace(mem) {
	case "", "auto":
		l.MemoryMax = autoMem(m.MemTotal)
	case "max":
	default:
		n, err := parseSize(mem, m.MemTotal)
		if err != nil {
			return l, fmt.Errorf("ants.rootmem=%s: %v; want a size (512m, 2g), a percentage of RAM (75%%), auto or max", mem, err)
		}
		if n < 16<<20 {
			return l, fmt.Errorf("ants.rootmem=%s: %d MiB is too small for a root system; at least 16m", mem, n>>20)
		}
		l.MemoryMax = n
	}
	switch strings.TrimSpace(pids) {
	case "", "auto":
		l.PidsMax = autoTasks(m.Tasks)
	case "max":
	default:
		n, err := strconv.ParseUint(strings.TrimSpace(pids), 10, 32)
		if err != nil || n < 16 {
			return l, fmt.Errorf("ants.rootpids=%s: want a number of tasks from 16 up, auto or max", pids)
		}
		l.PidsMax = n
	}
	return l, nil
}

func autoMem(total uint64) uint64 {
	if total == 0 {
		return 0
	}
	reserve := max(uint64(MinMemReserve), total/8)
	if total <= reserve+(32<<20) {
		// A machine this small: half for each side.
		return total / 2
	}
	return total - reserve
}

func autoTasks(n uint64) uint64 {
	if n == 0 {
		return 0
	}
	reserve := max(uint64(MinTaskReserve), n/8)
	if n <= 2*reserve {
		return n / 2
	}
	return n - reserve
}

// parseSize reads 64m, 1g, 123456 or 50% (of total).
func parseSize(v string, total uint64) (uint64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	if p, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil || n == 0 || n > 100 {
			return 0, fmt.Errorf("not a percentage from 1%% to 100%%")
		}
		hi, lo := bits.Mul64(total, n)
		q, _ := bits.Div64(hi, lo, 100)
		return q, nil
	}
	mult := uint64(1)
	for suf, m := range map[string]uint64{"k": 1 << 10, "m": 1 << 20, "g": 1 << 30} {
		if t, ok := strings.CutSuffix(s, suf); ok {
			s, mult = t, m
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a size")
	}
	hi, lo := bits.Mul64(n, mult)
	if hi != 0 {
		return 0, fmt.Errorf("too large")
	}
	return lo, nil
}

// String puts limits in words for the boot log.
func (l Limits) String() string {
	mem, pids := "no memory limit", "no task limit"
	if l.MemoryMax > 0 {
		mem = fmt.Sprintf("memory.max %d MiB", l.MemoryMax>>20)
	}
	if l.PidsMax > 0 {
		pids = fmt.Sprintf("pids.max %d", l.PidsMax)
	}
	return mem + ", " + pids
}

// Write sets the limits on cgroup directory dir.
func (l Limits) Write(dir string) error {
	val := func(n uint64) string {
		if n == 0 {
			return "max"
		}
		return strconv.FormatUint(n, 10)
	}
	if err := os.WriteFile(filepath.Join(dir, "memory.max"), []byte(val(l.MemoryMax)), 0); err != nil {
		return fmt.Errorf("memory limit of the root: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pids.max"), []byte(val(l.PidsMax)), 0); err != nil {
		return fmt.Errorf("task limit of the root: %w", err)
	}
	return nil
}

// ReadMachine reads the machine's RAM and task bounds from /proc.
func ReadMachine(proc string) Machine {
	var m Machine
	if b, err := os.ReadFile(filepath.Join(proc, "meminfo")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseUint(f[1], 10, 64)
				m.MemTotal = kb << 10
			}
		}
	}
	num := func(name string) uint64 {
		b, _ := os.ReadFile(filepath.Join(proc, "sys/kernel", name))
		n, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		return n
	}
	pm, tm := num("pid_max"), num("threads-max")
	switch {
	case pm == 0:
		m.Tasks = tm
	case tm == 0:
		m.Tasks = pm
	default:
		m.Tasks = min(pm, tm)
	}
	return m
}
