#!/bin/sh
# mkdemoroot.sh DIR: build a small but real root file system tree in DIR from
# Debian's busybox-static package: /bin/busybox with a symlink per applet,
# busybox init as /sbin/init with an inittab and an rcS that mounts the API
# file systems, and a few files under /etc. The package is only unpacked
# (apt-get download + dpkg-deb -x), never installed on this machine.
#
# Needs (Debian packages): apt, dpkg (dpkg-deb), coreutils. Run as root, so that
# the tree is owned by root (mkdisk.sh then keeps that ownership).
#
# DIR/.demoroot-done records the busybox-static version the tree was built from;
# when it equals apt's current candidate, this exits at once. A tree made from
# an older version is updated in place.
set -eu

prog=mkdemoroot
die() {
	echo "$prog: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: mkdemoroot.sh DIR (DIR: a new or empty directory, or one this script made)"
dir=$1
[ -n "$dir" ] || die "DIR is empty; give a directory path"
pkg=busybox-static
done_mark=.demoroot-done
busy_mark=.demoroot-building

command -v apt-cache >/dev/null 2>&1 || die "apt-cache not found; this needs a Debian machine with apt"
command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb not found; run: apt-get install -y --no-install-recommends dpkg"

cand=$(apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')
if [ -f "$dir/$done_mark" ]; then
	have=$(cat "$dir/$done_mark")
	if [ -n "$cand" ] && [ "$cand" != "(none)" ] && [ "$have" = "$pkg $cand" ]; then
		exit 0
	fi
	if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
		echo "$prog: apt knows no candidate for $pkg (run apt-get update to check for a newer one); keeping $dir ($have)" >&2
		exit 0
	fi
fi
if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
	die "apt knows no candidate for $pkg; run: apt-get update"
fi
[ "$(id -u)" = 0 ] || die "run as root (the tree must be owned by root, and apt-get download drops to user _apt)"

# Refuse to unpack into a directory that holds something else.
if [ -d "$dir" ] && [ ! -f "$dir/$done_mark" ] && [ ! -f "$dir/$busy_mark" ] &&
	[ -n "$(ls -A "$dir")" ]; then
	die "$dir is not empty and was not made by mkdemoroot.sh; give a new or empty directory"
fi
[ -e "$dir" ] && [ ! -d "$dir" ] && die "$dir exists and is not a directory; give a directory path"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
[ "$dir" != / ] || die "refusing to build into /; give another directory"

umask 022
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkdemoroot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
# apt-get download drops to user _apt, which must be able to write here.
chmod 755 "$tmp"
if id _apt >/dev/null 2>&1; then
	chown _apt "$tmp"
fi

: >"$dir/$busy_mark"
rm -f "$dir/$done_mark"

echo "$prog: fetching $pkg $cand" >&2
(cd "$tmp" && apt-get download -q=2 "$pkg=$cand") ||
	die "apt-get download $pkg=$cand failed; run apt-get update, then try again"
set -- "$tmp"/*.deb
[ -f "$1" ] || die "apt-get download left no .deb in $tmp; run apt-get update, then try again"
dpkg-deb -x "$1" "$dir" || die "dpkg-deb -x $1 failed; remove $dir and try again"
[ -x "$dir/bin/busybox" ] || die "$pkg has no /bin/busybox; this script expects Debian's busybox-static"

"$dir/bin/busybox" --list-full >"$tmp/applets" 2>/dev/null ||
	die "cannot run $dir/bin/busybox (it is an amd64 binary); run this on an amd64 machine"
[ -s "$tmp/applets" ] || die "$dir/bin/busybox --list-full printed nothing"

# One relative symlink per applet, e.g. usr/sbin/chroot -> ../../bin/busybox.
while IFS= read -r path; do
	case $path in "" | /* | *..*) continue ;; esac
	[ "$path" = bin/busybox ] && continue
	if [ -e "$dir/$path" ] || [ -L "$dir/$path" ]; then
		continue
	fi
	up=$(printf '%s\n' "$path" | awk -F/ '{ for (i = 1; i < NF; i++) printf "../" }')
	mkdir -p "$dir/$(dirname "$path")"
	ln -s "${up}bin/busybox" "$dir/$path"
done <"$tmp/applets"
if [ ! -e "$dir/sbin/init" ] && [ ! -L "$dir/sbin/init" ]; then
	mkdir -p "$dir/sbin"
	ln -s ../bin/busybox "$dir/sbin/init"
fi

for d in root tmp proc sys dev run mnt etc/init.d; do
	mkdir -p "$dir/$d"
done
chmod 1777 "$dir/tmp"
chmod 700 "$dir/root"

cat >"$dir/etc/inittab" <<'EOF'
# busybox init: see busybox's examples/inittab
::sysinit:/etc/init.d/rcS
::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/sync
::shutdown:/bin/umount -a -r
EOF

cat >"$dir/etc/init.d/rcS" <<'EOF'
#!/bin/sh
# rcS: run once by busybox init (::sysinit). Mounts what is not mounted yet.
PATH=/sbin:/usr/sbin:/bin:/usr/bin
export PATH

mounted() {
	awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts 2>/dev/null
}
mnt() { # mnt TYPE DIR [OPTIONS]
	mounted "$2" && return 0
	mkdir -p "$2"
	mount -t "$1" ${3:+-o "$3"} "$1" "$2" || echo "rcS: cannot mount $1 on $2" >&2
}

[ -e /proc/mounts ] || mount -t proc proc /proc || echo "rcS: cannot mount proc on /proc" >&2
mnt sysfs /sys
mnt devtmpfs /dev mode=0755
mnt devpts /dev/pts gid=5,mode=620,ptmxmode=666
mnt tmpfs /run mode=0755
mnt tmpfs /tmp mode=1777

[ -s /etc/hostname ] && hostname -F /etc/hostname

echo "demo root: up as $(cat /proc/1/comm 2>/dev/null || echo '?') (PID 1 of its namespace), hostname $(hostname)"
EOF
chmod 755 "$dir/etc/init.d/rcS"

echo demo >"$dir/etc/hostname"
cat >"$dir/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
EOF
cat >"$dir/etc/group" <<'EOF'
root:x:0:
tty:x:5:
EOF
cat >"$dir/etc/profile" <<'EOF'
PATH=/sbin:/usr/sbin:/bin:/usr/bin
PS1='demo# '
HOME=${HOME:-/root}
export PATH PS1 HOME
case $- in *i*) [ -r /etc/motd ] && cat /etc/motd ;; esac
EOF
echo "ants demo root (busybox). poweroff or reboot end the machine; Ctrl-] a switches to the admin shell." >"$dir/etc/motd"

echo "$pkg $cand" >"$dir/$done_mark"
rm -f "$dir/$busy_mark"
echo "$prog: $dir: demo root from $pkg $cand" >&2
