package pid1

import (
	"os"

	"github.com/ants/ants/internal/bootvar"
)

// promptFirst says whether the console goes to the admin shell at its first
// prompt, with the boot scripts running behind it (their lines shown above the
// prompt, console.Client.SetThrough), instead of showing the boot scripts until
// they are done. It does when the admin shell is where this boot ends anyway and
// nothing in the variables waits for a person: no root named (root=, venti=), no
// variable set to "ask", not interactive=yes, no ants.break. A question that
// comes up later all the same (a /cfg/$sysname/boot.conf with venti=ask) takes
// the console first (ants ask, hub.OpFocus); a root named later takes it when
// it starts, unless someone typed into the admin shell meanwhile.
func promptFirst(vars *bootvar.Set) bool {
	if vars == nil {
		return false
	}
	if vars.Value("root") != "" || vars.Value("venti") != "" || vars.Value("ants.break") != "" ||
		bootvar.Truth(vars.Value("interactive")) {
		return false
	}
	for _, n := range vars.Names() {
		if vars.Value(n) == bootvar.Ask {
			return false
		}
	}
	return true
}

// freshPrompt: at the end of a boot behind the prompt, an admin shell nobody has
// used gets an Enter if the boot renamed the machine (sysname=, DHCP), so that
// its prompt names it ("demo% ", not the "ants% " of before the boot scripts).
func (in *Init) freshPrompt() {
	if !in.promptFirst || in.admin.Used() {
		return
	}
	if h, err := os.Hostname(); err != nil || h == "ants" || h == "" {
		return
	}
	in.admin.Send([]byte("\r"))
}
