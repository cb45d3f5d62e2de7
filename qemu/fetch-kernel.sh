#!/bin/sh
# fetch-kernel.sh DIR: put Debian's current amd64 kernel and its modules under DIR
# (DIR/vmlinuz, DIR/lib/modules/RELEASE) without installing it on the host.
# Uses `apt-get download` + `dpkg-deb -x`, so it needs only Debian's archive.
set -eu
dir=${1:?usage: fetch-kernel.sh DIR}
mkdir -p "$dir"
if [ -f "$dir/vmlinuz" ] && [ -d "$dir/lib/modules" ]; then
	exit 0
fi
# linux-image-amd64 is a metapackage; it depends on the real, versioned one.
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
if [ -z "$pkg" ]; then
	echo "fetch-kernel: apt knows no linux-image-amd64; run 'apt-get update' and try again" >&2
	exit 1
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"  # apt-get download drops privileges to _apt
trap 'rm -rf "$tmp"' EXIT
echo "fetch-kernel: downloading $pkg"
(cd "$tmp" && apt-get download -q "$pkg" >/dev/null)
dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/x"
rel=$(ls "$tmp/x/lib/modules")
rm -rf "$dir/lib"
mkdir -p "$dir/lib"
mv "$tmp/x/lib/modules" "$dir/lib/modules"
cp "$tmp/x/boot/vmlinuz-$rel" "$dir/vmlinuz.tmp"
mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
echo "fetch-kernel: $rel in $dir"
