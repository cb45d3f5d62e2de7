package netconf

import (
	"fmt"
	"net"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/vishvananda/netlink"
)

func TestLeaseFromACK(t *testing.T) {
	ack, err := dhcpv4.New(
		dhcpv4.WithMessageType(dhcpv4.MessageTypeAck),
		dhcpv4.WithYourIP(ip("10.99.0.15")),
		dhcpv4.WithNetmask(mask(24)),
		dhcpv4.WithRouter(ip("10.99.0.1"), ip("10.99.0.2")),
		dhcpv4.WithDNS(ip("10.99.0.1"), ip("10.99.0.3")),
		dhcpv4.WithOption(dhcpv4.OptHostName("box")),
	)
	if err != nil {
		t.Fatal(err)
	}
	got, err := leaseFromACK(ack)
	if err != nil {
		t.Fatal(err)
	}
	want := Lease{
		IP:       net.IPNet{IP: ip("10.99.0.15"), Mask: mask(24)},
		Gateway:  ip("10.99.0.1"),
		DNS:      []net.IP{ip("10.99.0.1"), ip("10.99.0.3")},
		Hostname: "box",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("leaseFromACK = %+v, want %+v", got, want)
	}

	// No netmask, router, DNS: class mask, nothing else.
	ack, _ = dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeAck), dhcpv4.WithYourIP(ip("10.99.0.15")))
	got, err = leaseFromACK(ack)
	if err != nil {
		t.Fatal(err)
	}
	if got.IP.String() != "10.99.0.15/8" || got.Gateway != nil || len(got.DNS) != 0 {
		t.Errorf("leaseFromACK without options = %+v", got)
	}

	ack, _ = dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeAck))
	if _, err := leaseFromACK(ack); err == nil {
		t.Errorf("leaseFromACK without yiaddr: no error")
	}
}

func TestCheckLease(t *testing.T) {
	l := Lease{IP: net.IPNet{IP: net.ParseIP("10.99.0.15"), Mask: mask(24)}, Gateway: net.ParseIP("10.99.0.1")}
	if err := checkLease(&l); err != nil {
		t.Fatal(err)
	}
	if len(l.IP.IP) != 4 || len(l.Gateway) != 4 {
		t.Errorf("checkLease did not normalize to 4 bytes: %#v", l)
	}
	for _, bad := range []Lease{
		{},
		{IP: net.IPNet{IP: net.ParseIP("fd00::1")}},
		{IP: net.IPNet{IP: ip("10.99.0.15"), Mask: net.IPMask{255, 0, 255, 0}}},
		{IP: net.IPNet{IP: ip("10.99.0.15"), Mask: net.CIDRMask(64, 128)}},
		{IP: net.IPNet{IP: ip("10.99.0.15"), Mask: mask(24)}, Gateway: net.ParseIP("fd00::1")},
	} {
		if err := checkLease(&bad); err == nil {
			t.Errorf("checkLease(%+v): no error", bad)
		}
	}
}

func TestMergeDNS(t *testing.T) {
	got := mergeDNS([]net.IP{ip("10.99.0.1")}, []net.IP{net.ParseIP("10.99.0.1"), ip("10.99.0.2")})
	if fmt.Sprint(got) != "[10.99.0.1 10.99.0.2]" {
		t.Errorf("mergeDNS = %v", got)
	}
	if got := mergeDNS(nil, nil); len(got) != 0 {
		t.Errorf("mergeDNS(nil, nil) = %v", got)
	}
}

func TestCandidate(t *testing.T) {
	for _, tt := range []struct {
		l    netlink.Link
		want bool
	}{
		{&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: "eth0", Flags: net.FlagBroadcast | net.FlagMulticast}}, true},
		{&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: "ppp0", Flags: net.FlagPointToPoint}}, true},
		{&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: "lo", Flags: net.FlagLoopback}}, false},
		{&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: "sit0"}}, false},
		{&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: "dummy0", Flags: net.FlagBroadcast}}, false},
		{&netlink.Ifb{LinkAttrs: netlink.LinkAttrs{Name: "ifb0", Flags: net.FlagBroadcast}}, false},
		{&netlink.Gretap{LinkAttrs: netlink.LinkAttrs{Name: "gretap0", Flags: net.FlagBroadcast}}, false},
	} {
		if got := candidate(tt.l); got != tt.want {
			t.Errorf("candidate(%s) = %v, want %v", tt.l.Attrs().Name, got, tt.want)
		}
	}
}
