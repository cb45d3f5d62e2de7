package netconf

// Host tests: they configure real links, so they only run as root, and
// only inside network namespaces created here, never in the host's.
//
// Isolation: newNS locks the test goroutine to its OS thread and moves that
// thread into a fresh network namespace (ns1, "the machine being booted");
// a second fresh namespace (ns2) holds the veth peers ("the LAN") and the
// DHCP server. The thread is never unlocked, so even if restoring the
// original namespace failed, Go discards the thread when the test goroutine
// ends. All netlink calls of the code under test go through Net.Handle,
// which is bound to ns1 whatever thread runs it; the default DHCP client
// opens its sockets on the locked thread, i.e. in ns1. The tests use no
// subtests (a subtest runs on another goroutine, possibly on a thread in
// the host's namespace). Only 10.99.0.0/24 is used.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

type testNS struct {
	t        *testing.T
	ns1, ns2 netns.NsHandle  // client side (current thread), peer side
	h1, h2   *netlink.Handle // netlink bound to ns1, ns2
}

func newNS(t *testing.T) *testNS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("host test: needs root to create network namespaces and veth links")
	}
	// Never unlocked: the thread changes namespace and must die with
	// this goroutine rather than go back to the scheduler.
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Skipf("host test: cannot open the current network namespace: %v", err)
	}
	t.Cleanup(func() {
		if err := netns.Set(orig); err != nil {
			t.Errorf("restoring the original network namespace: %v (thread is discarded)", err)
		}
		orig.Close()
	})
	tn := &testNS{t: t}
	if tn.ns2, err = netns.New(); err != nil {
		t.Skipf("host test: cannot create a network namespace (unshare(CLONE_NEWNET)): %v", err)
	}
	t.Cleanup(func() { tn.ns2.Close() })
	if tn.ns1, err = netns.New(); err != nil {
		t.Skipf("host test: cannot create a network namespace (unshare(CLONE_NEWNET)): %v", err)
	}
	t.Cleanup(func() { tn.ns1.Close() })

	// Paranoia: this thread must not be in the host namespace any more.
	cur, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	if !cur.Equal(tn.ns1) || cur.Equal(orig) || tn.ns2.Equal(orig) {
		t.Fatalf("not in a fresh network namespace (current %v, ns1 %v, ns2 %v, host %v)", cur, tn.ns1, tn.ns2, orig)
	}

	if tn.h1, err = netlink.NewHandleAt(tn.ns1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tn.h1.Close)
	if tn.h2, err = netlink.NewHandleAt(tn.ns2); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tn.h2.Close)
	return tn
}

// veth creates link name in ns1 with its peer in ns2. If peerAddr is set,
// the peer gets it and is brought up (giving name carrier).
func (tn *testNS) veth(name, peer, peerAddr string) {
	tn.t.Helper()
	err := tn.h1.LinkAdd(&netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: name},
		PeerName:      peer,
		PeerNamespace: netlink.NsFd(tn.ns2),
	})
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOTSUP) {
		tn.t.Skipf("host test: veth links not available: %v", err)
	}
	if err != nil {
		tn.t.Fatalf("creating veth %s/%s: %v", name, peer, err)
	}
	if peerAddr == "" {
		return
	}
	p, err := tn.h2.LinkByName(peer)
	if err != nil {
		tn.t.Fatal(err)
	}
	a, err := netlink.ParseAddr(peerAddr)
	if err != nil {
		tn.t.Fatal(err)
	}
	if err := tn.h2.AddrAdd(p, a); err != nil {
		tn.t.Fatal(err)
	}
	if err := tn.h2.LinkSetUp(p); err != nil {
		tn.t.Fatal(err)
	}
}

func (tn *testNS) link(name string) netlink.Link {
	tn.t.Helper()
	l, err := tn.h1.LinkByName(name)
	if err != nil {
		tn.t.Fatal(err)
	}
	return l
}

func (tn *testNS) isUp(name string) bool {
	return tn.link(name).Attrs().Flags&net.FlagUp != 0
}

// addrs lists the IPv4 addresses of name in ns1.
func (tn *testNS) addrs(name string) []string {
	tn.t.Helper()
	as, err := tn.h1.AddrList(tn.link(name), netlink.FAMILY_V4)
	if err != nil {
		tn.t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		out = append(out, a.IPNet.String())
	}
	return out
}

// defaultRoutes lists the IPv4 default routes of ns1 as "gw dev".
func (tn *testNS) defaultRoutes() []string {
	tn.t.Helper()
	rs, err := tn.h1.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		tn.t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones != 0 {
				continue
			}
		}
		dev := "?"
		if l, err := tn.h1.LinkByIndex(r.LinkIndex); err == nil {
			dev = l.Attrs().Name
		}
		out = append(out, fmt.Sprintf("%v %s", r.Gw, dev))
	}
	return out
}

func (tn *testNS) checkLoopback() {
	tn.t.Helper()
	if !tn.isUp("lo") {
		tn.t.Errorf("lo is not up")
	}
	if got := tn.addrs("lo"); !slices.Contains(got, "127.0.0.1/8") {
		tn.t.Errorf("lo addresses = %v, want 127.0.0.1/8", got)
	}
}

// checkConfigured checks a run of TestHostStatic or TestHostDHCP: its Result (nc0,
// 10.99.0.15/24 through 10.99.0.1, that DNS server, the hostname), and what it
// leaves: lo up, nc0 up with that address, the default route through 10.99.0.1.
func (tn *testNS) checkConfigured(run int, res Result, hostname string) {
	tn.t.Helper()
	want := Result{
		Link:     "nc0",
		Addr:     net.IPNet{IP: ip("10.99.0.15"), Mask: mask(24)},
		Gateway:  ip("10.99.0.1"),
		DNS:      []net.IP{ip("10.99.0.1")},
		Hostname: hostname,
	}
	if fmt.Sprint(res) != fmt.Sprint(want) {
		tn.t.Errorf("run %d: Result = %+v, want %+v", run, res, want)
	}
	tn.checkLoopback()
	if !tn.isUp("nc0") {
		tn.t.Errorf("run %d: nc0 is not up", run)
	}
	if got := tn.addrs("nc0"); !slices.Equal(got, []string{"10.99.0.15/24"}) {
		tn.t.Errorf("run %d: nc0 addresses = %v, want [10.99.0.15/24]", run, got)
	}
	if got := tn.defaultRoutes(); !slices.Equal(got, []string{"10.99.0.1 nc0"}) {
		tn.t.Errorf("run %d: default routes = %v, want [10.99.0.1 nc0]", run, got)
	}
}

type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func (tn *testNS) net(log *logBuf) *Net {
	return &Net{
		Handle: tn.h1,
		Log:    log.logf,
		DHCP: func(context.Context, string, time.Duration) (Lease, error) {
			tn.t.Error("DHCP called")
			return Lease{}, errors.New("no DHCP in this test")
		},
	}
}

func TestHostNone(t *testing.T) {
	tn := newNS(t)
	tn.veth("nc0", "nc1", "10.99.0.1/24")
	if tn.isUp("lo") {
		t.Fatal("lo is up in a fresh namespace")
	}
	var log logBuf
	c, err := Parse("off")
	if err != nil {
		t.Fatal(err)
	}
	res, err := tn.net(&log).Up(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Link != "" {
		t.Errorf("Result = %+v, want nothing configured", res)
	}
	tn.checkLoopback()
	if tn.isUp("nc0") {
		t.Errorf("ip=off brought nc0 up")
	}
	if got := tn.defaultRoutes(); len(got) != 0 {
		t.Errorf("default routes = %v, want none", got)
	}
}

func TestHostStatic(t *testing.T) {
	tn := newNS(t)
	tn.veth("nc0", "nc1", "")
	var log logBuf
	n := tn.net(&log)
	// No device: the first (only) non-loopback link.
	c, err := Parse("10.99.0.15::10.99.0.1:255.255.255.0:ants::off:10.99.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		res, err := n.Up(context.Background(), c)
		if err != nil {
			t.Fatalf("run %d: %v\nlog:\n%s", run, err, &log)
		}
		tn.checkConfigured(run, res, "ants")
	}
	t.Logf("log:\n%s", &log)
}

func TestHostStaticWaitsForLink(t *testing.T) {
	tn := newNS(t)
	var log logBuf
	n := tn.net(&log)
	// The driver is still loading: the link appears after a while.
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(300 * time.Millisecond)
		// h1 is bound to ns1 whatever thread this goroutine runs on.
		err := tn.h1.LinkAdd(&netlink.Veth{
			LinkAttrs:     netlink.LinkAttrs{Name: "nc5"},
			PeerName:      "nc6",
			PeerNamespace: netlink.NsFd(tn.ns2),
		})
		if err != nil {
			t.Errorf("creating veth late: %v", err)
		}
	}()
	c, err := Parse("10.99.0.15:::::nc5:off") // no netmask: /24
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := n.Up(context.Background(), c)
	<-done
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, &log)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("Up returned after %v, before the link existed", d)
	}
	if res.Link != "nc5" || res.Addr.String() != "10.99.0.15/24" || res.Gateway != nil {
		t.Errorf("Result = %+v, want nc5 10.99.0.15/24 without gateway", res)
	}
	if got := tn.addrs("nc5"); !slices.Equal(got, []string{"10.99.0.15/24"}) {
		t.Errorf("nc5 addresses = %v, want [10.99.0.15/24]", got)
	}
	if got := tn.defaultRoutes(); len(got) != 0 {
		t.Errorf("default routes = %v, want none", got)
	}
	for _, want := range []string{"waiting up to 10s for network link \"nc5\"", "using /24"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log does not say %q:\n%s", want, &log)
		}
	}
}

func TestHostStaticNoLink(t *testing.T) {
	tn := newNS(t)
	var log logBuf
	n := tn.net(&log)
	n.LinkWait = 300 * time.Millisecond
	c, err := Parse("10.99.0.15:::24::nc7:off")
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Up(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), `no network link "nc7" appeared within 300ms`) {
		t.Errorf("Up error = %v, want no network link \"nc7\"", err)
	}
	// Without a device and with only lo there is nothing either.
	c.Device = ""
	_, err = n.Up(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "no network link (other than lo) appeared within 300ms") {
		t.Errorf("Up error = %v, want no network link (other than lo)", err)
	}
	tn.checkLoopback()
}

func TestHostStaticGatewayOffLink(t *testing.T) {
	tn := newNS(t)
	tn.veth("nc0", "nc1", "")
	var log logBuf
	c, err := Parse("10.99.0.15::10.99.1.1:24::nc0:off")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tn.net(&log).Up(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "nc0: add default route via 10.99.1.1") {
		t.Errorf("Up error = %v, want a default route error naming nc0", err)
	}
}

// serveDHCP runs a DHCPv4 server on peer (in ns2) that offers 10.99.0.15/24
// with router and DNS 10.99.0.1. It returns a counter of ACKs sent.
func (tn *testNS) serveDHCP(peer string) *atomic.Int32 {
	t := tn.t
	t.Helper()
	var acks atomic.Int32
	server := ip("10.99.0.1")
	handler := func(conn net.PacketConn, peer net.Addr, m *dhcpv4.DHCPv4) {
		var mt dhcpv4.MessageType
		switch m.MessageType() {
		case dhcpv4.MessageTypeDiscover:
			mt = dhcpv4.MessageTypeOffer
		case dhcpv4.MessageTypeRequest:
			mt = dhcpv4.MessageTypeAck
		default:
			return
		}
		resp, err := dhcpv4.NewReplyFromRequest(m,
			dhcpv4.WithMessageType(mt),
			dhcpv4.WithServerIP(server),
			dhcpv4.WithYourIP(ip("10.99.0.15")),
			dhcpv4.WithNetmask(mask(24)),
			dhcpv4.WithRouter(server),
			dhcpv4.WithDNS(server),
			dhcpv4.WithLeaseTime(3600),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(server)),
			dhcpv4.WithOption(dhcpv4.OptHostName("ants-dhcp")),
		)
		if err != nil {
			t.Errorf("DHCP server: %v", err)
			return
		}
		if _, err := conn.WriteTo(resp.ToBytes(), peer); err != nil {
			t.Errorf("DHCP server: sending %v to %v: %v", mt, peer, err)
			return
		}
		if mt == dhcpv4.MessageTypeAck {
			acks.Add(1)
		}
	}
	// The server's socket must be created inside ns2; it stays there.
	if err := netns.Set(tn.ns2); err != nil {
		t.Fatal(err)
	}
	srv, err := server4.NewServer(peer, &net.UDPAddr{IP: net.IPv4zero, Port: dhcpv4.ServerPort}, handler)
	if err2 := netns.Set(tn.ns1); err2 != nil {
		t.Fatalf("back to ns1: %v", err2)
	}
	if err != nil {
		t.Fatalf("DHCP server: %v", err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve()
	}()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})
	return &acks
}

func TestHostDHCP(t *testing.T) {
	tn := newNS(t)
	tn.veth("nc0", "nc1", "10.99.0.1/24")
	acks := tn.serveDHCP("nc1")
	var log logBuf
	// The real DHCPv4 client, on the locked thread in ns1. Now and then a
	// run takes 1 s: the peer's first OFFER is dropped on nc1 (its tx_dropped
	// counter goes up) because nc1 got carrier only when Up brought nc0 up,
	// and the client retransmits after dhcpFirstTry (250 ms).
	n := &Net{Handle: tn.h1, Log: log.logf}
	c, err := Parse("dhcp")
	if err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := n.Up(ctx, c)
		cancel()
		if err != nil {
			t.Fatalf("run %d: %v\nlog:\n%s", run, err, &log)
		}
		if got := acks.Load(); got != int32(run) {
			t.Errorf("run %d: server sent %d ACKs", run, got)
		}
		tn.checkConfigured(run, res, "ants-dhcp")
	}
	t.Logf("log:\n%s", &log)
}

func TestHostDHCPNoServer(t *testing.T) {
	tn := newNS(t)
	tn.veth("nc0", "nc1", "10.99.0.1/24") // carrier, but nobody answers
	var log logBuf
	n := &Net{Handle: tn.h1, Log: log.logf, DHCPTimeout: 1500 * time.Millisecond}
	c, err := Parse(":::::nc0:dhcp")
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Up(context.Background(), c)
	if err == nil {
		t.Fatal("Up succeeded without a DHCP server")
	}
	for _, want := range []string{"DHCP on nc0: no lease", "nc0: DHCP: no answer from a DHCP server within 1.5s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Up error = %v\nwant it to contain %q", err, want)
		}
	}
	if got := tn.addrs("nc0"); len(got) != 0 {
		t.Errorf("nc0 addresses = %v, want none", got)
	}
}

// TestHostDHCPFake checks link selection with a fake DHCP client: the first
// link that gets a lease wins, links without carrier are skipped, and the
// error names every link and what happened on it.
func TestHostDHCPFake(t *testing.T) {
	tn := newNS(t)
	tn.veth("nc0", "nc1", "10.99.0.1/24") // carrier, DHCP fails
	tn.veth("nc2", "nc3", "")             // no carrier (peer down)
	tn.veth("nc4", "nc5", "10.99.0.2/24") // carrier, DHCP works
	var log logBuf
	var tried []string
	n := &Net{
		Handle:      tn.h1,
		Log:         log.logf,
		CarrierWait: 300 * time.Millisecond,
		DHCPTimeout: 7 * time.Second,
		DHCP: func(ctx context.Context, link string, timeout time.Duration) (Lease, error) {
			tried = append(tried, link)
			if timeout != 7*time.Second {
				t.Errorf("DHCP timeout = %v, want 7s", timeout)
			}
			if link != "nc4" {
				return Lease{}, errors.New("no offer")
			}
			return Lease{
				IP:      net.IPNet{IP: net.ParseIP("10.99.0.25"), Mask: mask(24)},
				Gateway: net.ParseIP("10.99.0.2"),
				DNS:     []net.IP{ip("10.99.0.1"), ip("10.99.0.2")},
			}, nil
		},
	}
	c, err := Parse("::::box::dhcp:10.99.0.1")
	if err != nil {
		t.Fatal(err)
	}
	res, err := n.Up(context.Background(), c)
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, &log)
	}
	if !slices.Equal(tried, []string{"nc0", "nc4"}) {
		t.Errorf("DHCP tried on %v, want [nc0 nc4]", tried)
	}
	want := Result{
		Link:     "nc4",
		Addr:     net.IPNet{IP: ip("10.99.0.25"), Mask: mask(24)},
		Gateway:  ip("10.99.0.2"),
		DNS:      []net.IP{ip("10.99.0.1"), ip("10.99.0.2")},
		Hostname: "box",
	}
	if fmt.Sprint(res) != fmt.Sprint(want) {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
	if got := tn.addrs("nc4"); !slices.Equal(got, []string{"10.99.0.25/24"}) {
		t.Errorf("nc4 addresses = %v", got)
	}
	if got := tn.addrs("nc0"); len(got) != 0 {
		t.Errorf("nc0 addresses = %v, want none", got)
	}
	if got := tn.defaultRoutes(); !slices.Equal(got, []string{"10.99.0.2 nc4"}) {
		t.Errorf("default routes = %v, want [10.99.0.2 nc4]", got)
	}
	if !strings.Contains(log.String(), "nc2: no carrier within 300ms") {
		t.Errorf("log does not mention nc2 without carrier:\n%s", &log)
	}

	// Now every link fails.
	tried = nil
	n.DHCP = func(ctx context.Context, link string, timeout time.Duration) (Lease, error) {
		tried = append(tried, link)
		return Lease{}, errors.New("no offer")
	}
	_, err = n.Up(context.Background(), c)
	wantErr := "netconf: DHCP on nc0, nc2, nc4: no lease (nc0: DHCP: no offer; nc2: no carrier within 300ms; nc4: DHCP: no offer)"
	if err == nil || err.Error() != wantErr {
		t.Errorf("Up error = %v\nwant %s", err, wantErr)
	}
}
