package netconf

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func TestAwaitPhys(t *testing.T) {
	link := func(name string, flags uint32) netlink.Link {
		return &netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: name, RawFlags: flags}}
	}
	drivers := map[string]string{"eth0": "e1000", "eth1": "virtio_net", "eth2": "e1000"}
	tests := []struct {
		name     string
		links    []netlink.Link
		phys     func(calls int) (bool, error) // the answer to the calls-th query
		minCalls int                           // queries of the PHY at least
		maxCalls int                           // and at most
		minWait  time.Duration
		maxWait  time.Duration
		log      string // in the log, "" = nothing logged
	}{
		{name: "not a late-carrier driver", links: []netlink.Link{link("eth1", 0)},
			phys: func(int) (bool, error) { return false, nil }, maxCalls: 0, maxWait: 50 * time.Millisecond},
		{name: "already up", links: []netlink.Link{link("eth0", unix.IFF_UP)},
			phys: func(int) (bool, error) { return false, nil }, maxCalls: 0, maxWait: 50 * time.Millisecond},
		{name: "link at once", links: []netlink.Link{link("eth0", 0)},
			phys: func(int) (bool, error) { return true, nil }, minCalls: 1, maxCalls: 1, maxWait: 50 * time.Millisecond,
			log: "eth0: its PHY has the link (after 0 ms); setting it up"},
		{name: "link after three looks", links: []netlink.Link{link("eth0", 0)},
			phys:     func(n int) (bool, error) { return n >= 3, nil },
			minCalls: 3, maxCalls: 3, minWait: 2 * phyPoll, maxWait: time.Second, log: "eth0: its PHY has the link (after "},
		{name: "no link: bounded", links: []netlink.Link{link("eth0", 0)},
			phys:     func(int) (bool, error) { return false, nil },
			minCalls: 2, maxCalls: 1000, minWait: 200 * time.Millisecond, maxWait: 2 * time.Second, log: "eth0: no link from the PHY within 200ms; setting it up anyway"},
		{name: "error: no wait", links: []netlink.Link{link("eth0", 0)},
			phys:     func(int) (bool, error) { return false, errors.New("operation not supported") },
			minCalls: 1, maxCalls: 1, maxWait: 50 * time.Millisecond, log: "eth0: asking the PHY for its link: operation not supported; setting it up now"},
		{name: "two links, one slow", links: []netlink.Link{link("eth0", 0), link("eth1", 0), link("eth2", 0)},
			phys:     func(n int) (bool, error) { return n != 2 && n < 5, nil }, // eth0 at once, eth2 on its second look
			minCalls: 3, maxCalls: 3, minWait: phyPoll, maxWait: time.Second, log: "eth2: its PHY has the link (after "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log strings.Builder
			calls := 0
			n := &Net{
				PhysWait: 200 * time.Millisecond,
				Driver:   func(l string) string { return drivers[l] },
				PhysLink: func(string) (bool, error) { calls++; return tt.phys(calls) },
				Log:      func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) },
			}
			start := time.Now()
			n.awaitPhys(context.Background(), tt.links)
			d := time.Since(start)
			if calls < tt.minCalls || calls > tt.maxCalls {
				t.Errorf("%d queries of the PHY, want %d to %d", calls, tt.minCalls, tt.maxCalls)
			}
			if d < tt.minWait || d > tt.maxWait {
				t.Errorf("waited %v, want %v to %v", d, tt.minWait, tt.maxWait)
			}
			if tt.log == "" && log.Len() > 0 || !strings.Contains(log.String(), tt.log) {
				t.Errorf("log %q, want %q", log.String(), tt.log)
			}
		})
	}
}

func TestAwaitPhysCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := &Net{
		PhysWait: time.Minute,
		Driver:   func(string) string { return "e1000" },
		PhysLink: func(string) (bool, error) { cancel(); return false, nil },
	}
	start := time.Now()
	n.awaitPhys(ctx, []netlink.Link{&netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}}})
	if d := time.Since(start); d > time.Second {
		t.Errorf("a cancelled wait took %v", d)
	}
}
