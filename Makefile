# ants: the admin namespace image. `make` builds it, `make run` boots it in QEMU,
# `make test` runs every check and test (vet, gofmt, staticcheck; unit, host and VM
# tests; the bench's quick run).
SHELL := /bin/bash
GO ?= go
BUILD := build
# KERNEL_DIR holds Debian's kernel and modules (qemu/fetch-kernel.sh); KERNEL and
# MODULES pick another kernel image and its lib/modules/RELEASE directory.
KERNEL_DIR ?= $(BUILD)/kernel
KERNEL ?= $(KERNEL_DIR)/vmlinuz
MODULES ?=
COMPRESS ?= zstd
APPEND ?=
INITRAMFS := $(BUILD)/initramfs.cpio
SOURCES := $(shell find cmds internal initramfs bootscripts ramfs-skel -type f 2>/dev/null) go.mod go.sum

.PHONY: all deps testdeps mediadeps usb pxe run test check unit vmtest fuzzboot bench clean

all: $(BUILD)/vmlinuz $(INITRAMFS)

deps:
	@qemu/install-deps.sh

testdeps:
	@qemu/install-deps.sh test

mediadeps:
	@qemu/install-deps.sh media

$(KERNEL_DIR)/vmlinuz: | deps
	qemu/fetch-kernel.sh $(KERNEL_DIR)

$(BUILD)/vmlinuz: $(KERNEL)
	cp $(KERNEL) $@

# The image is built by initramfs/main.go through mkuimage's Go API; the mkuimage
# binary is only for the bench's stock u-root image (qemu/bench/images.go).
$(BUILD)/bin/mkuimage: go.mod go.sum
	$(GO) build -o $@ github.com/u-root/mkuimage/cmd/mkuimage

$(INITRAMFS): $(SOURCES) $(BUILD)/vmlinuz | deps
	$(GO) run ./initramfs -kernel $(KERNEL_DIR) $(if $(MODULES),-modules $(MODULES)) -compress $(COMPRESS) -o $@

# The demo root: a small root system from Debian's busybox-static, on an ext4 disk
# image that keeps what you write across runs (delete it to start afresh).
DEMOROOT := $(BUILD)/demoroot
DEMODISK := $(BUILD)/demoroot.img

$(DEMODISK): | deps
	qemu/mkdemoroot.sh $(DEMOROOT)
	qemu/mkdisk.sh -p -L demoroot $(DEMOROOT) $@

run: all deps $(DEMODISK)
	ANTS_DISK=$(DEMODISK) qemu/run.sh $(BUILD)/vmlinuz $(INITRAMFS) root=LABEL=demoroot rootwait $(APPEND)

# Boot media for real machines (docs/baremetal.md), with this default kernel command
# line: the admin shell on the screen and on the first serial port (the last console=
# is /dev/console). APPEND adds words. MEDIA_KERNEL, MEDIA_INITRD, USB_IMG and PXE_DIR
# build media from another image or elsewhere (the VM tests do).
MEDIA_CMDLINE ?= console=tty0 console=ttyS0,115200
MEDIA_KERNEL ?= $(BUILD)/vmlinuz
MEDIA_INITRD ?= $(INITRAMFS)
USB_IMG ?= $(BUILD)/ants-usb.img
PXE_DIR ?= $(BUILD)/pxe

# usb: a UEFI stick image (GPT, an EFI system partition with systemd-boot; the command
# line in loader/entries/ants.conf on it). Write it with dd; no root needed to build it.
usb: $(MEDIA_KERNEL) $(MEDIA_INITRD) | mediadeps
	qemu/mkusb.sh $(MEDIA_KERNEL) $(MEDIA_INITRD) $(USB_IMG) $(MEDIA_CMDLINE) $(APPEND)

# pxe: a directory to serve by TFTP or HTTP: the kernel, the initramfs and ants.ipxe.
pxe: $(MEDIA_KERNEL) $(MEDIA_INITRD)
	qemu/mkpxe.sh $(MEDIA_KERNEL) $(MEDIA_INITRD) $(PXE_DIR) $(MEDIA_CMDLINE) $(APPEND)

# check: go vet, gofmt (any file it lists fails the check) and staticcheck with its
# default checks, pinned in go.mod as a tool (a finding kept on purpose carries a
# //lint:ignore CHECK reason comment).
GOFILES = $(shell find . \( -path ./build -o -path ./.git \) -prune -o -name '*.go' -print)
check:
	$(GO) vet ./...
	@echo gofmt -l; out=$$($$($(GO) env GOROOT)/bin/gofmt -l $(GOFILES)) || exit 1; \
	if [ -n "$$out" ]; then echo "gofmt: not formatted (gofmt -w FILE):"; echo "$$out"; exit 1; fi
	$(GO) tool staticcheck ./...

# unit: pure Go tests and host tests (those needing root skip without it), and the
# coverage of each package (a host test's re-executed child counts: testns.KeepCoverage),
# one line a package: status, package, coverage, time.
unit:
	@echo '$(GO) test -cover $$($(GO) list ./... | grep -v /qemu/vmtest)'
	@set -o pipefail; $(GO) test -cover $$($(GO) list ./... | grep -v /qemu/vmtest) 2>&1 | awk -F'\t' '\
	function short(p) { sub("^github.com/ants/ants/", "", p); return p } \
	function cov(c) { sub("^coverage: ", "", c); sub(" of statements.*", "", c); sub("\\[no statements\\]", "-", c); return c } \
	/^ok  \t/ { printf "ok    %-30s %7s  %s\n", short($$2), cov($$4), $$3; next } \
	/^\t[^\t]+\t\tcoverage:/ { printf "      %-30s %7s  no test files\n", short($$2), "-"; next } \
	{ print }'

# vmtest: boot the built image in QEMU; two VMs at a time on two cores.
vmtest: all testdeps
	ANTS_VM=1 $(GO) test -count=1 -timeout 25m -parallel 2 -v ./qemu/... 2>&1 | tee $(BUILD)/vmtest.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|\s+vm_test)' ; exit $${PIPESTATUS[0]}

# fuzzboot: boot the image with N garbled kernel command lines (seeds SEED to
# SEED+N-1), one VM at a time; make test boots seeds 1 to 4 (TestFuzzCmdline).
N ?= 20
SEED ?= 100
fuzzboot: all testdeps
	ANTS_VM=1 ANTS_FUZZ_N=$(N) ANTS_FUZZ_SEED=$(SEED) $(GO) test -count=1 -timeout $$(( $(N) * 3 + 5 ))m -run 'TestFuzzCmdline$$' -v ./qemu/vmtest/ 2>&1 | tee $(BUILD)/fuzzboot.log | grep -E '^(=== RUN|\s*--- |PASS|FAIL|ok|\s+fuzz_test)' ; exit $${PIPESTATUS[0]}

# bench: boot ants, stock u-root and a bare kernel-floor init with the same kernel and
# compare them, and boot fleets of 1, 2 and 4 guests from one NFS export
# (docs/performance.md); JSON in build/bench/. QUICK=1: one boot each, fleets of 1
# and 2, no memory bisection, Debian image or build timing (make test runs it, so the
# harness cannot rot). V=1: the machines' consoles on stderr as they come (-v; a
# failed boot's console always stays in build/vmlogs/bench-*.log).
BENCH_N ?= 5
bench: all $(BUILD)/bin/mkuimage testdeps
	$(GO) run ./qemu/bench -n $(BENCH_N) $(if $(filter 1,$(QUICK)),-quick) $(if $(filter 1,$(V)),-v)

test: check unit vmtest
	$(MAKE) bench QUICK=1

clean:
	rm -rf $(BUILD)/work $(BUILD)/bin $(INITRAMFS) $(BUILD)/vmlinuz $(BUILD)/vmlogs $(DEMODISK) $(BUILD)/ants-usb.img $(BUILD)/pxe
