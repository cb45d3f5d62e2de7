package netconf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Defaults for the zero values of Net's durations.
const (
	DefaultLinkWait    = 10 * time.Second // for a link to appear (driver still loading)
	DefaultCarrierWait = 5 * time.Second  // for carrier after bringing a link up (DHCP only)
	DefaultDHCPTimeout = 10 * time.Second // for one DHCP exchange on one link
)

const pollInterval = 100 * time.Millisecond

// Net applies a Config to the kernel. The zero value uses netlink's default
// handle (the calling thread's network namespace), the DHCPv4 client of
// github.com/insomniacslk/dhcp, and no logging.
type Net struct {
	Handle *netlink.Handle // nil = netlink's default
	// DHCP obtains a lease on link within timeout; nil = DHCPv4.
	DHCP func(ctx context.Context, link string, timeout time.Duration) (Lease, error)
	Log  func(format string, args ...any) // nil = no logging

	// Zero = DefaultLinkWait, DefaultCarrierWait, DefaultDHCPTimeout,
	// DefaultPhysWait.
	LinkWait, CarrierWait, DHCPTimeout, PhysWait time.Duration

	// Driver names the kernel driver of a link (nil = sysfs), and PhysLink
	// asks it for the PHY's link (nil = the MII ioctls): see lateCarrier.
	Driver   func(link string) string
	PhysLink func(link string) (bool, error)
}

// Lease is what a DHCP server handed out.
type Lease struct {
	IP       net.IPNet // address and netmask
	Gateway  net.IP    // first router, or nil
	DNS      []net.IP
	Hostname string
}

// Result is what Up configured.
type Result struct {
	Link    string    // configured link; "" for ModeNone
	Addr    net.IPNet // address put on Link
	Gateway net.IP    // default route via this address, or nil
	// DNS servers to put in /etc/resolv.conf: the ip= dns fields first,
	// then those of the DHCP lease. Up does not write resolv.conf.
	DNS []net.IP
	// Hostname from ip=, else from the DHCP lease. Up does not set it.
	Hostname string
}

// Up brings lo up (with 127.0.0.1/8) and then configures the network as c
// says. Running it again with the same Config is fine: addresses and routes
// that are already there are kept.
func (n *Net) Up(ctx context.Context, c Config) (Result, error) {
	h := n.Handle
	if h == nil {
		h = &netlink.Handle{} // what netlink's package functions use
	}
	if err := n.loopback(h); err != nil {
		return Result{}, err
	}
	switch c.Mode {
	case ModeNone, "":
		return Result{}, nil
	case ModeStatic:
		return n.static(ctx, h, c)
	case ModeDHCP:
		return n.dhcp(ctx, h, c)
	}
	return Result{}, fmt.Errorf("netconf: unknown mode %q", c.Mode)
}

func (n *Net) logf(format string, args ...any) {
	if n.Log != nil {
		n.Log(format, args...)
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// dump retries a netlink dump interrupted by concurrent changes, and
// accepts the (possibly incomplete) result if it keeps being interrupted.
func dump[T any](f func() (T, error)) (T, error) {
	var v T
	var err error
	for range 3 {
		v, err = f()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	return v, nil
}

var loopbackAddr = net.IPNet{IP: net.IPv4(127, 0, 0, 1).To4(), Mask: net.CIDRMask(8, 32)}

func (n *Net) loopback(h *netlink.Handle) error {
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("netconf: lo: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("netconf: lo: set up: %w", err)
	}
	addrs, err := dump(func() ([]netlink.Addr, error) { return h.AddrList(lo, netlink.FAMILY_V4) })
	if err != nil {
		return fmt.Errorf("netconf: lo: list addresses: %w", err)
	}
	for _, a := range addrs {
		if a.IP.Equal(loopbackAddr.IP) {
			return nil
		}
	}
	if err := addAddr(h, lo, loopbackAddr); err != nil {
		return fmt.Errorf("netconf: lo: %w", err)
	}
	return nil
}

// notCandidate are link types that look like Ethernet but are not NICs:
// dummies, ifb0/ifb1 and the fallback tunnels (gretap0, erspan0, ...) that
// appear as soon as their module is loaded.
var notCandidate = map[string]bool{
	"dummy": true, "ifb": true,
	"gretap": true, "ip6gretap": true, "erspan": true, "ip6erspan": true,
}

// candidate reports whether l may be configured when ip= names no device:
// the kernel's rule (ic_is_init_dev) is not loopback, broadcast or
// point-to-point, and not dummy*; fallback tunnels are left out too.
func candidate(l netlink.Link) bool {
	a := l.Attrs()
	return a.Flags&net.FlagLoopback == 0 &&
		a.Flags&(net.FlagBroadcast|net.FlagPointToPoint) != 0 &&
		!strings.HasPrefix(a.Name, "dummy") &&
		!notCandidate[l.Type()]
}

// links returns the link named device, or every candidate link, waiting up
// to LinkWait for one to appear.
func (n *Net) links(ctx context.Context, h *netlink.Handle, device string) ([]netlink.Link, error) {
	wait := orDefault(n.LinkWait, DefaultLinkWait)
	deadline := time.Now().Add(wait)
	what := "network link (other than lo)"
	if device != "" {
		what = fmt.Sprintf("network link %q", device)
	}
	for logged := false; ; logged = true {
		if device != "" {
			l, err := h.LinkByName(device)
			if err == nil {
				return []netlink.Link{l}, nil
			}
			var nf netlink.LinkNotFoundError
			if !errors.As(err, &nf) {
				return nil, fmt.Errorf("netconf: %s: %w", device, err)
			}
		} else {
			all, err := dump(h.LinkList)
			if err != nil {
				return nil, fmt.Errorf("netconf: list links: %w", err)
			}
			var ls []netlink.Link
			for _, l := range all {
				if candidate(l) {
					ls = append(ls, l)
				}
			}
			if len(ls) > 0 {
				return ls, nil
			}
		}
		if !time.Now().Before(deadline) {
			return nil, fmt.Errorf("netconf: no %s appeared within %v", what, wait)
		}
		if !logged {
			n.logf("netconf: waiting up to %v for %s", wait, what)
		}
		if err := sleep(ctx, pollInterval); err != nil {
			return nil, fmt.Errorf("netconf: waiting for %s: %w", what, err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// addAddr adds a to l; an address that is already there is fine.
func addAddr(h *netlink.Handle, l netlink.Link, a net.IPNet) error {
	err := h.AddrAdd(l, &netlink.Addr{IPNet: &a})
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add address %s: %w", a.String(), err)
	}
	return nil
}

// defaultRoute makes gw on l the IPv4 default route (replacing any other).
func defaultRoute(h *netlink.Handle, l netlink.Link, gw net.IP) error {
	r := &netlink.Route{
		LinkIndex: l.Attrs().Index,
		Dst:       &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
		Gw:        gw,
	}
	if err := h.RouteReplace(r); err != nil {
		if errors.Is(err, unix.ENETUNREACH) {
			return fmt.Errorf("add default route via %s: gateway is not in a subnet of the link: %w", gw, err)
		}
		return fmt.Errorf("add default route via %s: %w", gw, err)
	}
	return nil
}

// configure puts addr on l and, if gw is set, a default route via gw.
func configure(h *netlink.Handle, l netlink.Link, addr net.IPNet, gw net.IP) error {
	name := l.Attrs().Name
	if err := addAddr(h, l, addr); err != nil {
		return fmt.Errorf("netconf: %s: %w", name, err)
	}
	if gw != nil {
		if err := defaultRoute(h, l, gw); err != nil {
			return fmt.Errorf("netconf: %s: %w", name, err)
		}
	}
	return nil
}

func (n *Net) static(ctx context.Context, h *netlink.Handle, c Config) (Result, error) {
	ip := c.Client.To4()
	if ip == nil {
		return Result{}, fmt.Errorf("netconf: static configuration without an IPv4 client address (%v)", c.Client)
	}
	ls, err := n.links(ctx, h, c.Device)
	if err != nil {
		return Result{}, err
	}
	l := ls[0]
	name := l.Attrs().Name
	// A static address needs no carrier to be configured, but a link set up
	// during its driver's negotiation gets its carrier late, and what is sent
	// first (a 9P root's TCP SYN) waits for a retransmission: the same wait for
	// the PHY as for DHCP (lateCarrier).
	n.awaitPhys(ctx, ls[:1])
	if err := h.LinkSetUp(l); err != nil {
		return Result{}, fmt.Errorf("netconf: %s: set up: %w", name, err)
	}
	mask := c.Mask
	if mask == nil {
		mask = net.CIDRMask(24, 32)
		n.logf("netconf: ip= gives no netmask for %s, using /24", ip)
	}
	addr := net.IPNet{IP: ip, Mask: mask}
	var gw net.IP
	if c.Gateway != nil {
		gw = c.Gateway.To4()
	}
	if err := configure(h, l, addr, gw); err != nil {
		return Result{}, err
	}
	n.logf("netconf: %s: %s%s (static)", name, addr.String(), via(gw))
	return Result{Link: name, Addr: addr, Gateway: gw, DNS: c.DNS, Hostname: c.Hostname}, nil
}

func via(gw net.IP) string {
	if gw == nil {
		return ""
	}
	return " via " + gw.String()
}

// lowerUp reports whether the link with index i has carrier (IFF_LOWER_UP).
func lowerUp(h *netlink.Handle, i int) bool {
	l, err := h.LinkByIndex(i)
	return err == nil && l.Attrs().RawFlags&unix.IFF_LOWER_UP != 0
}

// hasCarrier reports whether the link with index i has carrier and can
// send. A link that had carrier when it was set up (atUp: virtio-net, whose
// carrier is on from probe) sends at once: the kernel activates its transmit
// queue as it opens it. A carrier that came later activates the queue only
// when the kernel's linkwatch has handled it (until then packets are
// dropped, which would cost a DHCP retransmission), and linkwatch then
// turns the operational state "up"; drivers that do not report an
// operational state leave it "unknown". (Waiting for "up" on virtio-net cost
// 0.84 s: linkwatch runs at most once a second, counted from the device's
// registration.)
func hasCarrier(h *netlink.Handle, i int, atUp bool) bool {
	l, err := h.LinkByIndex(i)
	if err != nil {
		return false
	}
	a := l.Attrs()
	lower := a.RawFlags&unix.IFF_LOWER_UP != 0
	switch {
	case a.OperState == netlink.OperUp:
		return true
	case a.OperState == netlink.OperUnknown, atUp:
		return lower
	}
	return false
}

func (n *Net) dhcp(ctx context.Context, h *netlink.Handle, c Config) (Result, error) {
	if c.Autoconf == "rarp" {
		n.logf("netconf: ip= asks for RARP, using DHCP")
	}
	ls, err := n.links(ctx, h, c.Device)
	if err != nil {
		return Result{}, err
	}
	get := n.DHCP
	if get == nil {
		get = DHCPv4
	}
	timeout := orDefault(n.DHCPTimeout, DefaultDHCPTimeout)
	carrierWait := orDefault(n.CarrierWait, DefaultCarrierWait)

	// Bring every link up first so that their carrier waits overlap (after
	// the PHY's link, for the drivers that would miss it).
	n.awaitPhys(ctx, ls)
	var failed []string
	var up []netlink.Link
	atUp := map[int]bool{}
	for _, l := range ls {
		if err := h.LinkSetUp(l); err != nil {
			failed = append(failed, fmt.Sprintf("%s: set up: %v", l.Attrs().Name, err))
			continue
		}
		up = append(up, l)
		atUp[l.Attrs().Index] = lowerUp(h, l.Attrs().Index)
	}
	carrierDeadline := time.Now().Add(carrierWait)

	for _, l := range up {
		name := l.Attrs().Name
		i := l.Attrs().Index
		waitStart := time.Now()
		waited := false
		for logged := false; !hasCarrier(h, i, atUp[i]); logged = true {
			waited = true
			if !time.Now().Before(carrierDeadline) {
				break
			}
			if !logged {
				n.logf("netconf: %s: waiting for carrier", name)
			}
			if err := sleep(ctx, phyPoll); err != nil {
				return Result{}, fmt.Errorf("netconf: %s: waiting for carrier: %w", name, err)
			}
		}
		if !hasCarrier(h, i, atUp[i]) {
			msg := fmt.Sprintf("%s: no carrier within %v", name, carrierWait)
			n.logf("netconf: %s", msg)
			failed = append(failed, msg)
			continue
		}

		if waited {
			n.logf("netconf: %s: carrier after %d ms", name, time.Since(waitStart).Milliseconds())
		}
		n.logf("netconf: %s: DHCP (timeout %v)", name, timeout)
		dhcpStart := time.Now()
		lease, err := get(ctx, name, timeout)
		if err == nil {
			err = checkLease(&lease)
		}
		if err != nil {
			if ctx.Err() != nil {
				return Result{}, fmt.Errorf("netconf: %s: DHCP: %w", name, err)
			}
			msg := fmt.Sprintf("%s: DHCP: %v", name, err)
			n.logf("netconf: %s", msg)
			failed = append(failed, msg)
			continue
		}
		if lease.IP.Mask == nil {
			lease.IP.Mask = net.CIDRMask(24, 32)
			n.logf("netconf: %s: DHCP lease has no netmask for %s, using /24", name, lease.IP.IP)
		}
		if err := configure(h, l, lease.IP, lease.Gateway); err != nil {
			return Result{}, err
		}
		n.logf("netconf: %s: %s%s (DHCP, %d ms)", name, lease.IP.String(), via(lease.Gateway), time.Since(dhcpStart).Milliseconds())
		res := Result{
			Link:     name,
			Addr:     lease.IP,
			Gateway:  lease.Gateway,
			DNS:      mergeDNS(c.DNS, lease.DNS),
			Hostname: c.Hostname,
		}
		if res.Hostname == "" {
			res.Hostname = lease.Hostname
		}
		return res, nil
	}

	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.Attrs().Name
	}
	return Result{}, fmt.Errorf("netconf: DHCP on %s: no lease (%s)",
		strings.Join(names, ", "), strings.Join(failed, "; "))
}

// checkLease normalizes the addresses of a lease to 4 bytes.
func checkLease(l *Lease) error {
	ip := l.IP.IP.To4()
	if ip == nil {
		return fmt.Errorf("lease has no IPv4 address (%v)", l.IP.IP)
	}
	l.IP.IP = ip
	if l.IP.Mask != nil {
		if _, bits := l.IP.Mask.Size(); bits != 32 {
			return fmt.Errorf("lease has a bad netmask %v", l.IP.Mask)
		}
	}
	if l.Gateway != nil {
		gw := l.Gateway.To4()
		if gw == nil {
			return fmt.Errorf("lease has a non-IPv4 router %v", l.Gateway)
		}
		l.Gateway = gw
	}
	return nil
}

// mergeDNS returns a followed by the addresses of b not in a.
func mergeDNS(a, b []net.IP) []net.IP {
	out := append([]net.IP(nil), a...)
next:
	for _, ip := range b {
		for _, have := range out {
			if have.Equal(ip) {
				continue next
			}
		}
		out = append(out, ip)
	}
	return out
}
