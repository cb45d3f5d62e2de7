package antscmd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ants/ants/internal/bootchart"
)

// bootchartCmd is `ants bootchart [-o FILE] [LOG]`: the boot as an SVG timeline
// (internal/bootchart), from the boot log (p.BootLog unless LOG is given), to FILE
// or to stdout. Copy it off the machine (scp) and open it in a browser.
func (p Paths) bootchartCmd(args []string, out io.Writer) error {
	const use = "usage: ants bootchart [-o FILE.svg] [BOOTLOG]"
	var file, log string
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "-o" && i+1 < len(args):
			file = args[i+1]
			i++
		case args[i] == "-h" || args[i] == "--help":
			fmt.Fprintln(out, use)
			return nil
		case len(args[i]) > 0 && args[i][0] == '-':
			return fmt.Errorf("unknown flag %q; %s", args[i], use)
		case log == "":
			log = args[i]
		default:
			return fmt.Errorf("%s", use)
		}
	}
	if log == "" {
		log = p.BootLog
	}
	f, err := os.Open(log)
	if err != nil {
		return err
	}
	defer f.Close()
	name := "ants"
	if b, err := os.ReadFile(filepath.Join(p.EnvDir, "sysname")); err == nil && len(bytes.TrimSpace(b)) > 0 {
		name = string(bytes.TrimSpace(b))
	}
	tl, err := bootchart.ParseLog(f, name+": "+log)
	if err != nil {
		return fmt.Errorf("%s: %v", log, err)
	}
	if file == "" {
		return bootchart.SVG(out, tl)
	}
	var b bytes.Buffer
	if err := bootchart.SVG(&b, tl); err != nil {
		return err
	}
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: %.2f s of boot, %d steps\n", file, tl.End(), len(tl.Spans)+len(tl.Marks))
	return nil
}
