package antscmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPreloadRoot: ants net loads a network root's modules beside DHCP and says so;
// modules the kernel has live need no module index; a failure is told, not
// returned (the mount tries again); other roots load nothing.
func TestPreloadRoot(t *testing.T) {
	sys := t.TempDir()
	p := Paths{Sysfs: sys, ModulesDir: filepath.Join(t.TempDir(), "none")}
	live := func(names ...string) {
		for _, n := range names {
			d := filepath.Join(sys, "module", n)
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, "initstate"), []byte("live\n"), 0o444); err != nil {
				t.Fatal(err)
			}
		}
	}
	run := func(envs map[string]string) string {
		var out strings.Builder
		p.preloadRoot(envs, &out)()
		return out.String()
	}
	nfs := map[string]string{"root": "nfs4:10.0.2.100:/export"}
	if out := run(nfs); !strings.Contains(out, "net: the root's modules (nfs nfsv4): no modules for the running kernel") {
		t.Errorf("no index, nothing live: %q", out)
	}
	live("nfs", "nfsv4")
	if out := run(nfs); !strings.Contains(out, "net: the root's modules (nfs nfsv4) loaded beside it (") {
		t.Errorf("nfs and nfsv4 live: %q", out)
	}
	if out := run(map[string]string{"venti": "tcp!10.0.2.100!564"}); !strings.Contains(out, "(9p 9pnet_fd): no modules") {
		t.Errorf("a 9P root: %q", out)
	}
	for _, envs := range []map[string]string{{"root": "/dev/vda1"}, {}, {"root": "virtfs:share"}} {
		if out := run(envs); out != "" {
			t.Errorf("%v: %q, want nothing", envs, out)
		}
	}
}
