#!/bin/sh
# install-deps.sh [test|media]: install, from Debian's archive, what building and
# running ants needs and this machine lacks (QEMU, kmod's depmod, e2fsprogs, fdisk,
# squashfs-tools' mksquashfs for the image's payload);
# with "media", also what make usb needs (systemd-boot-efi, mtools, dosfstools); with
# "test", that and what the tests need (diod and nfs-ganesha, socat to relay QEMU's
# user network to them, busybox-static for the demo root, debootstrap, the firmware:
# ovmf for UEFI, ipxe-qemu for network boot, and OpenSSH's client for the ssh and
# hub tests).
set -eu
need=""
command -v qemu-system-x86_64 >/dev/null 2>&1 || need="$need qemu-system-x86"
command -v depmod >/dev/null 2>&1 || [ -x /usr/sbin/depmod ] || [ -x /sbin/depmod ] || need="$need kmod"
command -v mkfs.ext4 >/dev/null 2>&1 || [ -x /usr/sbin/mkfs.ext4 ] || [ -x /sbin/mkfs.ext4 ] || need="$need e2fsprogs"
command -v dpkg-deb >/dev/null 2>&1 || need="$need dpkg"
command -v sfdisk >/dev/null 2>&1 || [ -x /usr/sbin/sfdisk ] || [ -x /sbin/sfdisk ] || need="$need fdisk"
command -v mksquashfs >/dev/null 2>&1 || [ -x /usr/bin/mksquashfs ] || need="$need squashfs-tools"
if [ "${1:-}" = test ] || [ "${1:-}" = media ]; then
	[ -f /usr/lib/systemd/boot/efi/systemd-bootx64.efi ] || need="$need systemd-boot-efi"
	command -v mcopy >/dev/null 2>&1 || need="$need mtools"
	command -v mkfs.vfat >/dev/null 2>&1 || [ -x /usr/sbin/mkfs.vfat ] || [ -x /sbin/mkfs.vfat ] || need="$need dosfstools"
fi
if [ "${1:-}" = test ]; then
	[ -f /usr/share/ovmf/OVMF.fd ] || need="$need ovmf"
	[ -f /usr/lib/ipxe/qemu/efi-virtio.rom ] || need="$need ipxe-qemu"
	command -v diod >/dev/null 2>&1 || [ -x /usr/sbin/diod ] || need="$need diod"
	command -v ganesha.nfsd >/dev/null 2>&1 || need="$need nfs-ganesha nfs-ganesha-vfs"
	[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need="$need busybox-static"
	command -v socat >/dev/null 2>&1 || need="$need socat"
	command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need="$need debootstrap"
	command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 || need="$need openssh-client"
	# The bench's Debian image (D): Debian's own initramfs for the same kernel.
	command -v mkinitramfs >/dev/null 2>&1 || [ -x /usr/sbin/mkinitramfs ] || need="$need initramfs-tools"
fi
[ -n "$need" ] || exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing:$need; run as root: apt-get install$need" >&2
	exit 1
fi
echo "install-deps: installing$need"
if [ ! -f /var/lib/apt/lists/lock ] || [ -z "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v lock | head -n 1)" ]; then
	apt-get update -q
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need ||
	{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need; }
