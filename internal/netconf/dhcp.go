package netconf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
)

// dhcpFirstTry is the wait for an answer to the first DHCP message; the
// client doubles it on every retransmission until the overall timeout.
const dhcpFirstTry = time.Second

// DHCPv4 is the default Net.DHCP: a DHCPv4 discover/offer/request/ack
// exchange on link, through a raw socket (the link needs no address), with
// retransmissions (1 s, 2 s, 4 s, ...) until timeout (DefaultDHCPTimeout
// if <= 0) or ctx ends. It uses the calling thread's network namespace.
// The lease is not renewed.
func DHCPv4(ctx context.Context, link string, timeout time.Duration) (Lease, error) {
	if timeout <= 0 {
		timeout = DefaultDHCPTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	c, err := nclient4.New(link,
		nclient4.WithTimeout(dhcpFirstTry),
		nclient4.WithRetry(-1), // until ctx is done
	)
	if err != nil {
		return Lease{}, err
	}
	defer c.Close()

	l, err := c.Request(ctx, dhcpv4.WithRequestedOptions(dhcpv4.OptionHostName))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return Lease{}, fmt.Errorf("no answer from a DHCP server within %v: %w", timeout, err)
		}
		return Lease{}, err
	}
	return leaseFromACK(l.ACK)
}

// leaseFromACK extracts a Lease from a DHCPACK.
func leaseFromACK(ack *dhcpv4.DHCPv4) (Lease, error) {
	ip := ack.YourIPAddr.To4()
	if ip == nil || ip.Equal(net.IPv4zero) {
		return Lease{}, fmt.Errorf("DHCPACK from %v has no address", ack.ServerIdentifier())
	}
	mask := ack.SubnetMask()
	if mask == nil {
		mask = ip.DefaultMask()
	}
	var gw net.IP
	if rs := ack.Router(); len(rs) > 0 {
		gw = rs[0].To4()
	}
	return Lease{
		IP:       net.IPNet{IP: ip, Mask: mask},
		Gateway:  gw,
		DNS:      ack.DNS(),
		Hostname: ack.HostName(),
	}, nil
}
