// Package bootchart draws a boot as an SVG timeline: from ants' boot log
// (/run/ants/boot.log: every line stamped with the kernel's uptime), the kernel,
// PID 1's steps, each boot script, and the root's start and mount; and beside it
// other boots the bench measures (stock u-root, the floor) as plain timelines.
// `ants bootchart` draws a machine's own boot; `make bench` draws the three.
package bootchart

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Span is a stretch of time in a lane: [Start, End] seconds since the kernel
// started.
type Span struct {
	Lane       string
	Label      string
	Start, End float64
	Failed     bool
}

// Mark is a moment in a lane.
type Mark struct {
	Lane  string
	Label string
	At    float64
}

// Timeline is one boot.
type Timeline struct {
	Name  string
	Spans []Span
	Marks []Mark
}

// End is the last moment the timeline shows.
func (t Timeline) End() float64 {
	e := 0.0
	for _, s := range t.Spans {
		e = math.Max(e, s.End)
	}
	for _, m := range t.Marks {
		e = math.Max(e, m.At)
	}
	return e
}

// Lanes of a boot log's timeline, in their order.
const (
	LaneKernel = "kernel"
	LanePID1   = "PID 1"
	LaneBoot   = "boot scripts"
	LaneRoot   = "root"
)

var (
	lineRE = regexp.MustCompile(`^\[\s*(\d+\.\d+)\]\s+(\S+?):\s+(.*)$`)
	msRE   = regexp.MustCompile(`\((\d+) ms\)$`)
	// PID 1's payload line: "(80 ms: modules 55 ms, loaded loop squashfs)".
	imageRE  = regexp.MustCompile(`\((\d+) ms: `)
	scriptRE = regexp.MustCompile(`(\S+\.sh)\b`)
)

// ParseLog reads a boot log into a timeline named name. Lines it does not know
// are left out; a log with none it knows is an error.
func ParseLog(r io.Reader, name string) (Timeline, error) {
	t := Timeline{Name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	known := 0
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(strings.TrimRight(sc.Text(), "\r"))
		if m == nil {
			continue
		}
		at, _ := strconv.ParseFloat(m[1], 64)
		src, msg := m[2], m[3]
		ms := -1.0
		if d := msRE.FindStringSubmatch(msg); d != nil {
			v, _ := strconv.Atoi(d[1])
			ms = float64(v) / 1000
		}
		span := func(lane, label string, failed bool) {
			start := at
			if ms >= 0 {
				start = math.Max(0, at-ms)
			}
			t.Spans = append(t.Spans, Span{Lane: lane, Label: label, Start: start, End: at, Failed: failed})
			known++
		}
		mark := func(lane, label string) {
			t.Marks = append(t.Marks, Mark{Lane: lane, Label: label, At: at})
			known++
		}
		switch {
		case src == "ants" && strings.HasPrefix(msg, "init started"):
			t.Spans = append(t.Spans, Span{Lane: LaneKernel, Label: "kernel", Start: 0, End: at})
			mark(LanePID1, "init")
		case src == "ants" && strings.HasPrefix(msg, "admin namespace:") && ms >= 0:
			span(LanePID1, "admin tmpfs", false)
		case src == "ants" && strings.HasPrefix(msg, "image: ") && imageRE.MatchString(msg):
			v, _ := strconv.Atoi(imageRE.FindStringSubmatch(msg)[1])
			ms = float64(v) / 1000
			span(LanePID1, "payload", false)
		case src == "ants" && strings.HasPrefix(msg, "admin shell on"):
			mark(LanePID1, "admin shell")
		case src == "ants" && strings.HasPrefix(msg, "boot variables in"):
			mark(LanePID1, "/env")
		case src == "boot" && strings.HasPrefix(msg, "ran ") && ms >= 0:
			span(LaneBoot, shortScript(msg), false)
		case src == "boot" && strings.HasPrefix(msg, "FAILED") && ms >= 0:
			span(LaneBoot, shortScript(msg), true)
		case src == "ants" && strings.HasPrefix(msg, "root system: starting from"):
			mark(LaneRoot, "root start")
		case src == "ants" && strings.HasPrefix(msg, "root system: ") && strings.Contains(msg, " mounted; its init ") && ms >= 0:
			span(LaneRoot, "mount", false)
			mark(LaneRoot, "root init")
		case src == "ants" && strings.HasPrefix(msg, "root system: stopped"):
			mark(LaneRoot, "stopped")
		}
	}
	if err := sc.Err(); err != nil {
		return t, err
	}
	if known == 0 {
		return t, fmt.Errorf("no line of ants' boot log (\"[ 1.234] ants: init started ...\") in it")
	}
	return t, nil
}

func shortScript(msg string) string {
	if m := scriptRE.FindStringSubmatch(msg); m != nil {
		s := m[1]
		if i := strings.LastIndexByte(s, '/'); i >= 0 {
			s = s[i+1:]
		}
		return strings.TrimSuffix(s, ".sh")
	}
	return "script"
}

// Geometry of the picture.
const (
	width     = 960
	left      = 130 // the lane names
	right     = 20
	laneH     = 22
	titleH    = 24
	axisH     = 30
	gap       = 12
	fontSize  = 11
	minLabelW = 28  // a span narrower than this has its label in its tooltip only
	charW     = 6.0 // about a character's width at fontSize
)

// Colours by lane.
var colours = map[string]string{LaneKernel: "#9aa5b1", LanePID1: "#4a7fb5", LaneBoot: "#e0a040", LaneRoot: "#5aa55a"}

// SVG writes the timelines, one block each, on one time axis.
func SVG(w io.Writer, tls ...Timeline) error {
	end := 0.0
	for _, t := range tls {
		end = math.Max(end, t.End())
	}
	if end <= 0 {
		end = 1
	}
	step := tickStep(end)
	end = math.Ceil(end/step) * step
	scale := float64(width-left-right) / end
	x := func(s float64) float64 { return left + s*scale }

	type block struct {
		t     Timeline
		lanes []string
	}
	var blocks []block
	height := axisH
	for _, t := range tls {
		lanes := laneOrder(t)
		blocks = append(blocks, block{t, lanes})
		height += titleH + len(lanes)*laneH + gap
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="%d">`+"\n", width, height, width, height, fontSize)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	y := 0
	for _, bl := range blocks {
		fmt.Fprintf(&b, `<text x="4" y="%d" font-weight="bold" font-size="%d">%s (%.2f s)</text>`+"\n", y+titleH-7, fontSize+2, esc(bl.t.Name), bl.t.End())
		y += titleH
		for i, lane := range bl.lanes {
			ly := y + i*laneH
			if i%2 == 0 {
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#f4f6f8"/>`+"\n", left, ly, width-left-right, laneH)
			}
			fmt.Fprintf(&b, `<text x="8" y="%d">%s</text>`+"\n", ly+laneH-7, esc(lane))
			// Mark labels go in the lane's lower or upper half, wherever they do not
			// overlap one drawn already; span labels only where free. What does not
			// fit is left to the tooltips (<title>).
			col := colours[lane]
			if col == "" {
				col = "#8a6fb5"
			}
			var taken [2][][2]float64
			free := func(row int, x0 float64, text string) bool {
				x1 := x0 + float64(len([]rune(text)))*charW
				for _, e := range taken[row] {
					if x0 < e[1]+3 && x1 > e[0]-3 {
						return false
					}
				}
				taken[row] = append(taken[row], [2]float64{x0, x1})
				return true
			}
			for _, s := range bl.t.Spans {
				if s.Lane != lane {
					continue
				}
				w := math.Max((s.End-s.Start)*scale, 1.5)
				fill := col
				if s.Failed {
					fill = "#d04040"
				}
				fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" stroke="white" stroke-width="0.5"><title>%s: %.3f-%.3f s (%.0f ms)</title></rect>`+"\n",
					x(s.Start), ly+3, w, laneH-6, fill, esc(s.Label), s.Start, s.End, (s.End-s.Start)*1000)
			}
			for _, m := range bl.t.Marks {
				if m.Lane != lane {
					continue
				}
				fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#222" stroke-width="1.5"><title>%s at %.3f s</title></line>`+"\n", x(m.At), x(m.At), ly+1, ly+laneH-1, esc(m.Label), m.At)
				for row, ty := range []int{ly + laneH - 5, ly + 10} {
					if free(row, x(m.At)+3, m.Label) {
						fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="%d" fill="#222">%s</text>`+"\n", x(m.At)+3, ty, fontSize-2, esc(m.Label))
						break
					}
				}
			}
			for _, s := range bl.t.Spans {
				w := (s.End - s.Start) * scale
				if label := clip(s.Label, int(w/charW)); s.Lane == lane && w >= minLabelW && free(0, x(s.Start)+3, label) {
					fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="white" font-size="%d">%s</text>`+"\n", x(s.Start)+3, ly+laneH-8, fontSize-1, esc(label))
				}
			}
		}
		y += len(bl.lanes)*laneH + gap
	}
	// The axis.
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#444"/>`+"\n", left, width-right, y+4, y+4)
	for i := 0; float64(i)*step <= end+1e-9; i++ {
		// i*step, not a running sum: 0.1 added up drifts (1.7999999999999998 s).
		s := float64(i) * step
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#444"/>`+"\n", x(s), x(s), y+4, y+8)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="0" y2="%d" stroke="#ccc" stroke-dasharray="2,3"/>`+"\n", x(s), x(s), y+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s s</text>`+"\n", x(s), y+20, tickLabel(s))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// laneOrder lists a timeline's lanes: the known ones in their order, then the
// others as they come.
func laneOrder(t Timeline) []string {
	seen := map[string]bool{}
	var others []string
	add := func(l string) {
		if !seen[l] {
			seen[l] = true
			others = append(others, l)
		}
	}
	for _, s := range t.Spans {
		add(s.Lane)
	}
	for _, m := range t.Marks {
		add(m.Lane)
	}
	rank := map[string]int{LaneKernel: 0, LanePID1: 1, LaneBoot: 2, LaneRoot: 3}
	sort.SliceStable(others, func(i, j int) bool {
		ri, ok := rank[others[i]]
		if !ok {
			ri = 10
		}
		rj, ok := rank[others[j]]
		if !ok {
			rj = 10
		}
		return ri < rj
	})
	return others
}

// tickLabel writes an axis tick's seconds, at most to the millisecond.
func tickLabel(s float64) string {
	return strconv.FormatFloat(math.Round(s*1000)/1000, 'f', -1, 64)
}

// tickStep is a round step for an axis of end seconds: about 8 to 16 ticks.
func tickStep(end float64) float64 {
	for _, s := range []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300} {
		if end/s <= 16 {
			return s
		}
	}
	return 600
}

func clip(s string, n int) string {
	if n < 2 || len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func esc(s string) string { return html.EscapeString(s) }
