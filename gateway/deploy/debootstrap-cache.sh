#!/usr/bin/env bash
# Makes the cached Debian bookworm root of one architecture that the install
# checks start from (debootstrap, minbase + systemd/udev; ~100 s for arm64 on
# 2 cores, once). Usage: debootstrap-cache.sh arm64|amd64
set -euo pipefail
ARCH=${1:?usage: debootstrap-cache.sh arm64|amd64}
CACHE=${TIDEGATE_CACHE:-$HOME/.cache/tidegate-deploy}
SUITE=bookworm MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ROOTFS=$CACHE/debootstrap-$SUITE-$ARCH.tar
[ -f "$ROOTFS" ] && exit 0
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
[ "$ARCH" = amd64 ] || command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# arm64: debootstrap's second stage runs arm64 programs in the root, so every exec
# must be emulated: the kernel needs qemu-user-static's binfmt handler (F flag: it
# works inside a chroot). Registered here if missing.
if [ "$ARCH" = arm64 ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
fi
B=$(mktemp -d /tmp/tidegate-debootstrap-XXXXXX)
trap 'rm -rf "$B"' EXIT
debootstrap --arch="$ARCH" --variant=minbase --include=systemd,udev,libstdc++6,passwd \
  "$SUITE" "$B/root" "$MIRROR" >"$B/log" 2>&1 || { tail -30 "$B/log" >&2; exit 1; }
mkdir -p "$CACHE"
tar -C "$B/root" -cf "$ROOTFS.$$" . && mv "$ROOTFS.$$" "$ROOTFS"
