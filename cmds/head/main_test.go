package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHead(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	var all strings.Builder
	for i := 1; i <= 12; i++ {
		all.WriteString(strings.Repeat("x", i) + "\n")
	}
	os.WriteFile(f, []byte(all.String()), 0o644)
	long := filepath.Join(dir, "long")
	os.WriteFile(long, []byte(strings.Repeat("y", 10000)+"\nz\n"), 0o644)
	first := func(n int) string { return strings.Join(strings.SplitAfter(all.String(), "\n")[:n], "") }
	for _, tc := range []struct {
		name   string
		args   []string
		stdin  string
		status int
		out    string
		errHas string
	}{
		{"default 10", []string{f}, "", 0, first(10), ""},
		{"-5", []string{"-5"}, all.String(), 0, first(5), ""},
		{"-n 3", []string{"-n", "3", f}, "", 0, first(3), ""},
		{"-n2", []string{"-n2", f}, "", 0, first(2), ""},
		{"-c 4", []string{"-c", "4", f}, "", 0, "x\nxx", ""},
		{"no newline at end", []string{"-3"}, "a\nb", 0, "a\nb", ""},
		{"a long line", []string{"-1", long}, "", 0, strings.Repeat("y", 10000) + "\n", ""},
		{"-0", []string{"-0", f}, "", 0, "", ""},
		{"two files", []string{"-1", f, f}, "", 0, "==> " + f + " <==\nx\n\n==> " + f + " <==\nx\n", ""},
		{"missing", []string{filepath.Join(dir, "nope")}, "", 1, "", "no such file or directory"},
		{"missing and one there", []string{"-1", filepath.Join(dir, "nope"), f}, "", 1, "==> " + f + " <==\nx\n", "nope"},
		{"bad count", []string{"-n", "x"}, "", 2, "", "not a count"},
		{"bad option", []string{"-q"}, "", 2, "", "unknown option"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb strings.Builder
			if got := run(tc.args, strings.NewReader(tc.stdin), &out, &errb); got != tc.status {
				t.Errorf("status %d, want %d (stderr %q)", got, tc.status, errb.String())
			}
			if out.String() != tc.out {
				t.Errorf("stdout %q, want %q", out.String(), tc.out)
			}
			if !strings.Contains(errb.String(), tc.errHas) || (tc.errHas == "" && errb.Len() > 0) {
				t.Errorf("stderr %q, want %q in it", errb.String(), tc.errHas)
			}
		})
	}
}
