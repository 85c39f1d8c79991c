#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# board-initramfs.sh ROOT TOOLS GUEST [DKMS_ROOT]
# Prints the gen_init_cpio list of the board boot's initramfs (without the
# FastRPC library's part, which scripts/guest-library.sh appends):
#   - /init and /bin/qdactl from GUEST, the guest target directory of
#     scripts/build-guest.sh (guest/qda-init: qda_mode=board; release/qdactl);
#   - ROOT/lib/modules/<release>: the board kernel's modules and qda as
#     `make modules_install` installed them, indexed by the host's depmod;
#   - DKMS_ROOT's tree (if given) at /dkms: qda as dkms built it, loaded
#     later with `modprobe -d /dkms`;
#   - udev (systemd-udevd, udevadm) and kmod (modprobe) with their
#     libraries from TOOLS (Debian's arm64 packages), udev's own
#     80-drivers.rules (modalias autoload);
#   - the shipped packaging/ files where an integrator installs them, and
#     /etc/passwd, /etc/group with the group `fastrpc` and an app user.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROOT=$1 TOOLS=$2 GUEST=$3 DKMS_ROOT=${4:-}

cat <<LIST
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /tmp 1777 0 0
dir /run 0755 0 0
dir /bin 0755 0 0
dir /sbin 0755 0 0
dir /lib 0755 0 0
dir /lib/modules 0755 0 0
dir /etc 0755 0 0
file /init $GUEST/guest/qda-init 0755 0 0
file /bin/qdactl $GUEST/release/qdactl 0755 0 0
LIST

tree() { # host-dir guest-dir
    local f rel
    (cd "$1" && find . -mindepth 1 -type d | LC_ALL=C sort) | while read -r rel; do
        echo "dir $2/${rel#./} 0755 0 0"
    done
    (cd "$1" && find . -type f | LC_ALL=C sort) | while read -r rel; do
        echo "file $2/${rel#./} $1/${rel#./} 0644 0 0"
    done
}
tree "$ROOT/lib/modules" /lib/modules
if [ -n "$DKMS_ROOT" ] && [ -d "$DKMS_ROOT/lib/modules" ]; then
    for d in /dkms /dkms/lib /dkms/lib/modules; do echo "dir $d 0755 0 0"; done
    tree "$DKMS_ROOT/lib/modules" /dkms/lib/modules
fi

# udev and kmod, and the libraries they need (flat in /lib, where the
# library part also puts glibc).
echo "file /bin/udevadm $TOOLS/bin/udevadm 0755 0 0"
echo "file /bin/kmod $TOOLS/bin/kmod 0755 0 0"
for t in modprobe depmod lsmod modinfo rmmod; do echo "slink /sbin/$t /bin/kmod 0777 0 0"; done
echo "dir /lib/systemd 0755 0 0"
echo "slink /lib/systemd/systemd-udevd /bin/udevadm 0777 0 0"
for l in libacl.so.1 libblkid.so.1 libcap.so.2 libkmod.so.2 libselinux.so.1 libpcre2-8.so.0 \
         libzstd.so.1 liblzma.so.5 libcrypto.so.3; do
    f=$(find "$TOOLS/lib" "$TOOLS/usr/lib" -name "$l" | head -n1)
    [ -n "$f" ] || die "$l not in $TOOLS"
    echo "file /lib/$l $(readlink -f "$f") 0755 0 0"
done
for d in /lib/udev /lib/udev/rules.d /etc/udev /etc/udev/rules.d /etc/modprobe.d /usr/lib/sysusers.d; do
    case $d in /usr/lib/sysusers.d) echo "dir /usr 0755 0 0"; echo "dir /usr/lib 0755 0 0" ;; esac
    echo "dir $d 0755 0 0"
done
echo "file /lib/udev/rules.d/80-drivers.rules $TOOLS/lib/udev/rules.d/80-drivers.rules 0644 0 0"

# The shipped files, installed where `make install-files` installs them.
P=$QDA_ROOT/packaging
echo "file /etc/udev/rules.d/60-qda.rules $P/udev/60-qda.rules 0644 0 0"
echo "file /etc/modprobe.d/qda.conf $P/modprobe.d/qda.conf 0644 0 0"
echo "file /usr/lib/sysusers.d/qda.conf $P/sysusers.d/qda.conf 0644 0 0"

# Accounts: the group comes from the shipped sysusers.d line (as
# systemd-sysusers would create it), the app user is the suites' uid 1000.
B=${QDA_OUT:-$QDA_ROOT/build}/board
group=$(awk '$1 == "g" { print $2; exit }' "$P/sysusers.d/qda.conf")
[ -n "$group" ] || die "packaging/sysusers.d/qda.conf creates no group"
printf 'root:x:0:0:root:/:/bin/sh\napp:x:1000:1000:app:/tmp:/bin/sh\n' > "$B/passwd"
printf 'root:x:0:\napp:x:1000:\n%s:x:990:app\n' "$group" > "$B/group"
echo "file /etc/passwd $B/passwd 0644 0 0"
echo "file /etc/group $B/group 0644 0 0"
