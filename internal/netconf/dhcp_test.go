package netconf

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
)

func TestXIDSource(t *testing.T) {
	now := time.Unix(1700000000, 123456789)
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	first := func(now time.Time, mac net.HardwareAddr, pid int, extra uint64) dhcpv4.TransactionID {
		return xidSource(now, mac, pid, extra)()
	}
	base := first(now, mac, 1, 0)
	if again := first(now, mac, 1, 0); again != base {
		t.Errorf("same seeds gave %v, then %v", base, again)
	}
	for name, x := range map[string]dhcpv4.TransactionID{
		"clock": first(now.Add(time.Nanosecond), mac, 1, 0),
		"MAC":   first(now, net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x57}, 1, 0),
		"pid":   first(now, mac, 2, 0),
		"extra": first(now, mac, 1, 1),
	} {
		if x == base {
			t.Errorf("another %s gave the same first id %v", name, x)
		}
	}
	next := xidSource(now, mac, 1, 0)
	seen := map[dhcpv4.TransactionID]bool{}
	for range 100 {
		x := next()
		if seen[x] {
			t.Fatalf("id %v repeated within 100", x)
		}
		seen[x] = true
	}
}

// dhcpServer answers DHCP on a loopback UDP socket: an OFFER of 10.99.0.15
// to a DISCOVER, an ACK (or a NAK if nak) to a REQUEST. Each message it
// got is sent on got.
func dhcpServer(t *testing.T, nak bool) (*net.UDPAddr, <-chan *dhcpv4.DHCPv4) {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	got := make(chan *dhcpv4.DHCPv4, 10)
	server := ip("10.99.0.1")
	go func() {
		b := make([]byte, 1500)
		for {
			n, peer, err := conn.ReadFrom(b)
			if err != nil {
				return
			}
			m, err := dhcpv4.FromBytes(b[:n])
			if err != nil {
				continue
			}
			got <- m
			mt := dhcpv4.MessageTypeOffer
			if m.MessageType() == dhcpv4.MessageTypeRequest {
				mt = dhcpv4.MessageTypeAck
				if nak {
					mt = dhcpv4.MessageTypeNak
				}
			}
			resp, err := dhcpv4.NewReplyFromRequest(m,
				dhcpv4.WithMessageType(mt),
				dhcpv4.WithYourIP(ip("10.99.0.15")),
				dhcpv4.WithNetmask(mask(24)),
				dhcpv4.WithOption(dhcpv4.OptServerIdentifier(server)))
			if err != nil {
				t.Error(err)
				return
			}
			conn.WriteTo(resp.ToBytes(), peer)
		}
	}()
	return conn.LocalAddr().(*net.UDPAddr), got
}

func exchangeClient(t *testing.T, srv *net.UDPAddr, mac net.HardwareAddr) *nclient4.Client {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := nclient4.NewWithConn(conn, mac, nclient4.WithServerAddr(srv),
		nclient4.WithTimeout(time.Second), nclient4.WithRetry(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestExchange checks that both messages of an exchange carry the id from
// the xid source (so that no id comes from the library's generator, which
// waits for the CRNG) and what the REQUEST holds.
func TestExchange(t *testing.T) {
	srv, got := dhcpServer(t, false)
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	c := exchangeClient(t, srv, mac)
	now := time.Now()
	want := xidSource(now, mac, 7, 0)()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ack, err := exchange(ctx, c, xidSource(now, mac, 7, 0))
	if err != nil {
		t.Fatal(err)
	}
	if ack.MessageType() != dhcpv4.MessageTypeAck || !ack.YourIPAddr.Equal(ip("10.99.0.15")) {
		t.Errorf("exchange returned %v", ack.Summary())
	}
	discover, request := <-got, <-got
	for _, m := range []*dhcpv4.DHCPv4{discover, request} {
		if m.TransactionID != want {
			t.Errorf("%v has xid %v, want %v from xidSource", m.MessageType(), m.TransactionID, want)
		}
		if m.ClientHWAddr.String() != mac.String() {
			t.Errorf("%v has chaddr %v, want %v", m.MessageType(), m.ClientHWAddr, mac)
		}
		if !m.IsOptionRequested(dhcpv4.OptionHostName) || !m.IsOptionRequested(dhcpv4.OptionRouter) {
			t.Errorf("%v does not ask for host name and router: %v", m.MessageType(), m.ParameterRequestList())
		}
	}
	if discover.MessageType() != dhcpv4.MessageTypeDiscover || request.MessageType() != dhcpv4.MessageTypeRequest {
		t.Fatalf("server got %v, %v", discover.MessageType(), request.MessageType())
	}
	if !request.RequestedIPAddress().Equal(ip("10.99.0.15")) || !request.ServerIdentifier().Equal(ip("10.99.0.1")) {
		t.Errorf("REQUEST asks for %v from %v, want 10.99.0.15 from 10.99.0.1",
			request.RequestedIPAddress(), request.ServerIdentifier())
	}
}

func TestExchangeNak(t *testing.T) {
	srv, _ := dhcpServer(t, true)
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	c := exchangeClient(t, srv, mac)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := exchange(ctx, c, xidSource(time.Now(), mac, 7, 0))
	var nak *nclient4.ErrNak
	if !errors.As(err, &nak) {
		t.Errorf("exchange with a NAK: %v, want an ErrNak", err)
	}
}
