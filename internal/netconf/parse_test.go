package netconf

import (
	"net"
	"reflect"
	"strings"
	"testing"
)

func ip(s string) net.IP { return net.ParseIP(s).To4() }

func mask(bits int) net.IPMask { return net.CIDRMask(bits, 32) }

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Config
	}{
		// Short forms.
		{"", Config{Mode: ModeNone}},
		{"off", Config{Mode: ModeNone, Autoconf: "off"}},
		{"none", Config{Mode: ModeNone, Autoconf: "none"}},
		{"dhcp", Config{Mode: ModeDHCP, Autoconf: "dhcp"}},
		{"DHCP", Config{Mode: ModeDHCP, Autoconf: "dhcp"}},
		{"on", Config{Mode: ModeDHCP, Autoconf: "on"}},
		{"any", Config{Mode: ModeDHCP, Autoconf: "any"}},
		{"both", Config{Mode: ModeDHCP, Autoconf: "both"}},
		{"bootp", Config{Mode: ModeDHCP, Autoconf: "bootp"}},
		{"rarp", Config{Mode: ModeDHCP, Autoconf: "rarp"}},

		// Long form, all fields.
		{"10.0.2.15:10.0.2.2:10.0.2.1:255.255.255.0:box:eth0:off:10.0.2.3:10.0.2.4:10.0.2.5", Config{
			Mode: ModeStatic, Client: ip("10.0.2.15"), Server: ip("10.0.2.2"), Gateway: ip("10.0.2.1"),
			Mask: mask(24), Hostname: "box", Device: "eth0", Autoconf: "off",
			DNS: []net.IP{ip("10.0.2.3"), ip("10.0.2.4")}, NTP: ip("10.0.2.5"),
		}},
		// Empty fields.
		{"10.0.2.15::10.0.2.2:255.255.255.0::eth0:off", Config{
			Mode: ModeStatic, Client: ip("10.0.2.15"), Gateway: ip("10.0.2.2"),
			Mask: mask(24), Device: "eth0", Autoconf: "off",
		}},
		{"10.0.2.15::10.0.2.2:255.255.255.0::eth0:none", Config{
			Mode: ModeStatic, Client: ip("10.0.2.15"), Gateway: ip("10.0.2.2"),
			Mask: mask(24), Device: "eth0", Autoconf: "none",
		}},
		// Trailing fields left out; no autoconf with an address: static.
		{"10.0.2.15", Config{Mode: ModeStatic, Client: ip("10.0.2.15")}},
		{"10.0.2.15::10.0.2.2", Config{Mode: ModeStatic, Client: ip("10.0.2.15"), Gateway: ip("10.0.2.2")}},
		// No autoconf and no address: DHCP (the default "any").
		{"::::::", Config{Mode: ModeDHCP}},
		{":::::eth1", Config{Mode: ModeDHCP, Device: "eth1"}},
		// 0.0.0.0 counts as empty, as in the kernel.
		{"0.0.0.0:0.0.0.0:0.0.0.0::::dhcp", Config{Mode: ModeDHCP, Autoconf: "dhcp"}},
		// DHCP with hostname and device (nfsroot.rst: hostname is sent along).
		{"::::myhost:eth0:dhcp", Config{Mode: ModeDHCP, Hostname: "myhost", Device: "eth0", Autoconf: "dhcp"}},
		{"::::myhost::on", Config{Mode: ModeDHCP, Hostname: "myhost", Autoconf: "on"}},
		{":::::eth0:any", Config{Mode: ModeDHCP, Device: "eth0", Autoconf: "any"}},
		{":::::eth0:both", Config{Mode: ModeDHCP, Device: "eth0", Autoconf: "both"}},
		{":::::eth0:bootp", Config{Mode: ModeDHCP, Device: "eth0", Autoconf: "bootp"}},
		{":::::eth0:rarp", Config{Mode: ModeDHCP, Device: "eth0", Autoconf: "rarp"}},
		{":::::eth0:DHCP", Config{Mode: ModeDHCP, Device: "eth0", Autoconf: "dhcp"}},
		// An address with autoconf dhcp: DHCP still.
		{"10.0.2.15::::::dhcp", Config{Mode: ModeDHCP, Client: ip("10.0.2.15"), Autoconf: "dhcp"}},
		// Prefix masks.
		{"10.99.0.15:::24", Config{Mode: ModeStatic, Client: ip("10.99.0.15"), Mask: mask(24)}},
		{"10.99.0.15:::/16", Config{Mode: ModeStatic, Client: ip("10.99.0.15"), Mask: mask(16)}},
		{"10.99.0.15:::32", Config{Mode: ModeStatic, Client: ip("10.99.0.15"), Mask: mask(32)}},
		{"10.99.0.15:::0", Config{Mode: ModeStatic, Client: ip("10.99.0.15"), Mask: mask(0)}},
		{"10.99.0.15:::255.255.252.0", Config{Mode: ModeStatic, Client: ip("10.99.0.15"), Mask: mask(22)}},
		{"10.99.0.15:::255.255.255.255", Config{Mode: ModeStatic, Client: ip("10.99.0.15"), Mask: mask(32)}},
		// DNS only in dns1.
		{"10.99.0.15::::::off::10.99.0.1", Config{
			Mode: ModeStatic, Client: ip("10.99.0.15"), Autoconf: "off", DNS: []net.IP{ip("10.99.0.1")},
		}},
		// Hostname.
		{"10.99.0.15::::ants-box", Config{Mode: ModeStatic, Client: ip("10.99.0.15"), Hostname: "ants-box"}},
		{"10.99.0.15::::" + strings.Repeat("h", 64), Config{Mode: ModeStatic, Client: ip("10.99.0.15"), Hostname: strings.Repeat("h", 64)}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q)\n got  %+v\n want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"10.0.2.300", `ip=: client-ip "10.0.2.300" is not an IPv4 address`},
		{"eth0", `ip=: client-ip "eth0" is not an IPv4 address`},
		{"10.0.2.15:1.2.3:", `ip=: server-ip "1.2.3" is not an IPv4 address`},
		{"10.0.2.15::gw", `ip=: gw-ip "gw" is not an IPv4 address`},
		{"10.0.2.15:::255.0.255.0", `ip=: netmask "255.0.255.0" is not a netmask`},
		{"10.0.2.15:::255.255.255.1", `ip=: netmask "255.255.255.1" is not a netmask`},
		{"10.0.2.15:::255.255.256.0", `ip=: netmask "255.255.256.0" is not a netmask`},
		{"10.0.2.15:::33", `ip=: netmask "33" is not a prefix length 0-32 or a dotted netmask`},
		{"10.0.2.15:::/", `ip=: netmask "/" is not a prefix length 0-32 or a dotted netmask`},
		{"10.0.2.15:::-1", `ip=: netmask "-1" is not a prefix length 0-32 or a dotted netmask`},
		{"10.0.2.15:::+8", `ip=: netmask "+8" is not a prefix length 0-32 or a dotted netmask`},
		{"10.0.2.15:::x", `ip=: netmask "x" is not a prefix length 0-32 or a dotted netmask`},
		{"10.0.2.15::::" + strings.Repeat("h", 65), `ip=: hostname "` + strings.Repeat("h", 65) + `" is longer than 64 bytes`},
		{"10.0.2.15:::::a-very-long-interface", `ip=: device "a-very-long-interface" is not a network interface name`},
		{"10.0.2.15:::::eth/0", `ip=: device "eth/0" is not a network interface name`},
		{"10.0.2.15::::::static", `ip=: autoconf "static" is not one of off, none, on, any, dhcp, both, bootp, rarp`},
		{"10.0.2.15::::::off:8.8.8", `ip=: dns0-ip "8.8.8" is not an IPv4 address`},
		{"10.0.2.15::::::off::fe80", `ip=: dns1-ip "fe80" is not an IPv4 address`},
		{"10.0.2.15::::::off:::ntp", `ip=: ntp0-ip "ntp" is not an IPv4 address`},
		{"10.0.2.15::::::off::::", `ip=: too many fields in "10.0.2.15::::::off::::": 11, at most 10`},
		{":::::eth0:off", `ip=: client-ip is empty but autoconf is "off": a static configuration needs an address`},
		{"::::::none", `ip=: client-ip is empty but autoconf is "none": a static configuration needs an address`},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %+v, want error %q", tt.in, got, tt.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error\n got  %q\n want %q", tt.in, err, tt.want)
		}
	}
}
