# Shared by deb-install-check.sh and image-hooks-check.sh (sourced, not run):
# host packages, binfmt for arm64, the cached debootstrap root, fresh roots, check().
# Needs DEB set; sets ARCH, CACHE, ROOTFS.
ARCH=$(dpkg-deb -f "$DEB" Architecture)
CACHE=${TIDEGATE_CACHE:-$HOME/.cache/tidegate-deploy}
SUITE=bookworm MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ROOTFS=$CACHE/debootstrap-$SUITE-$ARCH.tar
T0=$(date +%s)
step() { echo "=== [$(($(date +%s) - T0))s] $*"; }

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
[ "$ARCH" = amd64 ] || command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# arm64 maintainer scripts are arm64 programs run by arm64 dpkg: every exec in the
# root must be emulated, so the kernel needs qemu-user-static's binfmt handler
# (F flag: it works inside a chroot). Registered here if missing.
if [ "$ARCH" = arm64 ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
fi
if [ ! -f "$ROOTFS" ]; then
  step "debootstrap $SUITE $ARCH (once; cached in $ROOTFS)"
  B=$(mktemp -d /tmp/tidegate-debootstrap-XXXXXX)
  debootstrap --arch="$ARCH" --variant=minbase --include=systemd,udev,libstdc++6,passwd \
    "$SUITE" "$B/root" "$MIRROR" >"$B/log" 2>&1 || { tail -30 "$B/log"; exit 1; }
  mkdir -p "$CACHE" && tar -C "$B/root" -cf "$ROOTFS.tmp" . && mv "$ROOTFS.tmp" "$ROOTFS"
  rm -rf "$B"
fi

ROOTS=()
cleanup_roots() {
  for r in "${ROOTS[@]}"; do
    umount "$r/proc" 2>/dev/null || true
    rm -rf "$r"
  done
}
trap cleanup_roots EXIT
# new_root: a fresh copy of the cached root with /proc mounted; prints its path
new_root() {
  local r
  r=$(mktemp -d /tmp/tidegate-debroot-XXXXXX)
  tar -C "$r" -xf "$ROOTFS"
  mount -t proc proc "$r/proc"
  echo "$r"
}
# run_in ROOT CMD...: a clean environment: nothing of the host (NODE_EXTRA_CA_CERTS, PATH, ...) leaks in
run_in() {
  local r=$1
  shift
  chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}

PASS=0 FAIL=0
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then
    PASS=$((PASS + 1)) && echo "PASS $1: $3"
  else
    FAIL=$((FAIL + 1)) && echo "FAIL $1: expected '$2', got '$3'"
  fi
}
