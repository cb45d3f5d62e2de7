package qvm

import (
	"errors"
	"fmt"
	"strings"
)

// Device is something attached to a VM: it gives the QEMU arguments that attach it.
type Device interface {
	QEMUArgs() ([]string, error)
}

// Disk is a raw disk image attached as virtio (made by qemu/mkdisk.sh: MakeDisk),
// with the identifiers mkdisk.sh printed.
type Disk struct {
	Path                  string
	UUID, Label, PartUUID string
	Partitioned           bool
}

// QEMUArgs attach the disk as a virtio block device.
func (d Disk) QEMUArgs() ([]string, error) {
	if d.Path == "" {
		return nil, errors.New("qvm: a disk without a path")
	}
	return []string{"-drive", "file=" + optEscape(d.Path) + ",if=virtio,format=raw"}, nil
}

// NIC is QEMU's user network (SLIRP): the guest is 10.0.2.15, with DHCP and the
// gateway 10.0.2.2. Restrict closes it to everything but the forwards.
type NIC struct {
	Model     string // the device: QEMU's default (e1000) when empty
	Restrict  bool   // restrict=on: no way out but the forwards
	Hostname  string // the host name DHCP gives the guest
	TFTP      string // a directory served read-only by TFTP
	BootFile  string // DHCP's boot file name (for PXE)
	GuestFwds []GuestFwd
	HostFwds  []HostFwd
}

// GuestFwd connects the guest's Addr:Port (TCP) to a command QEMU runs once per
// connection, with the connection on its stdin and stdout. A relay (Relay) to a
// long-running server on host loopback is the usual command: a server that dies
// then leaves no stale socket in QEMU, as a tcp: target would.
type GuestFwd struct {
	Addr string // a guest-side address in 10.0.2.0/24, as 10.0.2.100
	Port int
	Cmd  string
}

// Relay is a GuestFwd from the guest's addr:port to 127.0.0.1:hostPort on the host,
// one socat per connection, with TCP_NODELAY on its connection to the server and
// 128 KiB buffers. The busybox nc it replaces cost every 9P message 40-45 ms: it
// wrote a message to the server in pieces, the server's delayed ACK held the
// rest (Nagle), and its small buffer held a 64 KiB answer as long again (measured
// in a 9P root: 4 KiB reads 42 ms each, then 1-2 ms; 64 KiB reads 46 ms, then 3 ms).
// A server the guest reaches without it (a real network) has no such wait, so the
// tests and the bench would have charged ants for their relay.
func Relay(addr string, port, hostPort int) GuestFwd {
	return GuestFwd{Addr: addr, Port: port, Cmd: fmt.Sprintf("socat -b 131072 - TCP:127.0.0.1:%d,nodelay", hostPort)}
}

// HostFwd connects HostAddr:HostPort (TCP) on the host to the guest's GuestPort.
type HostFwd struct {
	HostAddr  string // default 127.0.0.1
	HostPort  int
	GuestPort int
}

// QEMUArgs are one -nic user,... argument; commas inside values are doubled, as
// QEMU's option syntax wants.
func (n NIC) QEMUArgs() ([]string, error) {
	opts := []string{"user"}
	if n.Model != "" {
		opts = append(opts, "model="+optEscape(n.Model))
	}
	if n.Restrict {
		opts = append(opts, "restrict=on")
	}
	if n.Hostname != "" {
		opts = append(opts, "hostname="+optEscape(n.Hostname))
	}
	if n.TFTP != "" {
		opts = append(opts, "tftp="+optEscape(n.TFTP))
	}
	if n.BootFile != "" {
		opts = append(opts, "bootfile="+optEscape(n.BootFile))
	}
	for _, f := range n.GuestFwds {
		if f.Addr == "" || f.Port <= 0 || f.Cmd == "" {
			return nil, fmt.Errorf("qvm: guest forward %+v: address, port and command wanted", f)
		}
		opts = append(opts, fmt.Sprintf("guestfwd=tcp:%s:%d-cmd:%s", f.Addr, f.Port, optEscape(f.Cmd)))
	}
	for _, f := range n.HostFwds {
		if f.HostPort <= 0 || f.GuestPort <= 0 {
			return nil, fmt.Errorf("qvm: host forward %+v: ports wanted", f)
		}
		addr := f.HostAddr
		if addr == "" {
			addr = "127.0.0.1"
		}
		opts = append(opts, fmt.Sprintf("hostfwd=tcp:%s:%d-:%d", addr, f.HostPort, f.GuestPort))
	}
	return []string{"-nic", strings.Join(opts, ",")}, nil
}

// VirtFS is a host directory shared with the guest over virtio 9P (a shared folder),
// mounted in the guest with trans=virtio and the tag.
type VirtFS struct {
	Path, Tag string
}

// QEMUArgs are the -virtfs argument (security_model=none: the files keep the
// host's owners).
func (v VirtFS) QEMUArgs() ([]string, error) {
	if v.Path == "" || v.Tag == "" {
		return nil, errors.New("qvm: a shared folder needs a path and a tag")
	}
	return []string{"-virtfs", "local,path=" + optEscape(v.Path) + ",mount_tag=" + optEscape(v.Tag) + ",security_model=none,id=fs0"}, nil
}

// Args are QEMU arguments as they are, for what has no type here (-qmp, -vga,
// -bios, -boot, a USB stick). A network goes in a NIC: a raw -nic here would sit
// beside the -nic none that a VM without a NIC gets.
type Args []string

// QEMUArgs returns the arguments.
func (a Args) QEMUArgs() ([]string, error) { return a, nil }

// optEscape doubles the commas of a value inside a QEMU option list.
func optEscape(s string) string { return strings.ReplaceAll(s, ",", ",,") }
