package bootvar

import (
	"os"
	"strings"
	"testing"
)

// errText joins errors for messages.
func errText(errs []error) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("\n\t")
		b.WriteString(e.Error())
	}
	return b.String()
}

// findErr returns the first error whose text holds every one of subs.
func findErr(errs []error, subs ...string) error {
outer:
	for _, e := range errs {
		for _, s := range subs {
			if !strings.Contains(e.Error(), s) {
				continue outer
			}
		}
		return e
	}
	return nil
}

// writeFile writes a file for a test and returns its path.
func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
