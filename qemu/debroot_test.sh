#!/bin/sh
# debroot_test.sh: self-test of mkdebroot.sh. Builds a Debian root in a
# temporary directory (or, when DEBROOT is set, builds or reuses the tree at
# $DEBROOT) and checks it: systemd as /sbin/init, the console-getty autologin
# drop-in, the masked units, ants-ready.service enabled, the small-tree pruning,
# and, in a chroot, `systemctl --version`, `systemctl is-enabled` and
# `systemd-analyze verify`. Systemd is not booted here (that needs ants in
# QEMU). Without DEBROOT it also checks that a second run is a no-op, that an
# outdated tree is rebuilt, and that an interrupted build leaves neither DIR nor
# DIR.tmp (this builds the tree three times, about a minute each).
# Run as root. Prints "N passed, M failed"; exits non-zero on any failure.
# Set DEBROOT_TEST_KEEP=1 to keep the temporary directory.
#
# Needs (Debian packages): debootstrap (mkdebroot.sh installs it), coreutils,
# util-linux (setsid), and network access to the Debian mirror.
# shellcheck disable=SC2016 # sh -c '...' scripts get their arguments as $1...
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
PATH=$PATH:/usr/sbin:/sbin
[ "$(id -u)" = 0 ] || { echo "debroot_test: run as root (mkdebroot.sh runs debootstrap)" >&2; exit 1; }

NAME=debroot_test KEEP=${DEBROOT_TEST_KEEP:-}
# shellcheck source=qemu/testlib.sh
. "$here/testlib.sh"
mounts_under() { awk -v d="$1" '$2 == d || index($2, d "/") == 1' /proc/self/mounts; }
no_mounts_under() { [ -z "$(mounts_under "$1")" ]; }

fresh=""
if [ -n "${DEBROOT:-}" ]; then
	root=$DEBROOT
else
	root=$t/root
	fresh=1
fi

# --- usage errors (fast, no network) ---
check "mkdebroot.sh without DIR fails with usage" sh -c 'out=$("$1" 2>&1) && exit 1; echo "$out" | grep -q "usage: mkdebroot.sh DIR"' sh "$here/mkdebroot.sh"
mkdir -p "$t/foreign" && echo x >"$t/foreign/file"
check "mkdebroot.sh refuses a non-empty directory it did not make" sh -c '
	out=$("$1" "$2" 2>&1) && exit 1
	printf "%s\n" "$out"; echo "$out" | grep -q "not empty" && [ -f "$2/file" ] && [ ! -e "$2.tmp" ]' sh "$here/mkdebroot.sh" "$t/foreign"

# --- interrupted build (fresh mode only) ---
if [ -n "$fresh" ]; then
	s=$(now)
	# its own session, so that TERM goes to the whole group as a ^C would
	mkdir -p "$t/intlog"
	TMPDIR=$t/intlog setsid "$here/mkdebroot.sh" "$t/int" >"$t/int.out" 2>&1 &
	pid=$!
	sleep 25
	kill -TERM "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	echo "     (TERM after 25s, exited after $(since "$s"); debootstrap was at: $(grep '^I:' "$t"/intlog/*.log 2>/dev/null | tail -n 1))"
	sed 's/^/     | /' "$t/int.out" | tail -n 2
	check "interrupted build: no DIR" test ! -e "$t/int"
	check "interrupted build: no DIR.tmp" test ! -e "$t/int.tmp"
	check "interrupted build: nothing left mounted" no_mounts_under "$t/int.tmp"
fi

# --- build ---
s=$(now)
check "mkdebroot.sh builds $root" "$here/mkdebroot.sh" "$root"
echo "     (built in $(since "$s"), $(du -sh "$root" | awk '{ print $1 }'))"
sed 's/^/     | /' "$t/out" | tail -n 1
check "no DIR.tmp left" test ! -e "$root.tmp"
check "nothing mounted under the tree" no_mounts_under "$root"
check ".debroot-done holds the script's sha256" test "$(cat "$root/.debroot-done")" = "$(sha256sum "$here/mkdebroot.sh" | awk '{ print $1 }')"
s=$(now)
check "second run is a no-op" sh -c '"$1" "$2" 2>&1 | grep -q "up to date"' sh "$here/mkdebroot.sh" "$root"
echo "     (in $(since "$s"))"

# --- tree ---
# (resolved inside the tree: the link is absolute)
check "/sbin/init resolves to systemd" sh -c 'case $(chroot "$1" readlink -f /sbin/init) in /usr/lib/systemd/systemd|/lib/systemd/systemd) ;; *) chroot "$1" readlink -f /sbin/init; exit 1 ;; esac' sh "$root"
check "systemd is executable" test -x "$root/lib/systemd/systemd"
check "/sbin/agetty and /bin/login exist" test -x "$root/sbin/agetty" -a -x "$root/bin/login"
d=$root/etc/systemd/system
conf=$d/console-getty.service.d/autologin.conf
check "autologin drop-in resets ExecStart" grep -qxF 'ExecStart=' "$conf"
check "autologin drop-in runs agetty --autologin root on console" \
	grep -qxF 'ExecStart=-/sbin/agetty --noclear --autologin root --keep-baud console 115200,38400,9600 $TERM' "$conf"
check "console-getty.service is in getty.target.wants" test -e "$d/getty.target.wants/console-getty.service"
for u in serial-getty@ttyS0.service getty@tty1.service systemd-firstboot.service systemd-journal-flush.service; do
	check "$u is masked (-> /dev/null)" test "$(readlink "$d/$u")" = /dev/null
done
check "journald: Storage=volatile" grep -qx 'Storage=volatile' "$root/etc/systemd/journald.conf.d/ants.conf"
check "ants-ready.service: oneshot, prints the marker on /dev/console" sh -c '
	grep -qx "Type=oneshot" "$1" && grep -qx "WantedBy=multi-user.target" "$1" &&
	grep -q "echo \"ants-debian: multi-user reached\" >/dev/console" "$1"' sh "$d/ants-ready.service"
check "ants-ready.service is in multi-user.target.wants" test -e "$d/multi-user.target.wants/ants-ready.service"
check "/etc/hostname is debian" test "$(cat "$root/etc/hostname")" = debian
check "/etc/hosts names debian" grep -q '^127\.0\.1\.1[[:space:]]*debian$' "$root/etc/hosts"
check "/etc/fstab is empty" test ! -s "$root/etc/fstab"
check "/etc/machine-id is empty" test -f "$root/etc/machine-id" -a ! -s "$root/etc/machine-id"
check "root's password is empty" sh -c 'grep -q "^root::" "$1/etc/shadow"' sh "$root"
check "/root/.profile prints nothing" sh -c '! grep -qE "^[^#]*(echo|printf|mesg)" "$1/root/.profile"' sh "$root"
check "apt lists and caches are gone" sh -c '
	[ -z "$(find "$1/var/lib/apt/lists" -type f)" ] && [ -z "$(find "$1/var/cache/apt" -name "*.bin" -o -name "*.deb")" ]' sh "$root"
check "no man pages" sh -c '[ -z "$(find "$1/usr/share/man" ! -type d 2>/dev/null)" ]' sh "$root"
check "usr/share/doc holds only copyright files" sh -c '[ -z "$(find "$1/usr/share/doc" ! -type d ! -name copyright 2>/dev/null)" ]' sh "$root"
check "usr/share/locale holds only locale.alias and C" sh -c '[ -z "$(ls -A "$1/usr/share/locale" | grep -v -e "^locale.alias$" -e "^C$" -e "^C\.")" ]' sh "$root"
check "dpkg keeps docs out of later installs" test -f "$root/etc/dpkg/dpkg.cfg.d/ants-nodoc"
check "tree is owned by root" test "$(stat -c %u:%g "$root/lib/systemd/systemd")" = 0:0

# --- in a chroot (offline; systemd is not booted) ---
check "chroot: systemctl --version" sh -c 'chroot "$1" systemctl --version | head -n 1 | grep -q "^systemd [0-9]"' sh "$root"
echo "     | $(chroot "$root" systemctl --version | head -n 1)"
check "chroot: ants-ready.service is enabled" sh -c 'test "$(chroot "$1" systemctl is-enabled ants-ready.service)" = enabled' sh "$root"
check "chroot: console-getty.service is enabled" sh -c 'test "$(chroot "$1" systemctl is-enabled console-getty.service)" = enabled' sh "$root"
check "chroot: serial-getty@ttyS0.service is masked" sh -c 'test "$(chroot "$1" systemctl is-enabled serial-getty@ttyS0.service)" = masked' sh "$root"
# `verify` loads the units offline; --man=no since the man pages are pruned.
if chroot "$root" systemd-analyze verify --man=no basic.target >"$t/out" 2>&1; then
	check "chroot: systemd-analyze verify ants-ready.service" chroot "$root" systemd-analyze verify --man=no ants-ready.service
	check "chroot: systemd-analyze verify console-getty.service (with the drop-in)" chroot "$root" systemd-analyze verify --man=no console-getty.service
	check "chroot: systemd-analyze verify default.target" chroot "$root" systemd-analyze verify --man=no default.target
else
	echo "skip systemd-analyze verify does not work in a chroot here:"
	sed 's/^/     | /' "$t/out" | head -n 5
fi
check "chroot: root's login shell starts" sh -c 'test "$(chroot "$1" /bin/sh -lc "echo \$((6*7))")" = 42' sh "$root"

# --- outdated tree is rebuilt (fresh mode only) ---
if [ -n "$fresh" ]; then
	echo outdated >"$root/.debroot-done"
	touch "$root/stale-file"
	mkdir -p "$root.tmp" && touch "$root.tmp/junk"
	s=$(now)
	check "outdated tree is rebuilt" "$here/mkdebroot.sh" "$root"
	echo "     (in $(since "$s"))"
	check "rebuilt: old file gone, marker current, no DIR.tmp or DIR.old" sh -c '
		[ ! -e "$1/stale-file" ] && [ ! -e "$1.tmp" ] && [ ! -e "$1.old" ] &&
		[ "$(cat "$1/.debroot-done")" = "$(sha256sum "$2" | cut -d " " -f 1)" ]' sh "$root" "$here/mkdebroot.sh"
fi

finish
