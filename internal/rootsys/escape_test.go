package rootsys

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEscapeKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct{ file, want string }{
		{"", "^]"},        // no file
		{"^b\n", "^B"},    // ants.escape=^b
		{"bogus\n", "^]"}, // PID 1 falls back to the default too
	} {
		p := filepath.Join(dir, "missing")
		if c.file != "" {
			p = filepath.Join(dir, "ants.escape")
			if err := os.WriteFile(p, []byte(c.file), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got := escapeKey(p); got != c.want {
			t.Errorf("escapeKey with %q = %q, want %q", c.file, got, c.want)
		}
	}
}
