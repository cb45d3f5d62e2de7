package bootchart

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestParseLog(t *testing.T) {
	f, err := os.Open("testdata/boot.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tl, err := ParseLog(f, "ants")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range tl.Spans {
		got = append(got, s.Lane+"/"+s.Label)
	}
	want := "kernel/kernel PID 1/admin tmpfs PID 1/payload boot scripts/10-modules boot scripts/20-ask boot scripts/30-sysname boot scripts/40-network boot scripts/50-nsfs boot scripts/60-sshd root/mount boot scripts/70-broken"
	if strings.Join(got, " ") != want {
		t.Errorf("spans:\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	k := tl.Spans[0]
	if k.Start != 0 || k.End != 2.949 {
		t.Errorf("kernel span %+v", k)
	}
	if p := tl.Spans[2]; p.End != 3.262 || p.End-p.Start < 0.079 || p.End-p.Start > 0.081 {
		t.Errorf("payload span %+v (80 ms ending at 3.262)", p)
	}
	mods := tl.Spans[3]
	if d := mods.End - mods.Start; d < 1.471 || d > 1.473 || mods.End != 5.205 {
		t.Errorf("10-modules span %+v (1472 ms ending at 5.205)", mods)
	}
	if !tl.Spans[len(tl.Spans)-1].Failed {
		t.Errorf("the failed script is not marked failed")
	}
	var marks []string
	for _, m := range tl.Marks {
		marks = append(marks, m.Label)
	}
	if strings.Join(marks, ",") != "init,admin shell,/env,root start,root init" {
		t.Errorf("marks %v", marks)
	}
	if tl.End() != 9.1 {
		t.Errorf("End = %v", tl.End())
	}
}

func TestParseLogRefusesOtherText(t *testing.T) {
	if _, err := ParseLog(strings.NewReader("hello\nworld\n"), "x"); err == nil || !strings.Contains(err.Error(), "no line of ants' boot log") {
		t.Errorf("err = %v", err)
	}
}

// The picture is well-formed XML with every lane, label and timeline in it.
func TestSVG(t *testing.T) {
	f, _ := os.Open("testdata/boot.log")
	defer f.Close()
	tl, _ := ParseLog(f, "ants <9p>")
	floor := Timeline{Name: "floor", Spans: []Span{{Lane: LaneKernel, Label: "kernel", Start: 0, End: 2.5}}, Marks: []Mark{{Lane: "shell", Label: "prompt", At: 2.6}}}
	var b bytes.Buffer
	if err := SVG(&b, tl, floor); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, b.String())
		}
	}
	s := b.String()
	for _, w := range []string{"ants &lt;9p&gt; (9.10 s)", "floor (2.60 s)", ">boot scripts<", ">root<", "40-network", "#d04040", ">prompt<", ">9 s<"} {
		if !strings.Contains(s, w) {
			t.Errorf("SVG has no %q", w)
		}
	}
}

func TestTickStep(t *testing.T) {
	for end, want := range map[float64]float64{0.5: 0.1, 3: 0.2, 9.1: 1, 17: 2, 60: 5, 1000: 120} {
		if got := tickStep(end); got != want {
			t.Errorf("tickStep(%v) = %v, want %v", end, got, want)
		}
	}
}

// The axis reads in round seconds: no tick label carries float noise
// ("1.7999999999999998 s" came of adding 0.2 up).
func TestAxisLabels(t *testing.T) {
	re := regexp.MustCompile(`>([0-9.]+) s</text>`)
	for _, end := range []float64{0.9, 3.01, 7.3, 45, 1000} {
		tl := Timeline{Name: "x", Spans: []Span{{Lane: LaneKernel, Label: "kernel", Start: 0, End: end}}}
		var b bytes.Buffer
		if err := SVG(&b, tl); err != nil {
			t.Fatal(err)
		}
		ms := re.FindAllStringSubmatch(b.String(), -1)
		if len(ms) < 5 {
			t.Errorf("end %v: %d tick labels", end, len(ms))
		}
		for _, m := range ms {
			if len(m[1]) > 4 {
				t.Errorf("end %v: a tick labelled %q", end, m[1])
			}
		}
	}
}
