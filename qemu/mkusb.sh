#!/bin/sh
# mkusb.sh KERNEL INITRD OUT WORD...: write OUT, a UEFI boot disk (a USB stick image):
# a GPT with one EFI system partition (FAT32, label ANTS) holding
#   EFI/BOOT/BOOTX64.EFI      systemd-boot (Debian's systemd-boot-efi), at the path
#                             firmware boots from removable media without any setup
#   loader/loader.conf        the menu: timeout, default entry
#   loader/entries/ants.conf  the boot entry; its "options" line is the kernel command
#                             line (WORD...), plain text to edit from any OS
#   ants/vmlinuz, ants/initramfs.cpio
# Built as an ordinary user with no loop device or mount: mkfs.vfat and mtools on a
# file that is then copied into the disk image at the partition's offset.
set -eu
[ $# -ge 3 ] || { echo "usage: mkusb.sh KERNEL INITRD OUT [WORD...]" >&2; exit 2; }
kernel=$1 initrd=$2 out=$3
shift 3
cmdline="$*"
PATH=$PATH:/usr/sbin:/sbin
boot=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
for f in "$kernel" "$initrd" "$boot"; do
	[ -f "$f" ] || { echo "mkusb: $f missing (qemu/install-deps.sh media)" >&2; exit 1; }
done
for c in mkfs.vfat mcopy mmd sfdisk; do
	command -v $c >/dev/null || { echo "mkusb: $c missing (qemu/install-deps.sh media)" >&2; exit 1; }
done

# The ESP: room for twice the payload (a second kernel beside the first, per-machine
# files) and at least 64 MiB, so that FAT32 has enough clusters with 512-byte ones.
mib=1048576
payload=$(( $(stat -c %s "$kernel") + $(stat -c %s "$initrd") + $(stat -c %s "$boot") ))
esp_mib=$(( 2 * payload / mib + 8 ))
[ $esp_mib -ge 64 ] || esp_mib=64
start=2048                       # sectors of 512 bytes: the partition starts at 1 MiB
esp_sectors=$(( esp_mib * 2048 ))
disk_sectors=$(( start + esp_sectors + 2048 ))   # and 1 MiB at the end for the backup GPT

mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$out.tmp"' EXIT
esp=$tmp/esp.img
truncate -s $(( esp_sectors * 512 )) "$esp"
mkfs.vfat -F 32 -s 1 -n ANTS "$esp" >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries ::/ants
mcopy -i "$esp" "$boot" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$kernel" ::/ants/vmlinuz
mcopy -i "$esp" "$initrd" ::/ants/initramfs.cpio
cat >"$tmp/loader.conf" <<'EOF'
# systemd-boot's menu. It shows for "timeout" seconds; a key stops the countdown, and
# "e" on an entry edits its command line for this boot only. timeout 0 boots at once
# (hold Space while the firmware starts the stick to see the menu anyway).
timeout 3
default ants.conf
editor yes
EOF
cat >"$tmp/ants.conf" <<EOF
# The ants boot entry. The "options" line is the kernel command line: add boot
# variables to it (docs/cmdline.md), for example
#   sysname=gnot                      the machine's name, and /cfg/gnot/ for its config
#   root=LABEL=debian rootwait        the root system from a disk
#   venti=tcp!10.0.0.2!564 ip=dhcp    the root from a 9P file server on the network
#   sysname=ask                       ask for it on the console at boot
# The last console= is /dev/console, where the kernel's messages go. Lines starting
# with # are comments.
title   ants
linux   /ants/vmlinuz
initrd  /ants/initramfs.cpio
options $cmdline
EOF
mcopy -i "$esp" "$tmp/loader.conf" ::/loader/loader.conf
mcopy -i "$esp" "$tmp/ants.conf" ::/loader/entries/ants.conf

rm -f "$out.tmp"
truncate -s $(( disk_sectors * 512 )) "$out.tmp"
sfdisk -q "$out.tmp" <<EOF
label: gpt
unit: sectors
start=$start, size=$esp_sectors, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="ants"
EOF
dd if="$esp" of="$out.tmp" bs=1M seek=1 conv=notrunc,sparse status=none
mv "$out.tmp" "$out"
echo "mkusb: $out: $(( disk_sectors / 2048 )) MiB, ESP $esp_mib MiB; command line: $cmdline"
