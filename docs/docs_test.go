// Package docs holds the user documentation; its test keeps docs/cmdline.md in step
// with the variables ants knows.
package docs

import (
	"os"
	"strings"
	"testing"

	"github.com/ants/ants/internal/bootvar"
)

func TestCmdlineDocListsEveryVariable(t *testing.T) {
	b, err := os.ReadFile("cmdline.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, k := range bootvar.Table {
		row := "| `" + k.Name + "` | "
		if !strings.Contains(doc, row) {
			t.Errorf("docs/cmdline.md has no table row for %s", k.Name)
			continue
		}
		if k.Default != "" {
			line := doc[strings.Index(doc, row):]
			line = line[:strings.Index(line, "\n")]
			if !strings.Contains(line, "`"+k.Default+"`") {
				t.Errorf("docs/cmdline.md: row of %s does not give its default %q: %s", k.Name, k.Default, line)
			}
		}
	}
}
