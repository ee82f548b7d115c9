#!/usr/bin/env bash
# Smoke test of a built .deb's files without installing it: extracts the package,
# then runs test/deploy/smoke.ts (compiled) against /opt/tidegate inside it.
# arm64 runs under qemu-aarch64-static -L /usr/aarch64-linux-gnu (no binfmt needed).
# Usage: bash gateway/deploy/smoke-test.sh dist/deploy/tidegate_<version>_<arch>.deb
set -euo pipefail
DEB=$(readlink -f "${1:?usage: smoke-test.sh <deb>}")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
ARCH=$(dpkg-deb -f "$DEB" Architecture)
command -v socat >/dev/null || { apt-get update -qq && apt-get install -y -qq socat >/dev/null; }
if [ "$ARCH" = arm64 ] && ! command -v qemu-aarch64-static >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross >/dev/null
fi
[ -f "$REPO/dist/test/deploy/smoke.js" ] || (cd "$REPO" && npx tsc -p tsconfig.json)
X=$(mktemp -d /tmp/tidegate-smoke-root-XXXXXX)
trap 'rm -rf "$X"' EXIT
dpkg-deb -x "$DEB" "$X"
# the whole check is bounded: a hung emulator must fail CI, not stall it
timeout 300 node "$REPO/dist/test/deploy/smoke.js" "$X" "$ARCH"
