package netconf

import (
	"context"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// DefaultPhysWait bounds the wait for a late-carrier driver's PHY to report
// its link before the link is set up (see lateCarrier).
const DefaultPhysWait = time.Second

// phyPoll is how often the PHY's link and the carrier are looked at: an MII
// or netlink query costs microseconds, a late look costs the boot.
const phyPoll = 10 * time.Millisecond

// lateCarrier are the drivers that miss the end of a link negotiation under
// way when the link is set up, and so report the carrier late: e1000 (QEMU's
// default NIC, and VirtualBox's and VMware's) checks the link from a
// watchdog that, once the link is up, runs every 2 s, and the interrupt at
// the end of the negotiation is lost while that watchdog is pending. Its
// reset at probe starts the negotiation (500 ms in QEMU), so a link set up
// sooner after the driver loaded got its carrier 2 s late (measured: 2.1 s
// after set up, against 0 when set up after the negotiation). The PHY itself
// answers the MII ioctls while the link is down, so netconf waits for that
// (at most PhysWait) and sets the link up then.
var lateCarrier = map[string]bool{"e1000": true}

// driverOf returns the name of the kernel driver bound to link's device
// ("" for a virtual link or when sysfs has no answer).
func driverOf(link string) string {
	p, err := os.Readlink(filepath.Join("/sys/class/net", link, "device/driver"))
	if err != nil {
		return ""
	}
	return filepath.Base(p)
}

// ifreqMII is struct ifreq with struct mii_ioctl_data in its union, padded
// to the kernel's 40 bytes.
type ifreqMII struct {
	name                         [unix.IFNAMSIZ]byte
	phyID, regNum, valIn, valOut uint16
	_                            [16]byte
}

// miiBMSR and its link bit (IEEE 802.3 clause 22).
const (
	miiBMSR     = 1
	miiBMSRLink = 0x0004
)

// physLink reads the PHY's link from its status register through the MII
// ioctls (SIOCGMIIPHY, then SIOCGMIIREG twice: the bit latches low), as
// mii-tool does. Unlike ETHTOOL_GLINK, which the kernel answers "no" for
// any link that is down, they reach e1000's PHY while the link is down. A
// few lines of ioctl, so no library for them (x/sys/unix has the numbers).
func physLink(link string) (bool, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	ifr := &ifreqMII{}
	copy(ifr.name[:unix.IFNAMSIZ-1], link)
	ioctl := func(req uintptr) error {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(unsafe.Pointer(ifr)))
		if errno != 0 {
			return errno
		}
		return nil
	}
	if err := ioctl(unix.SIOCGMIIPHY); err != nil {
		return false, err
	}
	ifr.regNum = miiBMSR
	for range 2 {
		if err := ioctl(unix.SIOCGMIIREG); err != nil {
			return false, err
		}
	}
	return ifr.valOut&miiBMSRLink != 0, nil
}

// awaitPhys waits, for the links among ls that are down and driven by a
// lateCarrier driver, until their PHY reports the link or PhysWait has
// passed, so that setting them up does not miss the end of the
// negotiation. Other links are not waited for. A failing query ends the
// wait for that link: setting it up is never held back by an error.
func (n *Net) awaitPhys(ctx context.Context, ls []netlink.Link) {
	driver := n.Driver
	if driver == nil {
		driver = driverOf
	}
	phys := n.PhysLink
	if phys == nil {
		phys = physLink
	}
	var wait []string
	for _, l := range ls {
		a := l.Attrs()
		if a.RawFlags&unix.IFF_UP == 0 && lateCarrier[driver(a.Name)] {
			wait = append(wait, a.Name)
		}
	}
	if len(wait) == 0 {
		return
	}
	start := time.Now()
	limit := orDefault(n.PhysWait, DefaultPhysWait)
	for len(wait) > 0 {
		var still []string
		for _, name := range wait {
			ok, err := phys(name)
			switch {
			case err != nil:
				n.logf("netconf: %s: asking the PHY for its link: %v; setting it up now", name, err)
			case ok:
				n.logf("netconf: %s: its PHY has the link (after %d ms); setting it up", name, time.Since(start).Milliseconds())
			default:
				still = append(still, name)
			}
		}
		wait = still
		if len(wait) == 0 {
			return
		}
		if time.Since(start) >= limit {
			for _, name := range wait {
				n.logf("netconf: %s: no link from the PHY within %v; setting it up anyway", name, limit)
			}
			return
		}
		if sleep(ctx, phyPoll) != nil {
			return
		}
	}
}
