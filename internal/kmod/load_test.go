package kmod

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// fakeKernel stands in for finit_module: it records the modules asked for, by name.
type fakeKernel struct {
	t      *testing.T
	dir    string
	calls  []string
	fail   map[string]error // module name -> what loading it returns
	onLoad func(name string)
}

func (k *fakeKernel) load(path, params string) error {
	rel, err := filepath.Rel(k.dir, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		k.t.Errorf("load(%q): not under %s", path, k.dir)
	}
	if params != "" {
		k.t.Errorf("load(%q, %q): unexpected params", path, params)
	}
	name := Name(rel)
	k.calls = append(k.calls, name)
	if k.onLoad != nil {
		k.onLoad(name)
	}
	return k.fail[name]
}

func newLoader(t *testing.T, fail map[string]error) (*Loader, *fakeKernel, *[]string) {
	ix := testIndex(t)
	k := &fakeKernel{t: t, dir: "/modules", fail: fail}
	var logs []string
	l := &Loader{
		Index: ix,
		Dir:   k.dir,
		Load:  k.load,
		Log:   func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) },
		// Not the host's /sys/module, where a module of the same name may be loaded.
		SysModule: t.TempDir(),
	}
	return l, k, &logs
}

// TestProbeSkipsLiveModules: a module the kernel has live (or built in, a directory
// without an initstate) is not loaded again; one still coming is, so that the
// kernel makes its dependants wait for it.
func TestProbeSkipsLiveModules(t *testing.T) {
	l, k, _ := newLoader(t, nil)
	state := map[string]string{"b": "live\n", "c_dash": "coming\n", "crcx_fast": ""}
	for m, st := range state {
		dir := filepath.Join(l.SysModule, m)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if st != "" {
			if err := os.WriteFile(filepath.Join(dir, "initstate"), []byte(st), 0o444); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Probe("a"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"crcx_generic", "c_dash", "a"}; !slices.Equal(k.calls, want) {
		t.Errorf("Probe(a) loaded %q, want %q (b live, crcx_fast built in, c_dash coming)", k.calls, want)
	}
	if !Live(l.SysModule, "b") || !Live(l.SysModule, "crcx_fast") || Live(l.SysModule, "c_dash") || Live(l.SysModule, "a") {
		t.Errorf("Live: b %v, crcx_fast %v, c_dash %v, a %v; want true, true, false, false",
			Live(l.SysModule, "b"), Live(l.SysModule, "crcx_fast"), Live(l.SysModule, "c_dash"), Live(l.SysModule, "a"))
	}
}

func TestProbe(t *testing.T) {
	enodev := syscall.ENODEV
	tests := []struct {
		name      string
		probe     string
		fail      map[string]error
		wantCalls []string
		wantErr   []string // substrings; none: no error
		wantLog   string   // a substring of some log line
	}{
		{name: "chain with pre softdep alias", probe: "a",
			wantCalls: []string{"crcx_fast", "crcx_generic", "c_dash", "b", "a"}},
		{name: "pre and post softdeps", probe: "e",
			wantCalls: []string{"d", "c_dash", "b", "crcx_fast", "crcx_generic", "a", "e", "post_mod"}},
		{name: "dash in name", probe: "c-dash", wantCalls: []string{"c_dash"}},
		{name: "failing softdep is no error", probe: "a", fail: map[string]error{"crcx_fast": enodev},
			wantCalls: []string{"crcx_fast", "crcx_generic", "c_dash", "b", "a"}, wantLog: "crcx_fast"},
		{name: "failing post softdep is no error", probe: "e", fail: map[string]error{"post_mod": enodev},
			wantCalls: []string{"d", "c_dash", "b", "crcx_fast", "crcx_generic", "a", "e", "post_mod"}, wantLog: "post_mod"},
		{name: "failing dependency stops", probe: "a", fail: map[string]error{"b": enodev},
			wantCalls: []string{"crcx_fast", "crcx_generic", "c_dash", "b"},
			wantErr:   []string{"loading a", "dependency b", "no such device"}},
		{name: "failing module", probe: "d", fail: map[string]error{"d": syscall.EINVAL},
			wantCalls: []string{"d"}, wantErr: []string{"loading d", "invalid argument"}},
		{name: "EEXIST is success", probe: "a", fail: map[string]error{"a": syscall.EEXIST, "b": fmt.Errorf("wrapped: %w", syscall.EEXIST)},
			wantCalls: []string{"crcx_fast", "crcx_generic", "c_dash", "b", "a"}},
		{name: "builtin", probe: "builtin-one"},
		{name: "unknown", probe: "nope", wantErr: []string{"module nope not found for kernel " + testRelease}},
		{name: "alias of unknown module", probe: "ghost:1", wantErr: []string{"module ghost:1 not found"}},
		{name: "alias", probe: "crypto-crcx", wantCalls: []string{"crcx_fast", "crcx_generic"}},
		{name: "alias, one module fails", probe: "crypto-crcx", fail: map[string]error{"crcx_generic": enodev},
			wantCalls: []string{"crcx_fast", "crcx_generic"}, wantLog: "crcx_generic"},
		{name: "alias, all modules fail", probe: "crypto-crcx", fail: map[string]error{"crcx_generic": enodev, "crcx_fast": enodev},
			wantCalls: []string{"crcx_fast", "crcx_generic"}, wantErr: []string{"crcx_fast", "crcx_generic"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, k, logs := newLoader(t, tt.fail)
			err := l.Probe(tt.probe)
			if len(tt.wantErr) == 0 && err != nil {
				t.Errorf("Probe(%q): %v", tt.probe, err)
			}
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Errorf("Probe(%q): no error, want %q", tt.probe, tt.wantErr)
				} else {
					for _, w := range tt.wantErr {
						if !strings.Contains(err.Error(), w) {
							t.Errorf("Probe(%q): error %q does not contain %q", tt.probe, err, w)
						}
					}
				}
			}
			if !slices.Equal(k.calls, tt.wantCalls) {
				t.Errorf("Probe(%q) loaded %q, want %q", tt.probe, k.calls, tt.wantCalls)
			}
			if tt.wantLog != "" && !strings.Contains(strings.Join(*logs, "\n"), tt.wantLog) {
				t.Errorf("log %q does not mention %q", *logs, tt.wantLog)
			}
			if err == nil {
				// A second Probe does nothing.
				n := len(k.calls)
				if err := l.Probe(tt.probe); err != nil {
					t.Errorf("second Probe(%q): %v", tt.probe, err)
				}
				if len(k.calls) != n {
					t.Errorf("second Probe(%q) loaded %q", tt.probe, k.calls[n:])
				}
			}
		})
	}
}

func TestProbeRemembers(t *testing.T) {
	l, k, _ := newLoader(t, map[string]error{"b": syscall.ENOMEM})
	if err := l.Probe("a"); err == nil {
		t.Fatal("Probe(a) with b failing: no error")
	}
	// What loaded stays loaded; what failed is tried again.
	delete(k.fail, "b")
	k.calls = nil
	if err := l.Probe("a"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"b", "a"}; !slices.Equal(k.calls, want) {
		t.Errorf("second Probe(a) loaded %q, want %q", k.calls, want)
	}
	k.calls = nil
	if err := l.Probe("e"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"d", "e", "post_mod"}; !slices.Equal(k.calls, want) {
		t.Errorf("Probe(e) after Probe(a) loaded %q, want %q", k.calls, want)
	}
}

func TestDefaultLoad(t *testing.T) {
	ix := testIndex(t)
	empty := t.TempDir()
	tests := []struct {
		name, dir string
		want      []string
	}{
		{"zmod", "", []string{"zmod.ko.zst", "no such file"}},
		{"d", empty, []string{filepath.Join(empty, "kernel/d/d.ko"), "no such file"}},
	}
	for _, tt := range tests {
		l := &Loader{Index: ix, Dir: tt.dir, SysModule: empty}
		err := l.Probe(tt.name)
		if err == nil {
			t.Errorf("Probe(%q) with the default Load: no error", tt.name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Probe(%q): error %q does not contain %q", tt.name, err, w)
			}
		}
	}
}

// TestLoadZstdModule: a .ko.zst is decompressed in Go and handed to
// init_module(2); a corrupt one is an error naming the file, before the kernel sees it.
func TestLoadZstdModule(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.ko.zst")
	os.WriteFile(bad, []byte("not zstd at all"), 0o644)
	err := LoadFile(bad, "")
	if err == nil || !strings.Contains(err.Error(), "bad.ko.zst") {
		t.Errorf("corrupt .ko.zst: %v", err)
	}
	if err := LoadFile(filepath.Join(dir, "x.ko.xz"), ""); err == nil || !strings.Contains(err.Error(), ".ko.zst") {
		t.Errorf("a .ko.xz: %v", err)
	}
}

// writeTree makes files (content by path) and symlinks (target by path) under root.
func writeTree(t *testing.T, root string, files, links map[string]string) {
	t.Helper()
	for p, content := range files {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	for p, target := range links {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
}

func TestColdplug(t *testing.T) {
	sys := t.TempDir()
	writeTree(t, sys, map[string]string{
		"devices/pci0000:00/0000:00:01.0/modalias":         "pci:v00001234d00005678sv00001234sd00000001bc01sc00i00\n",
		"devices/pci0000:00/0000:00:01.0/vendor":           "0x1234\n",
		"devices/pci0000:00/0000:00:02.0/modalias":         "usb:v1234p1000dc00\n",
		"devices/pci0000:00/0000:00:02.0/virtio0/modalias": "virtio:d00000002v00001AF4\n",
		"devices/platform/dup/modalias":                    "platform:my-dev\n",
		"devices/platform/failing/modalias":                "acpi:FAIL0001:\n",
		"devices/platform/ghost/modalias":                  "ghost:1\n",
		"devices/platform/my-dev/modalias":                 "platform:my-dev\n",
		"devices/platform/empty/modalias":                  "",
		"devices/virtual/nomatch/modalias":                 "acpi:NOPE:\n",
		"outside/modalias":                                 "never:1\n",
	}, map[string]string{
		"devices/loop":                              ".",
		"devices/pci0000:00/0000:00:01.0/up":        "../..",
		"devices/pci0000:00/0000:00:01.0/subsystem": "../../../bus/pci",
		"devices/platform/link/modalias":            "../../../outside/modalias",
		"devices/platform/outside":                  "../../outside",
		// The buses list their devices, as sysfs does.
		"bus/acpi/devices/nomatch":     "../../../devices/virtual/nomatch",
		"bus/pci/devices/0000:00:01.0": "../../../devices/pci0000:00/0000:00:01.0",
		"bus/pci/devices/0000:00:02.0": "../../../devices/pci0000:00/0000:00:02.0",
		"bus/platform/devices/dup":     "../../../devices/platform/dup",
		"bus/platform/devices/empty":   "../../../devices/platform/empty",
		"bus/platform/devices/failing": "../../../devices/platform/failing",
		"bus/platform/devices/ghost":   "../../../devices/platform/ghost",
		"bus/platform/devices/link":    "../../../devices/platform/link",
		"bus/platform/devices/my-dev":  "../../../devices/platform/my-dev",
		"bus/platform/devices/gone":    "../../../devices/platform/gone",
		"bus/virtio/devices/virtio0":   "../../../devices/pci0000:00/0000:00:02.0/virtio0",
	})
	os.MkdirAll(filepath.Join(sys, "bus/usb/devices"), 0o755) // a bus without devices
	l, k, _ := newLoader(t, map[string]error{"f": syscall.EINVAL})
	// Loading d makes a new device, for the next pass.
	k.onLoad = func(name string) {
		if name == "d" {
			writeTree(t, sys, map[string]string{"devices/pci0000:00/0000:00:01.0/late0/modalias": "late:dev1\n"},
				map[string]string{"bus/late/devices/late0": "../../../devices/pci0000:00/0000:00:01.0/late0"})
		}
	}
	loaded, errs := l.Coldplug(sys)
	wantLoaded := []string{"d", "c_dash", "b", "crcx_fast", "crcx_generic", "a", "e", "post_mod", "late"}
	if !slices.Equal(loaded, wantLoaded) {
		t.Errorf("Coldplug loaded %q, want %q", loaded, wantLoaded)
	}
	wantCalls := append(slices.Clone(wantLoaded[:8]), "f", "late")
	if !slices.Equal(k.calls, wantCalls) {
		t.Errorf("Coldplug asked the kernel for %q, want %q", k.calls, wantCalls)
	}
	if len(errs) != 2 {
		t.Errorf("Coldplug errors: %q, want 2 (f, ghost)", errs)
	}
	all := fmt.Sprint(errs)
	for _, w := range []string{"loading f", "acpi:FAIL0001:", "module ghost not found"} {
		if !strings.Contains(all, w) {
			t.Errorf("Coldplug errors %q do not mention %q", all, w)
		}
	}

	// A second Coldplug finds everything done (f is tried again).
	k.calls = nil
	loaded, errs = l.Coldplug(sys)
	if len(loaded) != 0 || !slices.Equal(k.calls, []string{"f"}) || len(errs) != 2 {
		t.Errorf("second Coldplug: loaded %q, calls %q, errors %q", loaded, k.calls, errs)
	}
}

func TestColdplugNoSysfs(t *testing.T) {
	l, k, _ := newLoader(t, nil)
	loaded, errs := l.Coldplug(filepath.Join(t.TempDir(), "nosys"))
	if len(loaded) != 0 || len(k.calls) != 0 {
		t.Errorf("Coldplug without sysfs loaded %q", loaded)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "nosys") {
		t.Errorf("Coldplug without sysfs: errors %q, want one naming the directory", errs)
	}
}
