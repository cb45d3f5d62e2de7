package bootvar

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	const gig = 1 << 30
	tests := []struct {
		in    string
		total uint64
		want  uint64
	}{
		{"64m", gig, 64 << 20},
		{"64M", gig, 64 << 20},
		{" 64m\n", gig, 64 << 20},
		{"1g", gig, 1 << 30},
		{"3G", gig, 3 << 30},
		{"512k", gig, 512 << 10},
		{"512K", gig, 512 << 10},
		{"4096", gig, 4096},
		{"1", gig, 1},
		{"007m", gig, 7 << 20},
		{"8589934592g", gig, 8589934592 << 30}, // 2^33 g = 2^63 fits
		{"18446744073709551615", gig, 18446744073709551615},
		// Totals that 100 divides; see TestParseSizePercentRounding for the others.
		{"50%", 8e9, 4e9},
		{"100%", 8e9, 8e9},
		{"1%", 100 * gig, gig},
		{"25%", 4000, 1000},
		{" 10% ", 1000, 100},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in, tt.total)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q, %d) = %d, %v; want %d", tt.in, tt.total, got, err, tt.want)
		}
	}
}

func TestParseSizeBad(t *testing.T) {
	for _, in := range []string{
		"", " ", "0", "0m", "0k", "m", "k", "g", "-1", "+1", "1.5g", "64mb", "1t", "1 m",
		"abc", "0x10", "18446744073709551616", "1e6",
		"0%", "101%", "256%", "1000%", "-5%", "%", "50 %", "5.5%", "m%", "50%%", "%50",
	} {
		got, err := ParseSize(in, 1<<30)
		if err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(in)) {
			t.Errorf("ParseSize(%q): error %q does not name the input", in, err)
		}
	}
}

func TestParseSizeOverflow(t *testing.T) {
	for _, in := range []string{"17179869184g", "20000000000g", "18014398509481984k", "18446744073709551615k", "17592186044416m", "18446744073709551616", "99999999999999999999999g"} {
		got, err := ParseSize(in, 1<<30)
		if err == nil {
			t.Errorf("ParseSize(%q) = %d, nil; want an error (it does not fit 64 bits)", in, got)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(in)) || !strings.Contains(err.Error(), "too large") {
			t.Errorf("ParseSize(%q): error %q, want it to name the input and say it is too large", in, err)
		}
	}
	// Just under the limit.
	for in, want := range map[string]uint64{"17179869183g": 17179869183 << 30, "18014398509481983k": 18014398509481983 << 10} {
		if got, err := ParseSize(in, 1<<30); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

// Percentages are total*p/100, rounded down, without overflow; 0 bytes is an error.
func TestParseSizePercentRounding(t *testing.T) {
	tests := []struct {
		in          string
		total, want uint64
	}{
		{"100%", 8 << 30, 8 << 30},
		{"50%", 1 << 30, 1 << 29},
		{"50%", 150, 75},
		{"1%", 99, 0}, // 0.99 rounds down; but then it should be an error, see below
		{"33%", 1000, 330},
		{"99%", 1<<30 + 99, (1<<30 + 99) * 99 / 100},
		{"100%", 1<<64 - 1, 1<<64 - 1},
		{"50%", 1<<64 - 1, 1<<63 - 1},
		{"99%", 1<<64 - 1, 18262276632972456098}, // floor((2^64-1)*99/100)
		{"1%", 1<<64 - 1, 184467440737095516},
		{"1%", 100, 1},
		{"100%", 1, 1},
		{"50%", 1, 0},
		{"1%", 0, 0},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in, tt.total)
		if tt.want == 0 {
			if err == nil || !strings.Contains(err.Error(), strconv.Quote(tt.in)) {
				t.Errorf("ParseSize(%q, %d) = %d, %v; want an error naming the input for a size of 0", tt.in, tt.total, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q, %d) = %d, %v; want %d", tt.in, tt.total, got, err, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name, value string
		ok          bool
	}{
		{"sysname", "gnot", true},
		{"sysname", "gnot-2.example_x", true},
		{"sysname", "", true},
		{"sysname", "has space", false},
		{"sysname", "a/b", false},
		{"sysname", strings.Repeat("x", 64), true},
		{"sysname", strings.Repeat("x", 65), false},
		{"rootdelay", "0", true},
		{"rootdelay", "10", true},
		{"rootdelay", "-1", false},
		{"rootdelay", "1.5", false},
		{"rootdelay", "", false},
		{"rootdelay", "3600", true},
		{"rootdelay", "3601", false},
		{"rootdelay", "10000000000", false},
		{"rootdelay", "99999999999999999999", false},
		{"ants.watchdog", "0", true},
		{"ants.watchdog", "3600", true},
		{"ants.watchdog", "3601", false},
		{"ants.watchdog", "10000000000", false},
		{"ants.watchdog", "-5", false},
		{"ip", "dhcp", true},
		{"ip", "none", true},
		{"ip", "", true},
		{"ip", "10.0.0.5::10.0.0.1:255.255.255.0:gnot:eth0:off", true},
		{"ip", "10.0.0.5:10.0.0.2", true},
		{"ip", "10.0.0.5", false},
		{"ip", "foo", false},
		{"ip", strings.Repeat(":", 9), false},
		{"venti", "tcp!fs!564", true},
		{"venti", "fs:564", true},
		{"venti", "", false},
		{"venti", "udp!fs!1", false},
		{"interactive", "yes", true},
		{"interactive", "NO", true},
		{"interactive", "", true},
		{"interactive", "maybe", false},
		{"ants.onrootexit", "shell", true},
		{"ants.onrootexit", "restart", true},
		{"ants.onrootexit", "poweroff", true},
		{"ants.onrootexit", "reboot", true},
		{"ants.onrootexit", "halt", false},
		{"ants.onrootexit", "", false},
		{"ants.onrootexit", "Reboot", false},
		{"ants.tmpfs", "50%", true},
		{"ants.tmpfs", "64m", true},
		{"ants.tmpfs", "lots", false},
		// No check: anything goes.
		{"root", "", true},
		{"init", "/bin/rc -i", true},
		{"ro", "whatever", true},
		// Unknown names are not checked.
		{"foo", "anything at all", true},
		{"ants.nosuch", "x", true},
	}
	for _, tt := range tests {
		err := Validate(tt.name, tt.value)
		if (err == nil) != tt.ok {
			t.Errorf("Validate(%q, %q) = %v, want ok=%v", tt.name, tt.value, err, tt.ok)
		}
		if err != nil && tt.value != "" && !strings.Contains(err.Error(), strconv.Quote(tt.value)) {
			t.Errorf("Validate(%q, %q): error %q does not name the value", tt.name, tt.value, err)
		}
	}
	// "ask" is always valid.
	for _, k := range Table {
		if err := Validate(k.Name, Ask); err != nil {
			t.Errorf("Validate(%q, ask) = %v", k.Name, err)
		}
	}
}

// Every duration (a Doc in seconds) is range-checked: a count of seconds past the
// limit is refused with the range, and Seconds gives the time.Duration of the rest.
func TestSeconds(t *testing.T) {
	var durations []string
	for _, k := range Table {
		if strings.Contains(k.Doc, "seconds") != (k.MaxSeconds > 0) {
			t.Errorf("%s: Doc %q and MaxSeconds %d disagree on whether it is a duration", k.Name, k.Doc, k.MaxSeconds)
		}
		if k.MaxSeconds > 0 {
			durations = append(durations, k.Name)
		}
	}
	if len(durations) < 2 {
		t.Fatalf("durations in the table: %v; want rootdelay and ants.watchdog at least", durations)
	}
	for _, name := range durations {
		for _, tt := range []struct {
			in   string
			want time.Duration
			err  string // in the error, after the name and the quoted value
		}{
			{"0", 0, ""},
			{"5", 5 * time.Second, ""},
			{"3600", time.Hour, ""},
			{"3601", 0, "out of range: from 0 to 3600 seconds"},
			{"10000000000", 0, "out of range: from 0 to 3600 seconds"},
			{"9223372036854775808", 0, "out of range: from 0 to 3600 seconds"},
			{"-1", 0, "out of range: from 0 to 3600 seconds"},
			{"1.5", 0, "not a whole number of seconds"},
			{"ask", 0, "not a whole number of seconds"},
			{"", 0, "not a whole number of seconds"},
		} {
			got, err := Seconds(name, tt.in)
			if tt.err == "" {
				if err != nil || got != tt.want {
					t.Errorf("Seconds(%q, %q) = %v, %v; want %v", name, tt.in, got, err, tt.want)
				}
				continue
			}
			if err == nil || !strings.Contains(err.Error(), name+": "+strconv.Quote(tt.in)+" is "+tt.err) {
				t.Errorf("Seconds(%q, %q) = %v, %v; want an error %q", name, tt.in, got, err, tt.err)
			}
		}
	}
	if _, err := Seconds("sysname", "5"); err == nil {
		t.Errorf("Seconds(sysname) is not an error")
	}
}

func TestTruth(t *testing.T) {
	for _, v := range []string{"yes", "YES", "1", "true", "True", "y", "Y"} {
		if !Truth(v) {
			t.Errorf("Truth(%q) = false", v)
		}
	}
	for _, v := range []string{"", "no", "0", "false", "n", "maybe", "2", " yes"} {
		if Truth(v) {
			t.Errorf("Truth(%q) = true", v)
		}
	}
}

func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Table {
		if k.Name == "" || strings.ContainsAny(k.Name, " \t/=\"") {
			t.Errorf("bad name %q", k.Name)
		}
		if seen[k.Name] {
			t.Errorf("%s is in the table twice", k.Name)
		}
		seen[k.Name] = true
		if k.Doc == "" {
			t.Errorf("%s has no Doc", k.Name)
		}
		if k.Default != "" {
			if err := Validate(k.Name, k.Default); err != nil {
				t.Errorf("%s: the default %q fails its own check: %v", k.Name, k.Default, err)
			}
		}
		if k.Kind == Flag && (k.Default != "" || k.Check != nil || k.Ask) {
			t.Errorf("flag %s has a default, a check or Ask", k.Name)
		}
		got, ok := Lookup(k.Name)
		if !ok || got.Name != k.Name || !IsKnown(k.Name) {
			t.Errorf("Lookup(%q) = %v, %v", k.Name, got.Name, ok)
		}
	}
	for _, n := range []string{"", "quiet", "ants.", "ants.nosuch", "RO", "init "} {
		if _, ok := Lookup(n); ok || IsKnown(n) {
			t.Errorf("Lookup(%q) finds it", n)
		}
	}
	// The names the rest of ants relies on.
	for _, n := range []string{"sysname", "root", "ro", "rw", "rootwait", "init", "ip", "console", "venti", "interactive", "ants.onrootexit", "ants.tmpfs"} {
		if !IsKnown(n) {
			t.Errorf("%s is not in the table", n)
		}
	}
	for _, n := range []string{"ro", "rw", "rootwait"} {
		if k, _ := Lookup(n); k.Kind != Flag {
			t.Errorf("%s is not a flag", n)
		}
	}
}
