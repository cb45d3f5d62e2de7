package netconf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/insomniacslk/dhcp/iana"
)

// dhcpFirstTry is the wait for an answer to the first DHCP message; the
// client doubles it on every retransmission until the overall timeout. A
// server on the LAN answers in milliseconds, and the first DISCOVER after a
// link comes up is often lost (QEMU's e1000 drops it; a veth peer without
// carrier yet does): 250 ms, not RFC 2131's 4 s or the 1 s before, so that a
// lost first message costs a quarter second of the boot. A slow server (a
// relay) still answers: a late OFFER carries the same xid and is taken.
const dhcpFirstTry = 250 * time.Millisecond

// DHCPv4 is the default Net.DHCP: a DHCPv4 discover/offer/request/ack
// exchange on link, through a raw socket (the link needs no address), with
// retransmissions (after 0.25 s, 0.5 s, 1 s, ...) until timeout (DefaultDHCPTimeout
// if <= 0) or ctx ends. It uses the calling thread's network namespace.
// The lease is not renewed. Nothing in it waits for the kernel's CRNG: the
// transaction id comes from xidSource (see exchange).
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

	// The runtime's generator (math/rand/v2's top level: seeded at
	// start without getrandom's wait) is mixed into the clock, so that two
	// machines with equal clocks, MACs and pids still differ.
	xid := xidSource(time.Now(), c.InterfaceAddr(), os.Getpid(), rand.Uint64())
	ack, err := exchange(ctx, c, xid)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return Lease{}, fmt.Errorf("no answer from a DHCP server within %v: %w", timeout, err)
		}
		return Lease{}, err
	}
	return leaseFromACK(ack)
}

// xidSource returns a generator of DHCP transaction ids seeded from now,
// mac, pid and extra. A transaction id only has to differ from those of the
// other clients on the link (RFC 2131 asks for a random one, not an
// unguessable one), so it comes from math/rand, never from crypto/rand:
// getrandom(2) blocks until the kernel's CRNG is ready, which on a machine
// without RDRAND or an rng device (QEMU's default CPU under TCG) takes
// minutes, and the library's own generator (dhcpv4.GenerateTransactionID,
// called by dhcpv4.New and so by every nclient4 exchange) waits for it
// for up to 2 minutes and then fails with "could not get random number".
func xidSource(now time.Time, mac net.HardwareAddr, pid int, extra uint64) func() dhcpv4.TransactionID {
	h := fnv.New64a()
	h.Write(mac)
	binary.Write(h, binary.BigEndian, int64(pid))
	r := rand.New(rand.NewPCG(uint64(now.UnixNano())^extra, h.Sum64()))
	return func() dhcpv4.TransactionID {
		var x dhcpv4.TransactionID
		binary.BigEndian.PutUint32(x[:], r.Uint32())
		return x
	}
}

// requested are the options asked for in both messages of an exchange.
var requested = dhcpv4.WithRequestedOptions(
	dhcpv4.OptionSubnetMask,
	dhcpv4.OptionRouter,
	dhcpv4.OptionDomainName,
	dhcpv4.OptionDomainNameServer,
	dhcpv4.OptionHostName,
)

// exchange runs a DISCOVER/OFFER/REQUEST/ACK exchange on c and returns the
// ACK. It does what nclient4's Client.Request does, with messages built by
// message, with an id from xid, instead of dhcpv4.New.
func exchange(ctx context.Context, c *nclient4.Client, xid func() dhcpv4.TransactionID) (*dhcpv4.DHCPv4, error) {
	maxSize := dhcpv4.WithOption(dhcpv4.OptMaxMessageSize(nclient4.MaxMessageSize))
	discover := message(xid(),
		dhcpv4.WithHwAddr(c.InterfaceAddr()),
		dhcpv4.WithMessageType(dhcpv4.MessageTypeDiscover),
		requested, maxSize)
	offer, err := c.SendAndRead(ctx, c.RemoteAddr(), discover, nclient4.IsMessageType(dhcpv4.MessageTypeOffer))
	if err != nil {
		return nil, fmt.Errorf("no offer: %w", err)
	}
	// RFC 2131 4.3.2 (SELECTING): the request carries the offer's xid,
	// the offered address and the server's identifier.
	request := message(offer.TransactionID,
		dhcpv4.WithReply(offer),
		dhcpv4.WithMessageType(dhcpv4.MessageTypeRequest),
		dhcpv4.WithClientIP(offer.ClientIPAddr),
		dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(offer.YourIPAddr)),
		dhcpv4.WithOptionCopied(offer, dhcpv4.OptionServerIdentifier),
		requested, maxSize)
	ack, err := c.SendAndRead(ctx, c.RemoteAddr(), request, nclient4.IsAll(
		nclient4.IsCorrectServer(offer.ServerIdentifier()),
		nclient4.IsMessageType(dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak)))
	if err != nil {
		return nil, fmt.Errorf("no answer to the request for %v: %w", offer.YourIPAddr, err)
	}
	if ack.MessageType() == dhcpv4.MessageTypeNak {
		return nil, &nclient4.ErrNak{Offer: offer, Nak: ack}
	}
	return ack, nil
}

// message is dhcpv4.New with the transaction id given: the same fields
// before the modifiers, and no call to the library's generator.
func message(xid dhcpv4.TransactionID, modifiers ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	d := &dhcpv4.DHCPv4{
		OpCode:        dhcpv4.OpcodeBootRequest,
		HWType:        iana.HWTypeEthernet,
		ClientHWAddr:  make(net.HardwareAddr, 6),
		TransactionID: xid,
		ClientIPAddr:  net.IPv4zero,
		YourIPAddr:    net.IPv4zero,
		ServerIPAddr:  net.IPv4zero,
		GatewayIPAddr: net.IPv4zero,
		Options:       make(dhcpv4.Options),
	}
	for _, m := range modifiers {
		m(d)
	}
	return d
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
