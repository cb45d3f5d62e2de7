#!/bin/sh
# roots_test.sh: self-test of mkdemoroot.sh and mkdisk.sh. Builds a demo root
# and two disk images (plain and partitioned) in a temporary directory and checks
# them with e2fsck, debugfs and sfdisk; no loop devices, no mounts, no QEMU.
# Run as root. Prints "N passed, M failed"; exits non-zero on any failure.
# Set ROOTS_TEST_KEEP=1 to keep the temporary directory.
#
# Needs (Debian packages): e2fsprogs (e2fsck, debugfs, dumpe2fs), fdisk
# (sfdisk), util-linux (blkid), apt, dpkg, coreutils.
# shellcheck disable=SC2016 # sh -c '...' scripts get their arguments as $1...
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
PATH=$PATH:/usr/sbin:/sbin
[ "$(id -u)" = 0 ] || { echo "roots_test: run as root (mkdemoroot.sh and mkdisk.sh need it)" >&2; exit 1; }
for c in e2fsck debugfs dumpe2fs; do
	command -v "$c" >/dev/null 2>&1 || { echo "roots_test: $c not found; run: apt-get install -y --no-install-recommends e2fsprogs" >&2; exit 1; }
done
command -v sfdisk >/dev/null 2>&1 || { echo "roots_test: sfdisk not found; run: apt-get install -y --no-install-recommends fdisk" >&2; exit 1; }

NAME=roots_test KEEP=${ROOTS_TEST_KEEP:-}
# shellcheck source=qemu/testlib.sh
. "$here/testlib.sh"

root=$t/root

# --- mkdemoroot.sh ---
s=$(now)
check "mkdemoroot.sh builds $root" "$here/mkdemoroot.sh" "$root"
echo "     (built in $(since "$s"), $(du -sk "$root" | awk '{ print $1 }') KiB)"
check "tree: /bin/busybox is an executable file" test -f "$root/bin/busybox" -a -x "$root/bin/busybox"
resolves() { [ "$(readlink -f "$root/$1")" = "$root/bin/busybox" ]; }
check "tree: /sbin/init resolves to busybox" resolves sbin/init
check "tree: /bin/sh resolves to busybox" resolves bin/sh
check "tree: /usr/sbin/chroot resolves to busybox" resolves usr/sbin/chroot
relative() { case $(readlink "$root/$1") in /*) return 1 ;; esac; }
check "tree: applet symlinks are relative" relative usr/bin/awk
for line in '::sysinit:/etc/init.d/rcS' '::respawn:-/bin/sh' '::ctrlaltdel:/sbin/reboot' \
	'::shutdown:/bin/sync' '::shutdown:/bin/umount -a -r'; do
	check "inittab: $line" grep -qxF "$line" "$root/etc/inittab"
done
check "tree: /etc/init.d/rcS is executable" test -x "$root/etc/init.d/rcS"
check "tree: rcS prints 'demo root: up'" grep -q 'echo "demo root: up' "$root/etc/init.d/rcS"
check "tree: /etc/hostname is demo" test "$(cat "$root/etc/hostname")" = demo
check "tree: /tmp is mode 1777" test "$(stat -c %a "$root/tmp")" = 1777
check "tree: owned by root" test "$(stat -c %u:%g "$root/bin/busybox")" = 0:0
for d in root proc sys dev run mnt; do
	check "tree: /$d is a directory" test -d "$root/$d"
done
check "tree: busybox sh runs rcS's syntax (chroot sh -n)" chroot "$root" /bin/sh -n /etc/init.d/rcS
check "tree: chroot runs applets" sh -c 'test "$(chroot "$1" /bin/sh -c "echo \$((6*7)) | cat")" = 42' sh "$root"
if unshare -m -p -f -u --propagation private true 2>/dev/null; then
	check "tree: rcS mounts and says 'demo root: up' in new mount+PID+UTS namespaces" sh -c '
		out=$(unshare -m -p -f -u --propagation private chroot "$1" /bin/sh -c "/etc/init.d/rcS && cat /proc/mounts && hostname") || exit 1
		printf "%s\n" "$out"
		for m in /proc /sys /dev /dev/pts /run /tmp; do
			printf "%s\n" "$out" | awk -v m="$m" '\''$2 == m { f = 1 } END { exit !f }'\'' || exit 1
		done
		printf "%s\n" "$out" | grep -q "^demo root: up as sh " && printf "%s\n" "$out" | tail -n 1 | grep -qx demo' sh "$root"
else
	echo "skip tree: rcS in new namespaces (unshare -mpfu is not allowed here)"
fi

s=$(now)
mark=$(cat "$root/.demoroot-done")
check "mkdemoroot.sh again: cached" "$here/mkdemoroot.sh" "$root"
echo "     (cached run in $(since "$s"))"
check "mkdemoroot.sh again: marker unchanged" test "$(cat "$root/.demoroot-done")" = "$mark"
notours=$t/notours
mkdir -p "$notours"
: >"$notours/file"
check "mkdemoroot.sh refuses a non-empty foreign directory" sh -c '! "$1" "$2"' sh "$here/mkdemoroot.sh" "$notours"

# --- mkdisk.sh without -p ---
img=$t/plain.img
s=$(now)
line=$("$here/mkdisk.sh" "$root" "$img" 2>"$t/err") || { cat "$t/err" >&2; line=; }
echo "     (plain image in $(since "$s"): $(du -k --apparent-size "$img" 2>/dev/null | awk '{ print $1 }') KiB, $(du -k "$img" 2>/dev/null | awk '{ print $1 }') KiB used: $line)"
check "mkdisk.sh prints UUID=... LABEL=antsroot" sh -c 'printf "%s\n" "$1" | grep -Eqx "UUID=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12} LABEL=antsroot"' sh "$line"
check "plain image: e2fsck -fn" e2fsck -fn "$img"
check "plain image: /etc/hostname is demo" test "$(debugfs -R 'cat /etc/hostname' "$img" 2>/dev/null)" = demo
uuid=$(dumpe2fs -h "$img" 2>/dev/null | awk -F: '$1 == "Filesystem UUID" { gsub(/ /, "", $2); print $2 }')
check "plain image: printed UUID matches dumpe2fs" test "$line" = "UUID=$uuid LABEL=antsroot"
check "plain image: label antsroot" test "$(dumpe2fs -h "$img" 2>/dev/null | awk -F: '$1 == "Filesystem volume name" { gsub(/ /, "", $2); print $2 }')" = antsroot
check "plain image: /sbin/init is a symlink to ../bin/busybox" sh -c 'debugfs -R "stat /sbin/init" "$1" 2>/dev/null | grep -q "Fast link dest: \"../bin/busybox\""' sh "$img"
check "plain image: /tmp mode 1777, owned by root" sh -c 'debugfs -R "stat /tmp" "$1" 2>/dev/null | grep -Eq "Mode: +01777" && debugfs -R "stat /tmp" "$1" 2>/dev/null | grep -Eq "User: +0 +Group: +0"' sh "$img"
check "plain image: sized du + 50% + 32 MiB" sh -c 'kib=$(du -sk "$1" | cut -f1); mib=$(((kib + 1023) / 1024)); test "$(stat -c %s "$2")" = $(((mib + (mib + 1) / 2 + 32) * 1048576))' sh "$root" "$img"
check "mkdisk.sh again overwrites the image" sh -c '"$1" -L again -s 40 "$2" "$3" >/dev/null 2>&1 && test "$(stat -c %s "$3")" = 41943040 && e2fsck -fn "$3"' sh "$here/mkdisk.sh" "$root" "$img"
check "mkdisk.sh refuses a too small -s" sh -c '! "$1" -s 3 "$2" "$3"' sh "$here/mkdisk.sh" "$root" "$t/small.img"
check "mkdisk.sh left no temporary files" sh -c '! ls -A "$1" | grep -q "^\.mkdisk"' sh "$t"
check "mkdisk.sh refuses a missing SRCDIR" sh -c '! "$1" "$2/nonesuch" "$2/x.img"' sh "$here/mkdisk.sh" "$t"

# --- mkdisk.sh -p ---
pimg=$t/part.img
s=$(now)
pline=$("$here/mkdisk.sh" -p -L demoroot "$root" "$pimg" 2>"$t/err") || { cat "$t/err" >&2; pline=; }
echo "     (partitioned image in $(since "$s"): $(du -k --apparent-size "$pimg" 2>/dev/null | awk '{ print $1 }') KiB: $pline)"
check "mkdisk.sh -p prints PARTUUID=... UUID=... LABEL=demoroot" sh -c 'printf "%s\n" "$1" | grep -Eqx "PARTUUID=[0-9a-f]{8}-01 UUID=[0-9a-f-]{36} LABEL=demoroot"' sh "$pline"
sfdisk -d "$pimg" >"$t/sfdisk" 2>&1 || true
check "partitioned image: sfdisk -d shows one partition" test "$(grep -c '^/.*: *start=' "$t/sfdisk")" = 1
check "partitioned image: partition 1 starts at sector 2048, type 83" grep -Eq '^/.*1 : +start= +2048, size= +[0-9]+, type=83' "$t/sfdisk"
start=$(awk -F'start=' 'NF > 1 { split($2, a, ","); gsub(/ /, "", a[1]); print a[1]; exit }' "$t/sfdisk")
sectors=$(awk -F'size=' 'NF > 1 { split($2, a, ","); gsub(/ /, "", a[1]); print a[1]; exit }' "$t/sfdisk")
p1=$t/part1.img
dd if="$pimg" of="$p1" bs=512 skip="${start:-2048}" count="${sectors:-0}" conv=sparse 2>/dev/null || true
check "partition 1: e2fsck -fn" e2fsck -fn "$p1"
check "partition 1: /etc/motd is the demo motd" sh -c 'debugfs -R "cat /etc/motd" "$1" 2>/dev/null | grep -q "^ants demo root (busybox)\."' sh "$p1"
check "partition 1: file system fills the partition" sh -c 'test "$(stat -c %s "$1")" = "$(dumpe2fs -h "$1" 2>/dev/null | awk -F: '\''$1 == "Block count" { c = $2 } $1 == "Block size" { s = $2 } END { print c * s }'\'')"' sh "$p1"
puuid=$(dumpe2fs -h "$p1" 2>/dev/null | awk -F: '$1 == "Filesystem UUID" { gsub(/ /, "", $2); print $2 }')
ptuuid=$(blkid -p -o value -s PTUUID "$pimg" 2>/dev/null || true)
check "partitioned image: printed line matches blkid and dumpe2fs" test "$pline" = "PARTUUID=$ptuuid-01 UUID=$puuid LABEL=demoroot"
check "partitioned image: blkid -p sees no file system at offset 0" sh -c '! blkid -p -s TYPE "$1" | grep -q ext4' sh "$pimg"

finish
