package payload

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWaitBin: a command typed while /bbin/bb is still the empty placeholder
// waits until it has content (PID 1 mounted the payload), or until PID 1 says how
// mounting went, or until the time is up; once ready it never waits again.
func TestWaitBin(t *testing.T) {
	dir := t.TempDir()
	defer func(b, s string) { waitBin, waitStatus = b, s; binReady.Store(false) }(waitBin, waitStatus)
	waitBin, waitStatus = filepath.Join(dir, "bb"), filepath.Join(dir, "status")
	os.WriteFile(waitBin, nil, 0o755)

	start := time.Now()
	WaitBin(60 * time.Millisecond)
	if d := time.Since(start); d < 60*time.Millisecond || binReady.Load() {
		t.Errorf("an empty bb, nothing said: waited %v, ready %v; want the whole 60 ms, not ready", d, binReady.Load())
	}

	go func() {
		time.Sleep(50 * time.Millisecond)
		os.WriteFile(waitBin, []byte("the busybox"), 0o755)
	}()
	start = time.Now()
	WaitBin(5 * time.Second)
	if d := time.Since(start); d < 50*time.Millisecond || d > 2*time.Second || !binReady.Load() {
		t.Errorf("bb filled after 50 ms: waited %v, ready %v", d, binReady.Load())
	}
	os.WriteFile(waitBin, nil, 0o755) // ready is for good: no stat any more
	start = time.Now()
	WaitBin(time.Second)
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("once ready, WaitBin waited %v", d)
	}

	binReady.Store(false)
	os.WriteFile(waitStatus, []byte("mount failed\n"), 0o644)
	start = time.Now()
	WaitBin(time.Second)
	if d := time.Since(start); d > 100*time.Millisecond || !binReady.Load() {
		t.Errorf("PID 1 said the mount failed: waited %v, ready %v; want at once", d, binReady.Load())
	}
}
