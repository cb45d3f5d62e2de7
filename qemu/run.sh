#!/bin/sh
# run.sh KERNEL INITRAMFS [APPEND...]: boot the ants image in QEMU with the serial
# console on this terminal. Ctrl-A X quits QEMU; Ctrl-A C is QEMU's monitor.
# ANTS_MEM (MiB, default 256) and ANTS_ACCEL (tcg by default; kvm where it works)
# change the machine; ANTS_DISK=IMAGE adds a virtio disk.
set -eu
kernel=${1:?usage: run.sh KERNEL INITRAMFS [APPEND...]}
initrd=${2:?usage: run.sh KERNEL INITRAMFS [APPEND...]}
shift 2
disk=""
if [ -n "${ANTS_DISK:-}" ]; then
	disk="-drive file=$ANTS_DISK,if=virtio,format=raw"
fi
# shellcheck disable=SC2086
exec qemu-system-x86_64 $disk \
	-accel "${ANTS_ACCEL:-tcg}" -m "${ANTS_MEM:-256}" -smp 1 \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 quiet $*" \
	-device virtio-rng-pci \
	-nographic -no-reboot -nic none
