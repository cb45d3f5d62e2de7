package bootvar

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

func TestParseDialGood(t *testing.T) {
	tests := []struct {
		in   string
		want Dial
		str  string // want String()
		addr string // want Addr()
	}{
		// Plan 9 dial strings.
		{"tcp!venti.example.org!17034", Dial{"tcp", "venti.example.org", 17034}, "tcp!venti.example.org!17034", "venti.example.org:17034"},
		{"tcp!fs!564", Dial{"tcp", "fs", 564}, "tcp!fs!564", "fs:564"},
		{"tcp!fs", Dial{"tcp", "fs", 564}, "tcp!fs!564", "fs:564"},
		{"net!fs!9fs", Dial{"tcp", "fs", 564}, "tcp!fs!564", "fs:564"},
		{"net!fs", Dial{"tcp", "fs", 564}, "tcp!fs!564", "fs:564"},
		{"tcp!fs!9p", Dial{"tcp", "fs", 564}, "tcp!fs!564", "fs:564"},
		{"tcp!fs!venti", Dial{"tcp", "fs", 17034}, "tcp!fs!17034", "fs:17034"},
		{"tcp!fs!nfs", Dial{"tcp", "fs", 2049}, "tcp!fs!2049", "fs:2049"},
		{"tcp!10.0.0.2!1", Dial{"tcp", "10.0.0.2", 1}, "tcp!10.0.0.2!1", "10.0.0.2:1"},
		{"tcp!10.0.0.2!65535", Dial{"tcp", "10.0.0.2", 65535}, "tcp!10.0.0.2!65535", "10.0.0.2:65535"},
		{"tcp!::1!564", Dial{"tcp", "::1", 564}, "tcp!::1!564", "[::1]:564"},
		{"tcp!2001:db8::7!5640", Dial{"tcp", "2001:db8::7", 5640}, "tcp!2001:db8::7!5640", "[2001:db8::7]:5640"},
		{"tcp!fs!0564", Dial{"tcp", "fs", 564}, "tcp!fs!564", "fs:564"}, // leading zero tolerated
		// host:port.
		{"fs:5640", Dial{"tcp", "fs", 5640}, "tcp!fs!5640", "fs:5640"},
		{"10.0.0.2:564", Dial{"tcp", "10.0.0.2", 564}, "tcp!10.0.0.2!564", "10.0.0.2:564"},
		{"fs:venti", Dial{"tcp", "fs", 17034}, "tcp!fs!17034", "fs:17034"},
		{"fs.local:9fs", Dial{"tcp", "fs.local", 564}, "tcp!fs.local!564", "fs.local:564"},
		// [v6]:port.
		{"[::1]:5640", Dial{"tcp", "::1", 5640}, "tcp!::1!5640", "[::1]:5640"},
		{"[fe80::1]", Dial{"tcp", "fe80::1", 564}, "tcp!fe80::1!564", "[fe80::1]:564"},
		{"[2001:db8::1]:9fs", Dial{"tcp", "2001:db8::1", 564}, "tcp!2001:db8::1!564", "[2001:db8::1]:564"},
		{"[192.0.2.1]:80", Dial{"tcp", "192.0.2.1", 80}, "tcp!192.0.2.1!80", "192.0.2.1:80"},
		// Bare IPv6 address: port by default.
		{"::1", Dial{"tcp", "::1", 564}, "tcp!::1!564", "[::1]:564"},
		{"2001:db8::2", Dial{"tcp", "2001:db8::2", 564}, "tcp!2001:db8::2!564", "[2001:db8::2]:564"},
		// Bare hosts.
		{"fs", Dial{"tcp", "fs", 564}, "tcp!fs!564", "fs:564"},
		{"my-host_1.example.org", Dial{"tcp", "my-host_1.example.org", 564}, "tcp!my-host_1.example.org!564", "my-host_1.example.org:564"},
		{"192.0.2.7", Dial{"tcp", "192.0.2.7", 564}, "tcp!192.0.2.7!564", "192.0.2.7:564"},
		{strings.Repeat("a", 63) + "." + strings.Repeat("b", 63), Dial{"tcp", strings.Repeat("a", 63) + "." + strings.Repeat("b", 63), 564}, "", ""},
		// Space around the address is trimmed.
		{"  tcp!fs!564\n", Dial{"tcp", "fs", 564}, "tcp!fs!564", "fs:564"},
		{"\tfs:1 ", Dial{"tcp", "fs", 1}, "tcp!fs!1", "fs:1"},
	}
	for _, tt := range tests {
		d, err := ParseDial(tt.in)
		if err != nil {
			t.Errorf("ParseDial(%q): %v", tt.in, err)
			continue
		}
		if d != tt.want {
			t.Errorf("ParseDial(%q) = %#v, want %#v", tt.in, d, tt.want)
		}
		if tt.str != "" && d.String() != tt.str {
			t.Errorf("ParseDial(%q).String() = %q, want %q", tt.in, d.String(), tt.str)
		}
		if tt.addr != "" && d.Addr() != tt.addr {
			t.Errorf("ParseDial(%q).Addr() = %q, want %q", tt.in, d.Addr(), tt.addr)
		}
		// The normalized forms parse back to the same address.
		for _, again := range []string{d.String(), d.Addr()} {
			d2, err := ParseDial(again)
			if err != nil || d2 != d {
				t.Errorf("ParseDial(%q) (from %q) = %#v, %v; want %#v", again, tt.in, d2, err, d)
			}
		}
	}
}

func TestParseDialBad(t *testing.T) {
	tests := []struct {
		in   string
		want string // part of the error text besides the quoted input
	}{
		{"", `empty address ""; give tcp!HOST!PORT or HOST:PORT`},
		{"   ", "empty address"},
		{"\t\n", "empty address"},
		// Spaces.
		{"my host:564", "has spaces"},
		{"tcp!fs!5 64", "has spaces"},
		{"fs:\t564", "has spaces"},
		{"tcp!fs\n!564", "has spaces"},
		{"[::1]\r:564", "has spaces"},
		// Networks.
		{"udp!fs!1", `network "udp" is not supported`},
		{"il!fs!17008", `network "il" is not supported`},
		{"TCP!fs!564", `network "TCP" is not supported`},
		{"udp!fs", `network "udp" is not supported`},
		{"!fs!564", "names no network"},
		{"!fs", "names no network"},
		{"!", "names no network"},
		// Too many '!'.
		{"tcp!fs!564!x", "4 '!'-separated parts"},
		{"tcp!!!", "4 '!'-separated parts"},
		{"tcp!a!b!c!d", "5 '!'-separated parts"},
		// Empty ports.
		{"tcp!fs!", "empty port after the last '!'"},
		{"tcp!!", "empty port"},
		{"fs:", "empty port after ':'"},
		{"10.0.0.2:", "empty port after ':'"},
		{"[::1]:", "after ']' want :PORT"},
		// Port ranges and numbers.
		{"tcp!fs!0", "port 0 is out of range 1-65535"},
		{"tcp!fs!65536", "port 65536 is out of range 1-65535"},
		{"fs:0", "port 0 is out of range"},
		{"fs:65536", "port 65536 is out of range"},
		{"fs:-1", "port -1 is out of range"},
		{"[::1]:0", "port 0 is out of range"},
		{"[::1]:70000", "port 70000 is out of range"},
		{"tcp!fs!abc", `port "abc" is not a number`},
		{"fs:abc", `port "abc" is not a number`},
		{"fs:56x", `port "56x" is not a number`},
		{"fs:0x234", `port "0x234" is not a number`},
		{"[::1]:x", `port "x" is not a number`},
		{"fs:99999999999999999999", "is not a number"},
		// Hosts.
		{"tcp!!564", "no host"},
		{"tcp!", "no host"},
		{":564", "no host"},
		{"bad$host", `the character '$'`},
		{"tcp!fs/x!564", `the character '/'`},
		{"fs@x:564", `the character '@'`},
		{"héllo", `the character 'é'`},
		{"fs\x00", `the character '\x00'`},
		{"a..b", "empty label"},
		{".fs", "empty label"},
		{"fs.", "empty label"},
		{"tcp![::1]!564", `the character '['`},
		{"fe80::1%eth0", "too many ':'"},
		{strings.Repeat("a", 254), "longer than 253 characters"},
		// Brackets.
		{"[::1", "'[' without ']'"},
		{"[::1:564", "'[' without ']'"},
		{"[", "'[' without ']'"},
		{"[::1]564", "after ']' want :PORT"},
		{"[::1]x:564", "after ']' want :PORT"},
		{"[fs]:564", `"fs" is not an IPv6 address`},
		{"[]", `"" is not an IPv6 address`},
		{"[]:564", `"" is not an IPv6 address`},
		{"[::1]:564]", `port "564]" is not a number`},
		// Several ':' that are not an IPv6 address.
		{"a:b:c", "too many ':'"},
		{"fs:564:1", "too many ':'"},
		{"10.0.0.2:5:6", "too many ':'"},
		{"::g", "too many ':'"},
		{"]:564", `the character ']'`},
	}
	for _, tt := range tests {
		d, err := ParseDial(tt.in)
		if err == nil {
			t.Errorf("ParseDial(%q) = %#v, want an error", tt.in, d)
			continue
		}
		msg := err.Error()
		if strings.TrimSpace(tt.in) != "" && !strings.Contains(msg, strconv.Quote(tt.in)) {
			t.Errorf("ParseDial(%q): error %q does not name the input", tt.in, msg)
		}
		if !strings.Contains(msg, tt.want) {
			t.Errorf("ParseDial(%q): error %q, want it to say %q", tt.in, msg, tt.want)
		}
	}
}

// venti= is checked with ParseDial.
func TestCheckDial(t *testing.T) {
	if err := Validate("venti", "tcp!fs!564"); err != nil {
		t.Errorf("Validate(venti, tcp!fs!564): %v", err)
	}
	if err := Validate("venti", "udp!fs!1"); err == nil || !strings.Contains(err.Error(), `"udp!fs!1"`) {
		t.Errorf("Validate(venti, udp!fs!1) = %v, want an error naming it", err)
	}
	if err := Validate("venti", Ask); err != nil {
		t.Errorf("Validate(venti, ask) = %v, want nil", err)
	}
}

func FuzzParseDial(f *testing.F) {
	for _, s := range []string{
		"tcp!fs!564", "net!10.0.0.2!9fs", "tcp!fs", "tcp!::1!17034",
		"fs:564", "[::1]:564", "[fe80::1]", "::1", "fs", "fs.example.org",
		"", " ", "udp!fs!1", "tcp!a!b!c", "tcp!fs!", "fs:0", "fs:65536",
		"fs:abc", "bad$host", "[::1", "a:b:c", "[1.2.3.4]:80", "tcp!fs!+1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDial(s)
		if err != nil {
			if strings.TrimSpace(s) != "" && !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Errorf("ParseDial(%q): error %q does not name the input", s, err)
			}
			return
		}
		if d.Net != "tcp" || d.Host == "" || d.Port < 1 || d.Port > 65535 {
			t.Fatalf("ParseDial(%q) = %#v: bad field", s, d)
		}
		d2, err := ParseDial(d.String())
		if err != nil {
			t.Fatalf("ParseDial(%q) = %#v, but ParseDial(%q): %v", s, d, d.String(), err)
		}
		if d2 != d {
			t.Fatalf("ParseDial(%q) = %#v, but ParseDial(%q) = %#v", s, d, d.String(), d2)
		}
		host, port, err := net.SplitHostPort(d.Addr())
		if err != nil || host != d.Host || port != strconv.Itoa(d.Port) {
			t.Fatalf("ParseDial(%q).Addr() = %q: SplitHostPort gives %q, %q, %v", s, d.Addr(), host, port, err)
		}
		d3, err := ParseDial(d.Addr())
		if err != nil || d3 != d {
			t.Fatalf("ParseDial(%q) = %#v, but ParseDial(%q) = %#v, %v", s, d, d.Addr(), d3, err)
		}
	})
}
