#!/bin/sh
# mkdebroot.sh DIR: build a minimal Debian bookworm root with systemd as init
# into DIR with debootstrap (--variant=minbase plus systemd, udev, dbus,
# iproute2, procps, kmod), set up to boot as a container-like root under ants:
#
#   - console-getty.service (which systemd starts on /dev/console in a
#     container) logs root in automatically; root's password is empty;
#     serial-getty@ttyS0, getty@tty1, systemd-firstboot and
#     systemd-journal-flush are masked; the journal is volatile
#   - /etc/hostname "debian", /etc/hosts, an empty /etc/fstab (ants mounts the
#     root), an empty /etc/machine-id (a fresh one per boot)
#   - ants-ready.service (enabled, wanted by multi-user.target) prints
#     "ants-debian: multi-user reached" on /dev/console, for tests to wait for
#   - apt lists and caches, docs, man pages and locales (but C) removed; dpkg
#     is told not to install them again
#
# The mirror is the host's Debian mirror for bookworm (from
# /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; default
# http://deb.debian.org/debian); set MIRROR to override.
#
# DIR/.debroot-done holds the sha256 of this script; when it matches, this
# exits at once. Otherwise the tree is built in DIR.tmp and renamed to DIR only
# when complete, so an interrupted build never leaves a tree looking finished.
# DIR must be absent, empty, or made by this script.
#
# Run as root (debootstrap needs it). Needs (Debian packages): debootstrap
# (installed by this script when missing), debian-archive-keyring, coreutils,
# util-linux. Prints the tree's size and the build time at the end.
set -eu

prog=mkdebroot
said=""
die() {
	echo "$prog: $*" >&2
	said=1
	exit 1
}
PATH=$PATH:/usr/sbin:/sbin
suite=bookworm
pkgs=systemd,systemd-sysv,udev,dbus,iproute2,procps,kmod
done_mark=.debroot-done

[ $# -eq 1 ] || die "usage: mkdebroot.sh DIR (DIR: a new or empty directory, or one this script made)"
[ -n "$1" ] || die "DIR is empty; give a directory path"
self=$(cd "$(dirname "$0")" && pwd -P)/$(basename "$0")
sum=$(sha256sum "$self" | awk '{ print $1 }')

# Absolute DIR without trailing slashes (DIR.tmp must be a sibling, not a child).
dir=$(printf '%s\n' "$1" | sed 's:/*$::')
[ -n "$dir" ] || die "DIR may not be /; give a new directory path"
parent=$(dirname "$dir")
mkdir -p "$parent" || die "cannot create $parent; check the path and permissions"
dir=$(cd "$parent" && pwd -P)/$(basename "$dir")

if [ -f "$dir/$done_mark" ] && [ "$(cat "$dir/$done_mark")" = "$sum" ]; then
	echo "$prog: $dir is up to date" >&2
	exit 0
fi
if [ -e "$dir" ] && [ ! -f "$dir/$done_mark" ]; then
	[ -d "$dir" ] || die "$dir exists and is not a directory; remove it or give another path"
	[ -z "$(ls -A "$dir")" ] || die "$dir is not empty and was not made by mkdebroot.sh; remove it or give another path"
fi

start=$(date +%s)
[ "$(id -u)" = 0 ] || {
	command -v debootstrap >/dev/null 2>&1 ||
		die "debootstrap not found; run as root: apt-get install -y --no-install-recommends debootstrap, then run this as root"
	die "debootstrap needs root; run this as root"
}

# --- debootstrap, installed from the host's archive when missing ---
need=""
command -v debootstrap >/dev/null 2>&1 || need="$need debootstrap"
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need="$need debian-archive-keyring"
if [ -n "$need" ]; then
	echo "$prog: installing$need" >&2
	set -- /var/lib/apt/lists/*_Packages*
	if [ ! -e "$1" ]; then
		apt-get update -q >&2 || die "apt-get update failed; check the host's apt sources and network"
	fi
	# shellcheck disable=SC2086 # $need is a list of words
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need >&2 ||
		{ apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need >&2; } ||
		die "could not install$need; run: apt-get update && apt-get install -y --no-install-recommends$need"
fi

# --- the host's Debian mirror ---
# An entry counts if its suites hold "bookworm", its components "main", and it
# is signed by Debian's archive keyring or names no key (third-party archives
# such as Docker's also use the suite name bookworm but bring their own key).
host_mirror() {
	if [ -f /etc/apt/sources.list ]; then
		awk '
			{ sub(/#.*/, "") }
			$1 != "deb" { next }
			{
				line = $0; sub(/^[ \t]*deb[ \t]+/, "", line); opts = ""
				if (line ~ /^\[/) { opts = line; sub(/\].*/, "", opts); sub(/^[^]]*\][ \t]*/, "", line) }
				n = split(line, f, /[ \t]+/)
				if (n < 3 || f[2] != "bookworm") next
				main = 0; for (i = 3; i <= n; i++) if (f[i] == "main") main = 1
				if (!main) next
				if (opts ~ /signed-by=/ && opts !~ /signed-by=[^ \t]*debian-archive/) next
				print f[1]; exit
			}' /etc/apt/sources.list
	fi
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
			function has(list, word,   n, i, w) { n = split(list, w, /[ \t]+/); for (i = 1; i <= n; i++) if (w[i] == word) return 1; return 0 }
			function flush() {
				if (uris != "" && has(types, "deb") && has(suites, "bookworm") && has(comps, "main") &&
				    tolower(enabled) != "no" && (signed == "" || signed ~ /debian-archive/)) { split(uris, u, /[ \t]+/); print u[1]; found = 1 }
				types = uris = suites = comps = enabled = signed = ""
			}
			/^#/ { next }
			/^[ \t]*$/ { flush(); if (found) exit; next }
			{
				key = $0; sub(/:.*/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
				key = tolower(key)
				if (key == "types") types = val; else if (key == "uris") uris = val
				else if (key == "suites") suites = val; else if (key == "components") comps = val
				else if (key == "enabled") enabled = val; else if (key == "signed-by") signed = val
			}
			END { if (!found) flush() }' "$f"
	done
}
mirror=${MIRROR:-$(host_mirror | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}

# --- build in DIR.tmp ---
tmp=$dir.tmp
log=$(mktemp "${TMPDIR:-/tmp}/mkdebroot.XXXXXX.log")
# unmount whatever debootstrap (or a killed earlier run) left mounted in $1,
# deepest first; then remove it without crossing into other file systems.
remove_tree() {
	[ -e "$1" ] || return 0
	awk -v t="$1" '$2 == t || index($2, t "/") == 1 { print $2 }' /proc/self/mounts | sort -r |
		while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
	rm -rf --one-file-system "$1"
}
built=""
cleanup() {
	if [ -z "$built" ]; then
		remove_tree "$tmp" || true
		[ -n "$said" ] || echo "$prog: build failed (see the messages above and $log); fix that and run this again" >&2
	else
		rm -f "$log"
	fi
}
trap cleanup EXIT
trap 'said=1; echo "$prog: interrupted; $dir is unchanged, run this again to build it" >&2; exit 1' HUP INT TERM
remove_tree "$tmp"
mkdir -p "$tmp"

echo "$prog: debootstrap $suite from $mirror into $tmp" >&2
if ! debootstrap --variant=minbase --include="$pkgs" --components=main "$suite" "$tmp" "$mirror" >"$log" 2>&1; then
	tail -n 20 "$log" | sed 's/^/    /' >&2
	[ -f "$tmp/debootstrap/debootstrap.log" ] && cp "$tmp/debootstrap/debootstrap.log" "$log.debootstrap"
	die "debootstrap failed (output above; full log in $log); check that $mirror is reachable, or set MIRROR"
fi
# debootstrap unmounts what it mounted; make sure nothing is left.
awk -v t="$tmp" 'index($2, t "/") == 1 { print $2 }' /proc/self/mounts | sort -r |
	while read -r m; do umount "$m"; done
[ -x "$tmp/lib/systemd/systemd" ] || die "debootstrap left no /lib/systemd/systemd in $tmp; see $log"

# --- configure for ants ---
r=$tmp
sys=$r/etc/systemd/system

# console-getty.service logs root in; no other gettys.
mkdir -p "$sys/console-getty.service.d" "$sys/getty.target.wants" "$sys/multi-user.target.wants"
cat >"$sys/console-getty.service.d/autologin.conf" <<'EOF'
# mkdebroot.sh: log root in on /dev/console without a password prompt.
[Service]
ExecStart=
ExecStart=-/sbin/agetty --noclear --autologin root --keep-baud console 115200,38400,9600 $TERM
EOF
[ -f "$r/lib/systemd/system/console-getty.service" ] || die "systemd in $tmp has no console-getty.service; this script needs updating for it"
ln -sf /lib/systemd/system/console-getty.service "$sys/getty.target.wants/console-getty.service"
for u in serial-getty@ttyS0.service getty@tty1.service systemd-firstboot.service systemd-journal-flush.service; do
	rm -f "$sys/getty.target.wants/$u"
	ln -sf /dev/null "$sys/$u"
done
chroot "$r" passwd -d root >/dev/null

mkdir -p "$r/etc/systemd/journald.conf.d"
cat >"$r/etc/systemd/journald.conf.d/ants.conf" <<'EOF'
# mkdebroot.sh: keep the journal in /run only.
[Journal]
Storage=volatile
EOF

cat >"$sys/ants-ready.service" <<'EOF'
# mkdebroot.sh: tell whoever watches the console (tests) that boot is done.
[Unit]
Description=Say on the console that the system is up (for ants tests)
After=basic.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "ants-debian: multi-user reached" >/dev/console'

[Install]
WantedBy=multi-user.target
EOF
ln -sf ../ants-ready.service "$sys/multi-user.target.wants/ants-ready.service"

echo debian >"$r/etc/hostname"
cat >"$r/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	debian
::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
EOF
: >"$r/etc/fstab"
# Empty: systemd makes a new machine ID at each boot, so copies of this tree
# do not share one.
: >"$r/etc/machine-id"
rm -f "$r/var/lib/dbus/machine-id"

cat >"$r/root/.profile" <<'EOF'
# ~/.profile: executed by Bourne-compatible login shells.
if [ "${BASH-}" ] && [ -f ~/.bashrc ]; then
	. ~/.bashrc
fi
EOF

# --- make it small ---
mkdir -p "$r/etc/dpkg/dpkg.cfg.d"
cat >"$r/etc/dpkg/dpkg.cfg.d/ants-nodoc" <<'EOF'
# mkdebroot.sh: no docs, man pages or translations (copyright files are kept).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete 2>/dev/null || true
find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$r/usr/share/man/"* "$r/usr/share/info/"*
find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'C' ! -name 'C.*' ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
rm -rf "$r/var/lib/apt/lists/"* "$r/var/cache/apt/"*.bin "$r/var/cache/apt/archives/"*.deb \
	"$r/var/cache/debconf/"*-old "$r/var/lib/dpkg/"*-old "$r/var/log/"*.log "$r/var/log/apt/"* \
	"$r/run/"* "$r/tmp/"* "$r/tmp/".[!.]* "$r/var/tmp/"*
mkdir -p "$r/var/lib/apt/lists/partial"

echo "$sum" >"$r/$done_mark"

# --- put it in place ---
if [ -d "$dir" ]; then
	# either empty or an outdated tree made by this script
	if [ -f "$dir/$done_mark" ]; then
		remove_tree "$dir.old"
		mv "$dir" "$dir.old"
	else
		rmdir "$dir" || die "cannot replace the empty directory $dir (a mount point?); give a path that does not exist"
	fi
fi
mv "$tmp" "$dir"
built=1
remove_tree "$dir.old"
end=$(date +%s)
echo "$prog: built $dir ($(du -sh "$dir" | awk '{ print $1 }'), $((end - start))s, mirror $mirror)"
