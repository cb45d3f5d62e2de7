#!/bin/sh
# mkpxe.sh KERNEL INITRD DIR WORD...: fill DIR for network boot with iPXE: vmlinuz,
# initramfs.cpio and ants.ipxe, an iPXE script that boots them with the kernel command
# line WORD.... The script names the files relative to itself, so DIR can be served as
# it is by TFTP or HTTP (docs/baremetal.md).
set -eu
[ $# -ge 3 ] || { echo "usage: mkpxe.sh KERNEL INITRD DIR [WORD...]" >&2; exit 2; }
kernel=$1 initrd=$2 dir=$3
shift 3
mkdir -p "$dir"
cp "$kernel" "$dir/vmlinuz"
cp "$initrd" "$dir/initramfs.cpio"
# initrd= on the command line lets the kernel's EFI stub find the initramfs when
# iPXE runs under UEFI; a BIOS boot ignores it.
cat >"$dir/ants.ipxe.tmp" <<EOT
#!ipxe
# ants over the network. The "kernel" line ends with the kernel command line: add boot
# variables to it (docs/cmdline.md), e.g. sysname=gnot, venti=tcp!10.0.0.2!564 ip=dhcp.
# File names are relative to this script's own URL (tftp:// or http://).
kernel vmlinuz initrd=initramfs.cpio $*
initrd initramfs.cpio
boot
EOT
mv "$dir/ants.ipxe.tmp" "$dir/ants.ipxe"
echo "mkpxe: $dir: vmlinuz, initramfs.cpio, ants.ipxe; command line: $*"
