package main

import (
	"os"
	"testing"
)

// TestDebianImage builds Debian's initramfs-tools image (root, BENCH_DEBIAN=1 only:
// it installs initramfs-tools and touches /lib/modules and /boot for the run).
func TestDebianImage(t *testing.T) {
	if os.Getenv("BENCH_DEBIAN") != "1" || os.Geteuid() != 0 {
		t.Skip("BENCH_DEBIAN=1 as root to build Debian's image")
	}
	if err := os.Chdir("../.."); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir("qemu/bench")
	rel, err := kernelRelease()
	if err != nil {
		t.Fatal(err)
	}
	im, err := buildDebian("build/bench/work", rel)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", im)
	if im.Compressed == 0 {
		t.Error("empty image")
	}
}
