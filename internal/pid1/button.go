package pid1

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ants/ants/internal/kmod"
	"golang.org/x/sys/unix"
)

// The ACPI power button (QEMU's system_powerdown, a PC's button) is a key on an
// input device of its own: Debian's kernel has the ACPI button driver (`button`)
// and the event interface (`evdev`) as modules. PID 1 loads both itself, not
// through the boot scripts, so that a script that hangs does not leave the button
// dead, then reads KEY_POWER from every input device named "Power Button" and
// sends itself SIGUSR2: the same orderly power-off as `poweroff`.

// powerButtonName is the name the ACPI button driver gives its input devices (the
// fixed-feature LNXPWRBN and the PNP0C0C device both).
const powerButtonName = "Power Button"

// Input event constants of linux/input-event-codes.h.
const (
	evKey    = 0x01
	keyPower = 116
)

// inputEventSize is sizeof(struct input_event) on 64-bit Linux: a timeval (16
// bytes), type and code (2 each), value (4).
const inputEventSize = 24

// watchPowerButton loads the button driver and evdev, and watches every power
// button for ever (one goroutine each); a button that appears later (the driver
// loaded by someone else, a slow firmware) is picked up by looking again for a
// minute.
func (in *Init) watchPowerButton() {
	loadModules(in, "evdev", "button")
	watched := map[string]bool{}
	for i := 0; i < 30; i++ {
		for _, dev := range powerButtons(in.sys.Sysfs) {
			if watched[dev] {
				continue
			}
			watched[dev] = true
			go in.safe("power button", func() { in.readPowerButton(dev) })
		}
		if i == 0 && len(watched) == 0 {
			in.log.Printf("init: no power button yet (no %q input device); looking for a minute", powerButtonName)
		}
		if len(watched) > 0 {
			return
		}
		in.sys.Sleep(2 * time.Second)
	}
}

// readPowerButton opens /dev/input/DEV (waiting a little for devtmpfs) and sends
// PID 1 SIGUSR2 at each press.
func (in *Init) readPowerButton(dev string) {
	path := in.sys.Dev + "/input/" + dev
	var f *os.File
	var err error
	for i := 0; i < 50; i++ {
		if f, err = os.Open(path); err == nil {
			break
		}
		in.sys.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		in.log.Printf("init: power button: %v", err)
		return
	}
	defer f.Close()
	in.log.Printf("power button on %s: pressing it powers off in order", path)
	err = pressEvents(f, func() {
		in.log.Printf("power button pressed: powering off")
		in.sys.Kill(1, unix.SIGUSR2)
	})
	in.log.Printf("init: power button %s: %v", path, err)
}

// pressEvents reads input events from r and calls press for each KEY_POWER press
// (value 1; 0 is the release, 2 autorepeat), until r fails.
func pressEvents(r io.Reader, press func()) error {
	buf := make([]byte, inputEventSize)
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		typ := binary.LittleEndian.Uint16(buf[16:])
		code := binary.LittleEndian.Uint16(buf[18:])
		value := int32(binary.LittleEndian.Uint32(buf[20:]))
		if typ == evKey && code == keyPower && value == 1 {
			press()
		}
	}
}

// powerButtons names the event devices (event3) of the input devices called
// "Power Button" in sysfs.
func powerButtons(sysfs string) []string {
	dirs, _ := filepath.Glob(filepath.Join(sysfs, "class/input/input*"))
	var evs []string
	for _, d := range dirs {
		name, err := os.ReadFile(filepath.Join(d, "name"))
		if err != nil || strings.TrimSpace(string(name)) != powerButtonName {
			continue
		}
		ev, _ := filepath.Glob(filepath.Join(d, "event*"))
		for _, e := range ev {
			evs = append(evs, filepath.Base(e))
		}
	}
	return evs
}

// loadModules loads modules of the image (with their dependencies) for PID 1's
// own needs; a module built in or already loaded is no error.
func loadModules(in *Init, names ...string) {
	ix, err := kmod.LoadIndex(filepath.Join(in.sys.Modules, release()))

	if err != nil {
		in.log.Printf("init: modules: %v", err)
		return
	}
	l := &kmod.Loader{Index: ix}
	for _, n := range names {
		if err := l.Probe(n); err != nil {
			in.log.Printf("init: %v", fmt.Errorf("loading %s: %w", n, err))
		}
	}
}
