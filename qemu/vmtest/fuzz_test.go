//go:build !race

package vmtest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ants/ants/internal/bootvar"
	"github.com/ants/ants/internal/qvm"
)

// TestFuzzCmdline boots the image with garbled kernel command lines: random bytes,
// huge numbers, ask everywhere, unknown variables, duplicate keys, long values, bad
// escape keys. Every boot must come to the admin prompt without a panic, the boot
// scripts must end when each question is answered with Enter, and poweroff must
// end QEMU. Seeds are deterministic: ANTS_FUZZ_SEED (default 1) and the next
// ANTS_FUZZ_N-1 (default 4 in all); `make fuzzboot N=20` runs more. A failing seed
// runs alone with ANTS_FUZZ_SEED=S ANTS_FUZZ_N=1.
func TestFuzzCmdline(t *testing.T) {
	t.Parallel()
	first, n := envInt(t, "ANTS_FUZZ_SEED", 1), envInt(t, "ANTS_FUZZ_N", 4)
	for seed := first; seed < first+n; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			line := garbledCmdline(uint64(seed))
			t.Logf("command line: %q", line)
			fuzzBoot(t, line)
		})
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q is not a number", name, v)
	}
	return n
}

// nasty words, one in four of them in each seed's line (all of them over four
// seeds in a row).
var nasty = []string{
	"ants.escape=^M", "ants.watchdog=10000000000", "rootdelay=-1", "ip=garbage",
	"root=LABEL=", "ants.escape=^", "rootdelay=99999999999999999999", "ants.tmpfs=1",
	"sysname=ask", "venti=ask", "interactive=yes", "ants.escape=^A",
	"venti=tcp!!", "ants.tmpfs=100%", "root=UUID=", "ants.watchdog=-1",
}

// garbledCmdline makes a kernel command line from seed. It never holds what the
// kernel command line cannot take (NUL, newline), nor words the kernel or QEMU act
// on (console=, rdinit=, panic=, mem=: they would end the test for reasons of
// their own), nor ants.onrootexit=poweroff/reboot (a power-off is no failure).
func garbledCmdline(seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 0x616e7473))
	var words []string
	for i := int(seed % 4); i < len(nasty); i += 4 {
		words = append(words, nasty[i])
	}
	var names []string
	for _, k := range bootvar.Table {
		if k.Name != "console" && k.Name != "ants.onrootexit" {
			names = append(names, k.Name)
		}
	}
	values := []string{
		"", "ask", "ask", "0", "-1", "10000000000", "99999999999999999999", "1", "garbage",
		"^M", "^@", "^", "^^", "^]", "%", "100%", "0%", "LABEL=", "UUID=", "PARTUUID=",
		"/dev/vda", "9p", "virtfs:", "tcp!!", ":", "::::::::::", "dhcp", "none", "yes",
		`"`, `a"b c"d`, "=", "==", "\\", "\\x41",
	}
	value := func() string {
		switch r.IntN(4) {
		case 0:
			return randomBytes(r, 1+r.IntN(24))
		case 1:
			return strings.Repeat(string(rune('a'+r.IntN(26))), 100+r.IntN(300))
		default:
			return values[r.IntN(len(values))]
		}
	}
	for n := 6 + r.IntN(14); len(words) < n; {
		switch r.IntN(7) {
		case 0, 1, 2: // a known variable, garbage in it
			words = append(words, names[r.IntN(len(names))]+"="+value())
		case 3: // ask for one
			words = append(words, names[r.IntN(len(names))]+"=ask")
		case 4: // unknown variables
			words = append(words, fmt.Sprintf("ants.fuzz%d=%s", r.IntN(100), value()), "zz"+randomBytes(r, 1+r.IntN(8)))
		case 5: // a key again, with another value
			w := words[r.IntN(len(words))]
			k, _, _ := strings.Cut(w, "=")
			words = append(words, k+"="+value())
		case 6: // bare words, flags among them
			words = append(words, []string{"ro", "rw", "rootwait", "zz", "ants.", "=oops", "ants.break"}[r.IntN(7)])
		}
	}
	r.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	line := strings.Join(words, " ")
	// The kernel keeps 2048 bytes of it, with QEMU's console=ttyS0 quiet first.
	if len(line) > 1800 {
		line = line[:1800]
	}
	return line
}

// randomBytes is n bytes of 1..255 but newline: control characters, quotes,
// high bytes and spaces included.
func randomBytes(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		for b[i] == 0 || b[i] == '\n' {
			b[i] = byte(r.IntN(256))
		}
	}
	return string(b)
}

var muxLine = regexp.MustCompile(`console: \^(.) a admin shell`)

// fuzzBoot boots with the words, takes the admin shell (with the escape key the
// mux announces), runs a command in it, answers every question of the boot
// scripts with Enter (and leaves a break shell), and powers off.
func fuzzBoot(t *testing.T, line string) {
	vm := boot(t, qvm.Options{MemMiB: 128, Append: line})
	m := vm.Expect(muxLine.String(), bootTimeout)
	esc := string(rune(m[1][0] - '@'))
	vm.Type(esc + "a")
	vm.Expect(`\[ants: admin shell;`, cmdTimeout)
	vm.Line("")
	vm.Expect(`% `, cmdTimeout)
	// Log lines may come in the middle of the echo: look for the answer alone.
	vm.Line("echo $((6*7))x$((1+1))")
	vm.Expect(`42x2`, cmdTimeout)

	// The boot client: Enter to each question, exit to a break shell, until the
	// scripts are done.
	vm.Type(esc + "b")
	vm.Expect(`\[ants: boot scripts;`, cmdTimeout)
	seen := len(vm.Output())
	deadline := time.Now().Add(bootTimeout)
	for !strings.Contains(vm.Output(), "boot scripts done") {
		if time.Now().After(deadline) {
			t.Fatalf("the boot scripts did not end in %v with Enter to each question", bootTimeout)
		}
		out := vm.Output()
		if strings.Contains(out[seen:], "exit the shell to go on") {
			vm.Line("exit")
		} else {
			vm.Line("")
		}
		seen = len(out)
		vm.ExpectErr(`\S`, 2*time.Second) // something new, or two seconds
	}
	vm.Type(esc + "a")
	vm.Expect(`\[ants: admin shell;`, cmdTimeout)
	vm.Line("")
	vm.Expect(`% `, cmdTimeout)
	vm.Line("poweroff")
	vm.Expect(`powering off: synced`, bootTimeout)
	vm.Wait(cmdTimeout)
}
