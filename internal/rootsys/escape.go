package rootsys

import (
	"os"
	"strings"

	"github.com/ants/ants/internal/console"
)

// EscapeFile holds the console's escape key as ants.escape sets it (^X).
const EscapeFile = "/env/ants.escape"

// escapeKey names the console's escape key for a message, as the admin types it:
// ants.escape from EscapeFile, or the mux's default (^]) when that is absent or not a
// key (PID 1 then uses the default too).
func escapeKey(file string) string {
	if b, err := os.ReadFile(file); err == nil {
		if k, err := console.ParseEscape(strings.TrimSpace(string(b))); err == nil {
			return console.KeyName(k)
		}
	}
	return console.KeyName(console.DefaultEscape)
}
