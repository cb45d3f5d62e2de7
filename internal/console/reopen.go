package console

import (
	"io"
	"time"
)

// Reopening a console whose input ended: the first try after MinReopen, then
// twice as long each time it fails or ends again without a key, up to MaxReopen.
const (
	MinReopen = 100 * time.Millisecond
	MaxReopen = 2 * time.Second
)

// Device is a console the mux reads keys from, and how to open it again.
type Device struct {
	Name string // "ttyS0", for the log
	// Open opens the device again (O_NOCTTY, raw mode) and points its output
	// Queue at the new file.
	Open  func() (io.ReadCloser, error)
	Log   func(format string, args ...any)
	Sleep func(time.Duration) // nil: time.Sleep
}

// ReadForever reads d's keys (Input) from r, its open file, for ever. When they
// end (EOF after a hangup, EIO, any error), it closes r and opens the device again,
// backing off from MinReopen to MaxReopen while the device cannot be opened or
// ends again at once. It logs the end once, and the return of keys once.
func (m *Mux) ReadForever(d Device, r io.ReadCloser) {
	sleep := d.Sleep
	if sleep == nil {
		sleep = time.Sleep
	}
	delay := MinReopen
	down := false       // input ended and no key came since
	openFailed := false // and an open failed since
	for {
		if r != nil {
			cr := &firstRead{r: r}
			if down {
				cr.first = func() {
					d.Log("console /dev/%s: keys come again", d.Name)
				}
			}
			err := m.Input(cr)
			r.Close()
			r = nil
			if cr.got {
				down, openFailed, delay = false, false, MinReopen
			}
			if !down {
				d.Log("console /dev/%s: input ended (%v); opening it again, every %v to %v until it reads", d.Name, err, MinReopen, MaxReopen)
				down = true
			}
		}
		sleep(delay)
		if delay *= 2; delay > MaxReopen {
			delay = MaxReopen
		}
		f, err := d.Open()
		if err != nil {
			if !openFailed {
				d.Log("console /dev/%s: %v; trying again", d.Name, err)
				openFailed = true
			}
			continue
		}
		r = f
	}
}

// firstRead notes that a read returned bytes, and calls first the first time.
type firstRead struct {
	r     io.Reader
	got   bool
	first func()
}

// Heat makes the reader hot if it can be (File.Heat).
func (f *firstRead) Heat(d time.Duration) {
	if h, ok := f.r.(heater); ok {
		h.Heat(d)
	}
}

func (f *firstRead) Read(b []byte) (int, error) {
	n, err := f.r.Read(b)
	if n > 0 && !f.got {
		f.got = true
		if f.first != nil {
			f.first()
		}
	}
	return n, err
}
