package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ants/ants/internal/qvm"
)

// fleetRun is one boot of N guests at once from one NFS export (a fresh
// nfs-ganesha), each with a tmpfs overlay over the shared read-only root and its
// name from DHCP, as TestFleet boots them.
type fleetRun struct {
	N    int     `json:"n"`
	Wall float64 `json:"wall_s"` // the first QEMU start to the last "demo root: up"
	// Up is each guest's "demo root: up", s after the first QEMU start, sorted.
	Up []float64 `json:"up_s"`
	// ServerCPU is ganesha.nfsd's processor time (utime+stime of /proc/PID/stat)
	// from just before the first QEMU start to the last root up.
	ServerCPU float64 `json:"server_cpu_s"`
	Err       string  `json:"error,omitempty"`
}

// parseFleet reads the -fleet list: guest counts, comma-separated; "" or "0" for none.
func parseFleet(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" || f == "0" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("-fleet: %q is not a number of guests", f)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

// bootFleet boots n guests from one ganesha exporting demo (the demo root tree,
// which nothing writes: every guest's writes stay in its tmpfs layer), each with
// the NIC model ("" for QEMU's default, an e1000).
func bootFleet(s *session, kernel, initrd, demo string, n int, model string) (fleetRun, error) {
	f := fleetRun{N: n}
	g, err := s.ganesha(demo)
	if err != nil {
		return f, err
	}
	cpu0, err := g.CPUTime()
	if err != nil {
		return f, err
	}
	// The guests share two cores: each is given the boot time of one, and a
	// minute more for each other guest.
	timeout := bootTimeout + time.Duration(n-1)*time.Minute
	start := time.Now()
	vms := make([]*qvm.VM, n)
	for i := range vms {
		name := fmt.Sprintf("gnot%d", i+1)
		nic := g.NIC("10.0.2.100")
		nic.Hostname = name
		nic.Model = model
		vms[i], err = s.start(qvm.Options{Name: name, Append: "root=nfs4:10.0.2.100:" + g.Pseudo + " ants.overlay=tmpfs:size=32m",
			Kernel: kernel, Initrd: initrd, Devices: []qvm.Device{nic}})
		if err != nil {
			return f, err
		}
	}
	// Each guest is watched by a goroutine of its own: the time of its root's
	// "up" is when it came, not when a loop got round to it.
	up := make([]float64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, vm := range vms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := vm.Expect(`demo root: up`, timeout); err != nil {
				errs[i] = fmt.Errorf("gnot%d: %w", i+1, err)
				return
			}
			up[i] = since(start)
		}()
	}
	wg.Wait()
	cpu1, cerr := g.CPUTime()
	for _, err := range errs {
		if err != nil {
			return f, err
		}
	}
	if cerr != nil {
		return f, cerr
	}
	sort.Float64s(up)
	f.Up, f.Wall = up, up[n-1]
	f.ServerCPU = (cpu1 - cpu0).Seconds()
	return f, nil
}

// fleetSlope is the cost of one more guest: the least-squares slope of f(run)
// over N, from the runs without an error; ok is false with fewer than two Ns.
func fleetSlope(runs []fleetRun, f func(fleetRun) float64) (slope float64, ok bool) {
	var xs, ys []float64
	for _, r := range runs {
		if r.Err == "" && r.N > 0 {
			xs, ys = append(xs, float64(r.N)), append(ys, f(r))
		}
	}
	if len(xs) < 2 {
		return 0, false
	}
	var mx, my float64
	for i := range xs {
		mx, my = mx+xs[i], my+ys[i]
	}
	mx, my = mx/float64(len(xs)), my/float64(len(xs))
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 {
		return 0, false
	}
	return sxy / sxx, true
}
