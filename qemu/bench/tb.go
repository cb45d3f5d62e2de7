package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// tb lets the bench drive internal/qemu (written for tests) from a program: Fatal
// panics with a benchFail, which the caller recovers as an error; Cleanup functions
// run at done. The embedded nil testing.TB is never called: every method that
// internal/qemu uses is defined here.
type tb struct {
	testing.TB
	name     string
	mu       sync.Mutex
	cleanups []func()
	failed   bool
	tmp      string
	verbose  bool
}

type benchFail struct{ msg string }

func newTB(name string) *tb { return &tb{name: name} }

func (t *tb) Name() string              { return t.name }
func (t *tb) Helper()                   {}
func (t *tb) Failed() bool              { t.mu.Lock(); defer t.mu.Unlock(); return t.failed }
func (t *tb) Log(a ...any)              { t.Logf("%s", fmt.Sprint(a...)) }
func (t *tb) Error(a ...any)            { t.fail(fmt.Sprint(a...), false) }
func (t *tb) Errorf(f string, a ...any) { t.fail(fmt.Sprintf(f, a...), false) }
func (t *tb) Fatal(a ...any)            { t.fail(fmt.Sprint(a...), true) }
func (t *tb) Fatalf(f string, a ...any) { t.fail(fmt.Sprintf(f, a...), true) }
func (t *tb) FailNow()                  { t.fail("FailNow", true) }
func (t *tb) Fail()                     { t.fail("", false) }
func (t *tb) Skip(a ...any)             { t.fail("skip: "+fmt.Sprint(a...), true) }
func (t *tb) Skipf(f string, a ...any)  { t.fail("skip: "+fmt.Sprintf(f, a...), true) }
func (t *tb) SkipNow()                  { t.fail("skip", true) }
func (t *tb) Skipped() bool             { return false }
func (t *tb) Setenv(k, v string)        { os.Setenv(k, v) }

func (t *tb) Logf(f string, a ...any) {
	// The memory bisection expects boots to fail; it drops their logs.
	if t.verbose || t.Failed() && !strings.HasPrefix(t.name, "bench-mem-") {
		fmt.Fprintf(os.Stderr, "bench: %s: %s\n", t.name, fmt.Sprintf(f, a...))
	}
}

func (t *tb) fail(msg string, now bool) {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
	if now {
		panic(benchFail{msg})
	}
	fmt.Fprintf(os.Stderr, "bench: %s: %s\n", t.name, msg)
}

func (t *tb) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

func (t *tb) TempDir() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tmp == "" {
		d, err := os.MkdirTemp("", "ants-bench-")
		if err != nil {
			panic(benchFail{err.Error()})
		}
		t.tmp = d
		t.cleanups = append(t.cleanups, func() { os.RemoveAll(d) })
	}
	d, err := os.MkdirTemp(t.tmp, "")
	if err != nil {
		panic(benchFail{err.Error()})
	}
	return d
}

// done runs the cleanups, last first.
func (t *tb) done() {
	t.mu.Lock()
	cs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

// run calls f with a fresh tb and returns its failure as an error; cleanups have run.
func run(name string, f func(t *tb)) (err error) {
	t := newTB(name)
	defer func() {
		if r := recover(); r != nil {
			bf, ok := r.(benchFail)
			if !ok {
				t.done()
				panic(r)
			}
			err = fmt.Errorf("%s: %s", name, bf.msg)
		}
		t.done()
	}()
	f(t)
	return nil
}
