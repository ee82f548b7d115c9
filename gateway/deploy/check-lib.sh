# Shared by deb-install-check.sh and image-hooks-check.sh (sourced, not run):
# binfmt for arm64, the cached debootstrap root, fresh roots, check().
# Needs DEB set; sets ARCH, CACHE, ROOTFS.
ARCH=$(dpkg-deb -f "$DEB" Architecture)
CACHE=${TIDEGATE_CACHE:-$HOME/.cache/tidegate-deploy}
SUITE=bookworm
ROOTFS=$CACHE/debootstrap-$SUITE-$ARCH.tar
T0=$(date +%s)
step() { echo "=== [$(($(date +%s) - T0))s] $*"; }

if [ ! -f "$ROOTFS" ]; then
  step "debootstrap $SUITE $ARCH (once; cached in $ROOTFS)"
  bash "$(dirname "${BASH_SOURCE[0]}")/debootstrap-cache.sh" "$ARCH"
fi
# arm64 maintainer scripts are arm64 programs run by arm64 dpkg: the kernel needs
# qemu's binfmt handler (debootstrap-cache.sh registers it; a reboot drops it)
if [ "$ARCH" = arm64 ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
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
