#!/bin/sh
# mkdisk.sh [-L LABEL] [-s SIZE_MIB] [-p] SRCDIR IMAGE: make an ext4 disk image
# IMAGE holding a copy of the tree SRCDIR (mkfs.ext4 -d; no loop devices, no
# mounts). Run as root so that every file can be read; ownership and modes are
# copied from SRCDIR as they are.
#
#   -L LABEL     file system label (default antsroot; at most 16 bytes)
#   -s SIZE_MIB  size of IMAGE in MiB (default: du of SRCDIR + 50% + 32 MiB,
#                plus 1 MiB with -p)
#   -p           give IMAGE an MBR partition table with one Linux partition
#                from 1 MiB to the end, and put the file system in it
#
# Prints one line on stdout: with -p "PARTUUID=... UUID=... LABEL=...",
# without -p "UUID=... LABEL=...". Other messages go to stderr. IMAGE is
# written to a temporary file beside it first, then renamed over it.
#
# Needs (Debian packages): e2fsprogs (mkfs.ext4, dumpe2fs), fdisk (sfdisk, only
# for -p), coreutils.
set -eu

prog=mkdisk
die() {
	echo "$prog: $*" >&2
	exit 1
}
usage="usage: mkdisk.sh [-L LABEL] [-s SIZE_MIB] [-p] SRCDIR IMAGE"

label=antsroot
size=
part=0
while getopts L:s:p opt; do
	case $opt in
	L) label=$OPTARG ;;
	s) size=$OPTARG ;;
	p) part=1 ;;
	*) die "$usage" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || die "$usage"
case $size in
"") ;;
*[!0-9]* | 0*) die "-s wants a whole number of MiB, got '$size'" ;;
esac
src=$1
img=$2

[ -d "$src" ] || die "SRCDIR $src is not a directory; make one first (e.g. qemu/mkdemoroot.sh $src)"
[ -n "$img" ] || die "IMAGE is empty; give a file path"
[ ! -d "$img" ] || die "IMAGE $img is a directory; give a file path"
[ -n "$label" ] || die "-L needs a non-empty label"
[ "$(printf %s "$label" | wc -c)" -le 16 ] || die "label '$label' is longer than 16 bytes; give a shorter -L"
case $label in *[!A-Za-z0-9._-]*) die "label '$label' may only use A-Z a-z 0-9 . _ -; give another -L" ;; esac

PATH=$PATH:/usr/sbin:/sbin
command -v mkfs.ext4 >/dev/null 2>&1 || die "mkfs.ext4 not found; run: apt-get install -y --no-install-recommends e2fsprogs"
command -v dumpe2fs >/dev/null 2>&1 || die "dumpe2fs not found; run: apt-get install -y --no-install-recommends e2fsprogs"
if [ "$part" = 1 ]; then
	command -v sfdisk >/dev/null 2>&1 || die "sfdisk not found; run: apt-get install -y --no-install-recommends fdisk"
fi
if [ "$(id -u)" != 0 ]; then
	echo "$prog: warning: not root; files of SRCDIR this user cannot read will make mkfs.ext4 fail" >&2
fi

# Sizes in MiB. The partition starts at 1 MiB (sector 2048) and runs to the end.
off=$part
if [ -z "$size" ]; then
	kib=$(du -sk "$src" | awk '{ print $1 }')
	mib=$(((kib + 1023) / 1024))
	size=$((mib + (mib + 1) / 2 + 32 + off))
fi
fs=$((size - off))
[ "$fs" -ge 2 ] || die "-s $size is too small; give at least $((2 + off))"

dest=$(dirname "$img")
[ -d "$dest" ] || die "directory $dest of IMAGE does not exist; create it first"
tmpimg=$(mktemp "$dest/.mkdisk.XXXXXX")
fsimg=
trap 'rm -f "$tmpimg" ${fsimg:+"$fsimg"}' EXIT
trap 'exit 1' HUP INT TERM

# mkfs.ext4 -d: copy SRCDIR in; -F: a regular file, no questions; -q: quiet.
mkext4() { # mkext4 FILE MIB (FILE: an empty file from mktemp)
	mkfs.ext4 -F -q -L "$label" -d "$src" "$1" "$2M" >&2 ||
		die "mkfs.ext4 -d $src failed (too small? give a larger -s than $size)"
}
fsuuid() {
	dumpe2fs -h "$1" 2>/dev/null | awk -F: '$1 == "Filesystem UUID" { gsub(/ /, "", $2); print $2 }'
}

if [ "$part" = 0 ]; then
	mkext4 "$tmpimg" "$fs"
	uuid=$(fsuuid "$tmpimg")
	[ -n "$uuid" ] || die "cannot read the UUID of the new file system"
	mv -f "$tmpimg" "$img"
	echo "UUID=$uuid LABEL=$label"
	exit 0
fi

fsimg=$(mktemp "$dest/.mkdisk-fs.XXXXXX")
mkext4 "$fsimg" "$fs"
uuid=$(fsuuid "$fsimg")
[ -n "$uuid" ] || die "cannot read the UUID of the new file system"

rm -f "$tmpimg"
dd if=/dev/null of="$tmpimg" bs=1M seek="$size" 2>/dev/null || die "cannot create $tmpimg of $size MiB"
printf 'label: dos\nstart=2048, type=83\n' | sfdisk -q "$tmpimg" >&2 ||
	die "sfdisk could not write a partition table to $tmpimg"
# The partition must be exactly as large as the file system.
sectors=$(sfdisk -d "$tmpimg" | awk -F'size=' 'NF > 1 { split($2, a, ","); gsub(/ /, "", a[1]); print a[1]; exit }')
[ "$sectors" = $((fs * 2048)) ] || die "partition 1 has $sectors sectors, want $((fs * 2048)); check sfdisk"
dd if="$fsimg" of="$tmpimg" bs=1M seek=1 conv=notrunc,sparse 2>/dev/null ||
	die "cannot copy the file system into partition 1 of $tmpimg"

diskid=$(sfdisk --disk-id "$tmpimg") || die "sfdisk --disk-id $tmpimg failed"
diskid=${diskid#0x}
[ -n "$diskid" ] || die "sfdisk gave no disk identifier"
partuuid=$(printf '%08x-01' "0x$diskid")
rm -f "$fsimg"
mv -f "$tmpimg" "$img"
echo "PARTUUID=$partuuid UUID=$uuid LABEL=$label"
