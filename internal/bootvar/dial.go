package bootvar

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// DefaultPort is the 9P port, used when a dial string names none.
const DefaultPort = 564

// Dial is a parsed venti address: where the network root fileserver listens.
type Dial struct {
	Net  string // always "tcp" for now
	Host string
	Port int
}

// String gives the address as a Plan 9 dial string, tcp!host!port.
func (d Dial) String() string { return fmt.Sprintf("%s!%s!%d", d.Net, d.Host, d.Port) }

// Addr gives the address in Go's host:port form.
func (d Dial) Addr() string { return net.JoinHostPort(d.Host, strconv.Itoa(d.Port)) }

// Plan 9 service names a venti dial string may use instead of a port number.
var services = map[string]int{"9fs": 564, "9p": 564, "venti": 17034, "nfs": 2049}

// ParseDials parses a comma-separated list of venti addresses (one is a list too).
func ParseDials(s string) ([]Dial, error) {
	var ds []Dial
	for i, one := range strings.Split(s, ",") {
		d, err := ParseDial(one)
		if err != nil {
			if strings.Contains(s, ",") {
				return nil, fmt.Errorf("server %d of the list %q: %v", i+1, s, err)
			}
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// ParseDial parses a venti address: a Plan 9 dial string (tcp!host!port, tcp!host,
// net!host!9fs) or host:port, [v6addr]:port, or a bare host. The port defaults to 564.
// Errors say what is wrong in words a person at the console can act on.
func ParseDial(s string) (Dial, error) {
	d := Dial{Net: "tcp", Port: DefaultPort}
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return d, fmt.Errorf("empty address %q; give tcp!HOST!PORT or HOST:PORT", orig)
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return d, fmt.Errorf("%q has spaces in it; give tcp!HOST!PORT or HOST:PORT", orig)
	}
	var host, port string
	if strings.Contains(s, "!") {
		parts := strings.Split(s, "!")
		switch len(parts) {
		case 2:
			host = parts[1]
		case 3:
			host, port = parts[1], parts[2]
			if port == "" {
				return d, fmt.Errorf("%q has an empty port after the last '!'", orig)
			}
		default:
			return d, fmt.Errorf("%q has %d '!'-separated parts; want tcp!HOST!PORT", orig, len(parts))
		}
		switch parts[0] {
		case "tcp", "net":
		case "":
			return d, fmt.Errorf("%q names no network before '!'; write tcp!HOST!PORT", orig)
		default:
			return d, fmt.Errorf("%q: network %q is not supported; use tcp", orig, parts[0])
		}
	} else if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return d, fmt.Errorf("%q: '[' without ']' around an IPv6 address", orig)
		}
		host, rest := s[1:end], s[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") || len(rest) == 1 {
				return d, fmt.Errorf("%q: after ']' want :PORT", orig)
			}
			port = rest[1:]
		}
		if net.ParseIP(host) == nil {
			return d, fmt.Errorf("%q: %q is not an IPv6 address", orig, host)
		}
		d.Host = host
		return d, d.setPort(orig, port)
	} else if strings.Count(s, ":") == 1 {
		host, port, _ = strings.Cut(s, ":")
		if port == "" {
			return d, fmt.Errorf("%q has an empty port after ':'", orig)
		}
	} else if strings.Count(s, ":") > 1 {
		if net.ParseIP(s) == nil {
			return d, fmt.Errorf("%q: too many ':'; write an IPv6 address as [ADDR]:PORT", orig)
		}
		host = s
	} else {
		host = s
	}
	if err := checkHost(host); err != nil {
		return d, fmt.Errorf("%q: %v", orig, err)
	}
	d.Host = host
	return d, d.setPort(orig, port)
}

func (d *Dial) setPort(orig, port string) error {
	if port == "" {
		return nil
	}
	if p, ok := services[port]; ok {
		d.Port = p
		return nil
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("%q: port %q is not a number", orig, port)
	}
	if p < 1 || p > 65535 {
		return fmt.Errorf("%q: port %d is out of range 1-65535", orig, p)
	}
	d.Port = p
	return nil
}

// checkHost accepts IP addresses and DNS-style host names.
func checkHost(h string) error {
	if h == "" {
		return fmt.Errorf("no host")
	}
	if net.ParseIP(h) != nil {
		return nil
	}
	if len(h) > 253 {
		return fmt.Errorf("host name is longer than 253 characters")
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" {
			return fmt.Errorf("host %q has an empty label", h)
		}
		for _, c := range label {
			ok := c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
			if !ok {
				return fmt.Errorf("host %q has the character %q", h, c)
			}
		}
	}
	return nil
}
