package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMkdir(t *testing.T) {
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	os.WriteFile(p("file"), nil, 0o644)
	for _, tc := range []struct {
		name   string
		args   []string
		status int
		out    string
		errHas string
	}{
		{"one", []string{p("a")}, 0, "", ""},
		{"exists", []string{p("a")}, 1, "", "file exists"},
		{"exists with -p", []string{"-p", p("a")}, 0, "", ""},
		{"missing parent", []string{p("x/y")}, 1, "", "no such file or directory"},
		{"parents", []string{"-p", p("x/y")}, 0, "", ""},
		{"under a file", []string{"-p", p("file/z")}, 1, "", "not a directory"},
		{"one of two fails", []string{p("b"), p("q/r")}, 1, "", "q/r"},
		{"verbose", []string{"-pv", p("c")}, 0, p("c") + "\n", ""},
		{"mode", []string{"-m", "700", p("d")}, 0, "", ""},
		{"mode joined", []string{"-m0750", p("e")}, 0, "", ""},
		{"bad mode", []string{"-m", "9", p("f")}, 2, "", "invalid mode"},
		{"no mode", []string{"-m"}, 2, "", "needs a mode"},
		{"no dirs", nil, 2, "", "usage"},
		{"bad option", []string{"-z", p("g")}, 2, "", "unknown option -z"},
		{"dash dash", []string{"--", p("-h")}, 0, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb strings.Builder
			if got := run(tc.args, &out, &errb); got != tc.status {
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
	for name, want := range map[string]os.FileMode{"d": 0o700, "e": 0o750} {
		if fi, err := os.Stat(p(name)); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want mode %v", name, fi.Mode(), err, want)
		}
	}
}
