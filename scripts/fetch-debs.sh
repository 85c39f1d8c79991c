#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-debs.sh NAME PACKAGE...
# Downloads Debian packages (apt-get download, e.g. udev:arm64) without
# installing them and unpacks them all into one tree, cached as
# $QDA_CACHE/debs-NAME-<hash of the list>/root. Prints that root on stdout;
# progress on stderr. Used for what the guest needs from Debian's arm64
# archive (udev, kmod and their libraries) and for Debian's kernel headers
# package, which the tests show qda refusing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
exec 3>&1 1>&2
NAME=$1
shift
key=$(printf '%s\n' "$@" | sha256sum | cut -c1-12)
DIR="$QDA_CACHE/debs-$NAME-$key"
if [ -f "$DIR/done" ]; then
    echo "$DIR/root" >&3
    exit 0
fi
step "fetching Debian packages for $NAME: $*"
rm -rf "$DIR" "$QDA_CACHE"/debs-"$NAME"-*
mkdir -p "$DIR/debs"
chmod 777 "$DIR/debs"    # apt downloads as its sandbox user _apt
(cd "$DIR/debs" && apt-get download -q "$@" >/dev/null 2>&1) || {
    (cd "$DIR/debs" && apt-get download -q "$@") || true
    die "apt-get download failed for: $*"
}
for d in "$DIR"/debs/*.deb; do
    dpkg-deb -x "$d" "$DIR/root"
done
touch "$DIR/done"
info "unpacked $(ls "$DIR"/debs | wc -l) packages into $DIR/root"
echo "$DIR/root" >&3
