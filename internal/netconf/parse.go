// Package netconf configures the network from the kernel's ip= parameter,
// as described in the kernel's Documentation/admin-guide/nfs/nfsroot.rst:
//
//	ip=<client-ip>:<server-ip>:<gw-ip>:<netmask>:<hostname>:<device>:<autoconf>:<dns0-ip>:<dns1-ip>:<ntp0-ip>
//
// or one of the short forms ip=off, ip=none, ip=dhcp, ip=on, ip=any,
// ip=both, ip=bootp, ip=rarp.
//
// Parse turns the value into a Config; Net.Up applies it with netlink
// (static address or DHCPv4) and returns what it did. Writing
// /etc/resolv.conf or setting the hostname is left to the caller.
package netconf

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Modes of a Config.
const (
	ModeNone   = "none"   // no network configuration (only lo is brought up)
	ModeDHCP   = "dhcp"   // DHCPv4 on Device, or on every candidate link
	ModeStatic = "static" // Client/Mask on Device or the first link, Gateway as default route
)

// Field names of ip=, as in nfsroot.rst, used in error messages.
var fieldNames = [...]string{
	"client-ip", "server-ip", "gw-ip", "netmask", "hostname",
	"device", "autoconf", "dns0-ip", "dns1-ip", "ntp0-ip",
}

const (
	maxHostname = 64 // __NEW_UTS_LEN
	maxDevice   = 15 // IFNAMSIZ - 1
)

// Config is a parsed ip= value.
type Config struct {
	// Mode is ModeNone, ModeDHCP or ModeStatic.
	Mode string

	// Client is this machine's address (static mode); Server is the
	// NFS/boot server (parsed for completeness, not used by Up); Gateway
	// becomes the default route. Nil when the field is empty or 0.0.0.0.
	Client, Server, Gateway net.IP
	// Mask is the client's netmask; nil when not given (Up then uses /24).
	Mask net.IPMask
	// Hostname and Device (network interface name) as given, or "".
	Hostname, Device string
	// Autoconf is the lower-cased autoconf field (or the whole short form,
	// e.g. "dhcp" for ip=dhcp): "off"/"none" mean static, "on", "any",
	// "dhcp", "both", "bootp" and "rarp" mean DHCP. "" when not given: then
	// the mode is static if Client is set and DHCP otherwise.
	Autoconf string
	// DNS holds the dns0-ip and dns1-ip fields that were given.
	DNS []net.IP
	// NTP is the ntp0-ip field (10th field of newer kernels), or nil.
	NTP net.IP
}

// Parse parses the value of the ip= kernel parameter.
//
// "", "off" and "none" mean no configuration; "dhcp", "on", "any", "both",
// "bootp" and "rarp" mean DHCP on every link; anything else is the
// colon-separated long form, where every field may be empty and trailing
// fields may be left out. The netmask may be dotted ("255.255.255.0") or a
// prefix length ("24" or "/24"). Errors name the field and its value.
func Parse(s string) (Config, error) {
	switch v := strings.ToLower(s); v {
	case "", "off", "none":
		return Config{Mode: ModeNone, Autoconf: v}, nil
	case "dhcp", "on", "any", "both", "bootp", "rarp":
		return Config{Mode: ModeDHCP, Autoconf: v}, nil
	}

	fields := strings.Split(s, ":")
	if len(fields) > len(fieldNames) {
		return Config{}, fmt.Errorf("ip=: too many fields in %q: %d, at most %d (%s)",
			s, len(fields), len(fieldNames), strings.Join(fieldNames[:], ":"))
	}
	field := func(i int) string {
		if i < len(fields) {
			return fields[i]
		}
		return ""
	}

	var c Config
	var err error
	if c.Client, err = parseIP(0, field(0)); err != nil {
		return Config{}, err
	}
	if c.Server, err = parseIP(1, field(1)); err != nil {
		return Config{}, err
	}
	if c.Gateway, err = parseIP(2, field(2)); err != nil {
		return Config{}, err
	}
	if c.Mask, err = parseMask(field(3)); err != nil {
		return Config{}, err
	}
	c.Hostname = field(4)
	if len(c.Hostname) > maxHostname {
		return Config{}, fmt.Errorf("ip=: hostname %q is longer than %d bytes", c.Hostname, maxHostname)
	}
	c.Device = field(5)
	if len(c.Device) > maxDevice || strings.ContainsAny(c.Device, "/ \t\n") {
		return Config{}, fmt.Errorf("ip=: device %q is not a network interface name", c.Device)
	}
	for i := 7; i <= 8; i++ {
		ip, err := parseIP(i, field(i))
		if err != nil {
			return Config{}, err
		}
		if ip != nil {
			c.DNS = append(c.DNS, ip)
		}
	}
	if c.NTP, err = parseIP(9, field(9)); err != nil {
		return Config{}, err
	}

	c.Autoconf = strings.ToLower(field(6))
	switch c.Autoconf {
	case "off", "none":
		c.Mode = ModeStatic
	case "on", "any", "dhcp", "both", "bootp", "rarp":
		c.Mode = ModeDHCP
	case "":
		// nfsroot.rst: autoconf defaults to "any", but the kernel only
		// autoconfigures when it has no address of its own.
		if c.Client != nil {
			c.Mode = ModeStatic
		} else {
			c.Mode = ModeDHCP
		}
	default:
		return Config{}, fmt.Errorf("ip=: autoconf %q is not one of off, none, on, any, dhcp, both, bootp, rarp", field(6))
	}
	if c.Mode == ModeStatic && c.Client == nil {
		return Config{}, fmt.Errorf("ip=: client-ip is empty but autoconf is %q: a static configuration needs an address", c.Autoconf)
	}
	return c, nil
}

// parseIP parses field i as an IPv4 address. "" and "0.0.0.0" give nil,
// as in the kernel ("0.0.0.0 addresses from command line ignored").
func parseIP(i int, v string) (net.IP, error) {
	if v == "" {
		return nil, nil
	}
	ip := net.ParseIP(v).To4()
	if ip == nil {
		return nil, fmt.Errorf("ip=: %s %q is not an IPv4 address", fieldNames[i], v)
	}
	if ip.Equal(net.IPv4zero) {
		return nil, nil
	}
	return ip, nil
}

// parseMask parses a dotted netmask or a prefix length ("24" or "/24").
func parseMask(v string) (net.IPMask, error) {
	if v == "" {
		return nil, nil
	}
	if p, ok := strings.CutPrefix(v, "/"); ok || !strings.Contains(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 32 || p == "" || p[0] == '+' || p[0] == '-' {
			return nil, fmt.Errorf("ip=: netmask %q is not a prefix length 0-32 or a dotted netmask", v)
		}
		return net.CIDRMask(n, 32), nil
	}
	ip := net.ParseIP(v).To4()
	if ip == nil {
		return nil, fmt.Errorf("ip=: netmask %q is not a netmask", v)
	}
	m := net.IPMask(ip)
	if _, bits := m.Size(); bits == 0 {
		return nil, fmt.Errorf("ip=: netmask %q is not a netmask", v)
	}
	return m, nil
}
