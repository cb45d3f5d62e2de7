package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/ants/ants/internal/bootchart"
)

// picture draws the last measured boot of each image as a timeline (issue 15's
// goal 7): ants' from its boot log (the kernel, PID 1's steps, every boot
// script), stock u-root's and the floor's from what the bench sees of them (the
// kernel until /init runs, then the prompt), on one axis, into path.
func picture(r *result, path string) error {
	last := map[string]boot{}
	for _, b := range r.Boots {
		if b.Err == "" && b.Guest > 0 {
			last[b.Image] = b
		}
	}
	names := map[string]string{"A": "ants", "B": "stock u-root", "C": "floor (the kernel and a shell)"}
	var tls []bootchart.Timeline
	for _, k := range []string{"A", "B", "C"} {
		b, ok := last[k]
		if !ok {
			continue
		}
		t := bootchart.Timeline{Name: names[k]}
		if k == "A" && b.BootLog != "" {
			if parsed, err := bootchart.ParseLog(strings.NewReader(b.BootLog), names[k]); err == nil {
				t = parsed
			}
		}
		// The kernel's part ends where it runs /init, for the three alike.
		kernel := -1
		for i, sp := range t.Spans {
			if sp.Lane == bootchart.LaneKernel {
				kernel = i
			}
		}
		switch {
		case kernel >= 0 && b.InitStart > 0:
			t.Spans[kernel].End = b.InitStart
		case kernel < 0 && b.InitStart > 0:
			t.Spans = append(t.Spans, bootchart.Span{Lane: bootchart.LaneKernel, Label: "kernel", Start: 0, End: b.InitStart})
		}
		t.Marks = append(t.Marks, bootchart.Mark{Lane: "prompt", Label: fmt.Sprintf("prompt %.2f s", b.Guest), At: b.Guest})
		tls = append(tls, t)
	}
	if len(tls) == 0 {
		return fmt.Errorf("no measured boot to draw")
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := bootchart.SVG(f, tls...); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
