// Package testns runs a host test again in a throwaway mount namespace, for tests
// that mount things: `unshare --mount --propagation private` (plus any more
// arguments) re-executes the test binary for that one test, so nothing it mounts
// reaches the host or another test package's mount table.
package testns

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Rerun returns true in the re-executed child, where the test body runs (with
// KeepCoverage, so the child may pivot or chroot under go test -cover). In the
// parent it skips without root or unshare(1), runs the child with env (and key set
// to the test's name), fails unless the child passed, skips if the child skipped,
// and returns false.
func Rerun(t *testing.T, key string, unshareArgs []string, env ...string) bool {
	t.Helper()
	if os.Getenv(key) == t.Name() {
		KeepCoverage(t)
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("host test: needs root for a mount namespace")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("host test: needs unshare(1) from util-linux")
	}
	args := append(append([]string{}, unshareArgs...), "--", os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(append(os.Environ(), key+"="+t.Name()), env...)
	out, err := cmd.CombinedOutput()
	if bytes.Contains(out, []byte("--- SKIP: "+t.Name())) {
		t.Skipf("in a mount namespace: %s", out)
	}
	if err != nil || !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("in a mount namespace: %v\n%s", err, out)
	}
	t.Logf("in a mount namespace:\n%s", out)
	return false
}

// Mountinfo is the calling thread's mount table, for CheckUntouched.
func Mountinfo() string {
	b, _ := os.ReadFile("/proc/thread-self/mountinfo")
	return string(b)
}

// CheckUntouched fails if the host's mount table lost a mount, or gained one that
// ours says is the test's (others are logged: the host may be busy).
func CheckUntouched(t *testing.T, before, after string, ours func(line string) bool) {
	t.Helper()
	set := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	b, a := set(before), set(after)
	for l := range a {
		if !b[l] {
			if ours(l) {
				t.Errorf("host mount table gained: %s", l)
			} else {
				t.Logf("host mount table gained (not ours?): %s", l)
			}
		}
	}
	for l := range b {
		if !a[l] {
			t.Errorf("host mount table lost: %s", l)
		}
	}
}
