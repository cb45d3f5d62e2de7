package console

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

type opened struct {
	r   io.ReadCloser
	err error
}

// A console whose input ends (EOF: a hangup) is opened again, with a back-off
// while it cannot be, and keys reach the focused client again; the log says so once.
func TestReadForeverReopensAConsole(t *testing.T) {
	m, _, fa, _ := setup(t)
	opens := make(chan opened)
	slept := make(chan time.Duration)
	var mu sync.Mutex
	var logs []string
	d := Device{
		Name: "ttyS0",
		Open: func() (io.ReadCloser, error) { o := <-opens; return o.r, o.err },
		Log: func(f string, a ...any) {
			mu.Lock()
			logs = append(logs, fmt.Sprintf(f, a...))
			mu.Unlock()
		},
		Sleep: func(d time.Duration) { slept <- d },
	}
	// The mux's side of slept and opens, with a deadline: a ReadForever that
	// stopped fails the test instead of hanging it.
	wait := func() time.Duration {
		t.Helper()
		select {
		case d := <-slept:
			return d
		case <-time.After(10 * time.Second):
			t.Fatal("the console was not opened again in 10 s")
			return 0
		}
	}
	give := func(o opened) {
		t.Helper()
		select {
		case opens <- o:
		case <-time.After(10 * time.Second):
			t.Fatal("the console was not opened again in 10 s")
		}
	}
	r1, w1 := io.Pipe()
	go m.ReadForever(d, r1)
	w1.Write([]byte("ab"))
	waitFor(t, "keys of the first open", func() bool { return fa.Got() == "ab" })
	w1.Close()
	busy := errors.New("device busy")
	var delays []time.Duration
	for i := 0; i < 6; i++ {
		delays = append(delays, wait())
		give(opened{err: busy})
	}
	delays = append(delays, wait())
	r2, w2 := io.Pipe()
	give(opened{r: r2})
	w2.Write([]byte("cd"))
	waitFor(t, "keys after the reopen", func() bool { return fa.Got() == "abcd" })
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond, 2 * time.Second, 2 * time.Second}
	if fmt.Sprint(delays) != fmt.Sprint(want) {
		t.Errorf("back-off %v, want %v", delays, want)
	}
	// An end right after it worked again starts the back-off afresh.
	w2.Close()
	if d := wait(); d != MinReopen {
		t.Errorf("back-off after keys came again starts at %v, want %v", d, MinReopen)
	}
	r3, w3 := io.Pipe()
	give(opened{r: r3})
	w3.Write([]byte("e"))
	waitFor(t, "keys after the second reopen", func() bool { return fa.Got() == "abcde" })
	mu.Lock()
	all := strings.Join(logs, "\n")
	mu.Unlock()
	// Once per outage (two), the failed opens once in all (six in the first).
	for w, n := range map[string]int{
		"console /dev/ttyS0: input ended (EOF); opening it again": 2,
		"console /dev/ttyS0: device busy; trying again":           1,
		"console /dev/ttyS0: keys come again":                     2,
	} {
		if got := strings.Count(all, w); got != n {
			t.Errorf("log has %q %d times, want %d:\n%s", w, got, n, all)
		}
	}
}
