package pid1

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func inputEvent(typ, code uint16, value int32) []byte {
	b := make([]byte, inputEventSize)
	binary.LittleEndian.PutUint64(b, 1700000000) // tv_sec
	binary.LittleEndian.PutUint16(b[16:], typ)
	binary.LittleEndian.PutUint16(b[18:], code)
	binary.LittleEndian.PutUint32(b[20:], uint32(value))
	return b
}

func TestPressEvents(t *testing.T) {
	const evSyn = 0
	var in bytes.Buffer
	for _, e := range [][]byte{
		inputEvent(evKey, keyPower, 1), // a press
		inputEvent(evSyn, 0, 0),
		inputEvent(evKey, keyPower, 2), // autorepeat: not a new press
		inputEvent(evKey, keyPower, 0), // the release
		inputEvent(evKey, 30, 1),       // another key (KEY_A)
		inputEvent(0x04, keyPower, 1),  // EV_MSC with the same code
		inputEvent(evKey, keyPower, 1), // a second press
	} {
		in.Write(e)
	}
	in.Write([]byte{1, 2, 3}) // a torn event at the end
	n := 0
	err := pressEvents(&in, func() { n++ })
	if n != 2 {
		t.Errorf("presses: %d, want 2", n)
	}
	if err != io.ErrUnexpectedEOF {
		t.Errorf("end: %v, want %v", err, io.ErrUnexpectedEOF)
	}
}

func TestPowerButtons(t *testing.T) {
	sys := t.TempDir()
	dev := func(input, name string, events ...string) {
		d := filepath.Join(sys, "class/input", input)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "name"), []byte(name+"\n"), 0o644)
		for _, e := range events {
			os.MkdirAll(filepath.Join(d, e), 0o755)
		}
	}
	dev("input0", "Power Button", "event0")
	dev("input1", "Sleep Button", "event1")
	dev("input2", "AT Translated Set 2 keyboard", "event2")
	dev("input3", "Power Button", "event3")
	dev("input4", "Power Button") // evdev not loaded: no event device
	dev("input5", "Power Buttons", "event5")
	got := powerButtons(sys)
	if want := []string{"event0", "event3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("powerButtons: %q, want %q", got, want)
	}
	if got := powerButtons(filepath.Join(sys, "none")); len(got) != 0 {
		t.Errorf("no sysfs: %q", got)
	}
}
